import { describe, expectTypeOf, it } from 'vitest';
import type { DropReason, SendData, TetherErrorCode } from '../../client/index.js';
import type { WebSocketCloseEvent, WebSocketMessageEvent } from '../../client/websocket/index.js';
import { TetherWebSocket } from '../../client/websocket/index.js';

describe('TetherWebSocket types', () => {
  it('is assignable where a WebSocket constructor is expected (y-websocket, graphql-ws, ...)', () => {
    const takesConstructor = (Impl: typeof WebSocket) => Impl;
    takesConstructor(TetherWebSocket);
    const asWebSocket: WebSocket = new TetherWebSocket('ws://example.com/');
    expectTypeOf(asWebSocket.readyState).toEqualTypeOf<number>();
  });

  it('types handlers and listeners with the DOM events, and `drop` with its payload', () => {
    const socket = new TetherWebSocket('ws://example.com/');
    socket.onmessage = (event) => expectTypeOf(event).toEqualTypeOf<WebSocketMessageEvent>();
    socket.onclose = (event) => expectTypeOf(event.code).toEqualTypeOf<number>();
    socket.addEventListener('close', (event) => expectTypeOf(event).toEqualTypeOf<WebSocketCloseEvent>());
    socket.addEventListener('error', (event) =>
      expectTypeOf(event.error?.code).toEqualTypeOf<TetherErrorCode | undefined>(),
    );
    socket.addEventListener('drop', (event) => {
      expectTypeOf(event.data).toEqualTypeOf<SendData>();
      expectTypeOf(event.reason).toEqualTypeOf<DropReason>();
    });
    socket.addEventListener('message', { handleEvent: (event: Event) => event });
  });

  it('accepts the peers’ option names and tether-ws’s, and no codec', () => {
    new TetherWebSocket('ws://example.com/', [], {
      minReconnectionDelay: 1000,
      heartbeat: true,
      startClosed: true,
    });
    // @ts-expect-error a WebSocket delivers raw data: there is no codec option
    new TetherWebSocket('ws://example.com/', [], { codec: { encode: String, decode: String } });
    // @ts-expect-error binaryType is "blob", "arraybuffer", or in Node "nodebuffer" / "fragments"
    new TetherWebSocket('ws://example.com/').binaryType = 'text';
    new TetherWebSocket('ws://example.com/').binaryType = 'nodebuffer';
    new TetherWebSocket('ws://example.com/', null, { debug: true, debugLogger: () => {} });
  });
});
