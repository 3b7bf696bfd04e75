import type { SendData } from './codec.js';

/** What `binaryType` accepts in every environment (the DOM's `BinaryType`, without needing the DOM library). */
export type SocketBinaryType = 'blob' | 'arraybuffer';

/**
 * The part of a WebSocket the client uses. Written out rather than taken from the DOM library, so
 * that the browser's `WebSocket`, `ws`'s (Node) and test doubles all fit as they are typed, and a
 * project without the DOM library can read these types.
 */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: SendData): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'error' | 'close', listener: (event: unknown) => void): void;
  removeEventListener(type: 'open' | 'message' | 'error' | 'close', listener: (event: unknown) => void): void;
}

/** The `WebSocket` constructor to use: the browser's own, `ws`'s in Node, or a test double. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;
