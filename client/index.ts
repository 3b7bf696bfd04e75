export type { CloseInfo } from './close.js';
export { NO_RETRY_CODES } from './close.js';
export type { Codec, MessageData, SendData } from './codec.js';
export { jsonCodec } from './codec.js';
export type { Connect, Connection, ConnectionEvents, ConnectionOptions } from './connection.js';
export type { Delivery, DeliveryHost, DeliveryLayer, DeliverySnapshot } from './delivery.js';
export type { TetherErrorCode } from './errors.js';
export { isTetherError, TetherError, TetherRangeError, TetherTypeError } from './errors.js';
export type { ClientEventInfo, ClientEventMap, CloseEvent, MessageInfo } from './events.js';
export type {
  ClientOptions,
  HeartbeatOptions,
  QueueOptions,
  ReconnectOptions,
  SocketBinaryType,
  WebSocketConstructor,
  WebSocketLike,
} from './options.js';
export { DEFAULT_OPTIONS } from './options.js';
export type { DropReason, Held, QueuedMessage } from './queue.js';
export type { ConnectionState } from './state.js';
export type { UrlProvider } from './url.js';
export { WebSocketClient } from './websocket-client.js';
