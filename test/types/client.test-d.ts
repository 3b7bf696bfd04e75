import { describe, expectTypeOf, it } from 'vitest';
import type { ConnectionState, MessageData, TetherError } from '../../client/index.js';
import { jsonCodec, WebSocketClient } from '../../client/index.js';

interface ServerMsg {
  kind: 'chat';
  text: string;
}
interface ClientMsg {
  type: 'say';
  text: string;
}

describe('WebSocketClient types', () => {
  const client = new WebSocketClient<ServerMsg, ClientMsg>('ws://example.com/', { codec: jsonCodec() });

  it('gives message listeners the In type', () => {
    client.on('message', (m) => {
      expectTypeOf(m).toEqualTypeOf<ServerMsg>();
    });
  });

  it('defaults In to what a browser WebSocket delivers', () => {
    new WebSocketClient('ws://example.com/').on('message', (m) => {
      expectTypeOf(m).toEqualTypeOf<MessageData>();
    });
  });

  it('types each event payload', () => {
    client.on('reconnecting', (r) => {
      expectTypeOf(r.attempt).toEqualTypeOf<number>();
      expectTypeOf(r.delay).toEqualTypeOf<number>();
    });
    client.on('error', (e) => expectTypeOf(e).toEqualTypeOf<TetherError>());
    client.on('state', (s) => expectTypeOf(s.to).toEqualTypeOf<ConnectionState>());
    client.on('drop', (d) => expectTypeOf(d.data).toEqualTypeOf<ClientMsg>());
    client.on('close', (c) => expectTypeOf(c.willReconnect).toEqualTypeOf<boolean>());
    expectTypeOf(client.on('open', () => {})).toEqualTypeOf<() => void>();
    expectTypeOf(client.send).returns.toEqualTypeOf<boolean>();
    expectTypeOf(client.open()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(client.state).toEqualTypeOf<ConnectionState>();
  });

  it('rejects an unknown event name', () => {
    // @ts-expect-error: "reconnected" is not an event
    client.on('reconnected', () => {});
  });

  it('rejects send() of a value that is not Out', () => {
    client.send({ type: 'say', text: 'hi' });
    // @ts-expect-error: a number is not ClientMsg
    client.send(42);
    // @ts-expect-error: wrong discriminant
    client.send({ type: 'shout', text: 'hi' });
  });

  it('rejects a reconnecting listener that reads a field the payload lacks', () => {
    // @ts-expect-error: the payload has attempt and delay, no "retries"
    client.on('reconnecting', ({ retries }) => retries);
  });

  it('rejects a message listener expecting another type', () => {
    // @ts-expect-error: messages are ServerMsg, not number
    client.on('message', (m: number) => m);
  });
});
