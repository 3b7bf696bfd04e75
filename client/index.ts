export type { CloseInfo } from './close.js';
export { CLOSE_CODES, NO_RETRY_CODES } from './close.js';
export type { Codec, MessageData, SendData } from './codec.js';
export { jsonCodec } from './codec.js';
export type { Connection } from './connection.js';
export type { TetherErrorCode, TetherErrorCodes } from './errors.js';
export { isTetherError, TetherError, TetherRangeError, TetherTypeError } from './errors.js';
export type { ClientEventMap, CloseEvent } from './events.js';
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
export type { DropReason, HeldMessages, QueuedMessage } from './queue.js';
export type { ConnectionState } from './state.js';
export type {
  Delivery,
  DeliveryHost,
  DeliveryMode,
  Dial,
  Retry,
  SocketSettings,
  Transport,
  TransportListener,
} from './transport.js';
export type { UrlProvider } from './url.js';
export { WebSocketClient } from './websocket-client.js';
