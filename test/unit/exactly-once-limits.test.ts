import { describe, expect, it } from 'vitest';
import { exactlyOnce, SESSION_PARAM, TETHER_PROTOCOL } from '../../client/exactly-once/index.js';
import type { QueueOptions } from '../../client/index.js';
import { WebSocketClient } from '../../client/index.js';
import { type FakeSocket, fakeWebSocket } from '../helpers/fake-socket.js';

/** An exactly-once client whose first socket has negotiated tether.v1 and received its welcome. */
function welcomedClient(queue: QueueOptions) {
  const { WebSocket, sockets } = fakeWebSocket();
  const client = new WebSocketClient<unknown, string>('ws://tether.test/live', {
    WebSocket,
    delivery: exactlyOnce(),
    watchNetwork: false,
    queue,
  });
  const events: string[] = [];
  client.on('drop', ({ data, reason }) => events.push(`drop:${data}:${reason}`));
  void client.open();
  const socket = sockets[0] as FakeSocket;
  socket.protocol = TETHER_PROTOCOL;
  socket.serverOpen();
  const sid = new URL(socket.url).searchParams.get(SESSION_PARAM);
  socket.serverMessage(`w${JSON.stringify({ v: 1, sid, recv: 0, resumed: false })}`);
  return { client, socket, events };
}

describe('exactly-once and the queue limits', () => {
  it('counts written, unacknowledged messages against maxMessages, and never evicts them', () => {
    const { client, socket, events } = welcomedClient({ maxMessages: 2, overflow: 'drop-oldest' });
    expect([client.send('a'), client.send('b')]).toEqual([true, true]);
    expect(client.queued).toBe(2);
    // Both are written and held for a resend: the third does not fit, and nothing written is evicted.
    expect(client.send('c')).toBe(false);
    expect(events).toEqual(['drop:c:queue-full']);
    expect(socket.sent.filter((frame) => String(frame).startsWith('m'))).toEqual(['m1:a', 'm2:b']);
    socket.serverMessage('a2'); // the server acknowledges both: room again
    expect(client.queued).toBe(0);
    expect(client.send('d')).toBe(true);
    expect(socket.sent.at(-1)).toBe('m3:d');
  });

  it("throws QUEUE_FULL with overflow 'throw' when held messages fill maxBytes", () => {
    const { client } = welcomedClient({ maxBytes: 4, overflow: 'throw' });
    expect(client.send('abcd')).toBe(true);
    expect(() => client.send('e')).toThrow(/^Queue full: 1 messages, 4 bytes$/);
  });
});
