// The UMD bundle has no ES exports (in Node ESM this import throws), so its types must refuse it.
// @ts-expect-error: 'tether-ws/tether-ws.umd.js' exports nothing by name; use the global TetherWS.
export { WebSocketClient as NotExported } from 'tether-ws/tether-ws.umd.js';
