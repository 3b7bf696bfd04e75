// `tether-ws/websocket`: a drop-in `WebSocket` on top of the core client, in its own entry so that
// pages that do not use it do not download it. Three names for one class, one per migration path:
// `import ReconnectingWebSocket from` (reconnecting-websocket, partysocket/ws), `import { WebSocket } from`
// (partysocket), and `TetherWebSocket` for code that uses it beside the global `WebSocket`.
export type { PeerOptions, TetherWebSocketOptions } from './options.js';
export { PEER_OPTIONS } from './options.js';
export type {
  DropEvent,
  TetherWebSocketEventMap,
  WebSocketCloseEvent,
  WebSocketErrorEvent,
  WebSocketMessageEvent,
} from './websocket.js';
export { TetherWebSocket, TetherWebSocket as WebSocket, TetherWebSocket as default } from './websocket.js';
