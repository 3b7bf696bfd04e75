// The delivery seam (client/delivery.ts): a mode is one layer object, and the supervisor does not
// change for it. This test writes a second mode here, a toy "greeting" protocol (the client says
// `hi`, the server answers `ok`, messages go as `>payload` / come as `<payload`), and checks the
// supervisor treats it as it treats exactly-once: `open` only after the layer says so, frames on
// the wire, payloads to listeners, the layer's held messages counted in `queued`.
import { describe, expect, it } from 'vitest';
import type { Delivery, DeliveryHost, DeliveryLayer, Held } from '../../client/index.js';
import { WebSocketClient } from '../../client/index.js';
import {
  advance,
  MOCK_DELAY,
  mockOptions,
  mockServer,
  recordEvents,
  TEST_URL,
  useMockClock,
} from '../helpers/fake-network.js';

useMockClock();

function greeting(): Delivery & { hosts: Array<DeliveryHost<unknown>>; held: Held & { length: number } } {
  const held = { length: 0, bytes: 0 };
  const hosts: Array<DeliveryHost<unknown>> = [];
  return {
    hosts,
    held,
    layer<Out>(host: DeliveryHost<Out>): DeliveryLayer<Out> {
      hosts.push(host as DeliveryHost<unknown>);
      return {
        held,
        ended: () => {},
        connect: (url, options, events, inner) => {
          let greeted = false;
          const connection = inner(
            `${url}?greeting=1`,
            { ...options, protocols: ['greeting'] },
            {
              ...events,
              open: () => connection.socket.send('hi'),
              message: (data) => {
                if (!greeted && data === 'ok') {
                  greeted = true;
                  events.open();
                } else if (greeted && typeof data === 'string' && data.startsWith('<')) {
                  events.message(data.slice(1));
                }
              },
            },
          );
          return {
            ...connection,
            send: (message) => {
              held.length++;
              connection.socket.send(`>${message.wire}`);
            },
          };
        },
      };
    },
  };
}

describe('a delivery mode as a layer (client/delivery.ts)', () => {
  it('opens after the layer says so, frames what is written and unframes what arrives', async () => {
    const mock = mockServer(`${TEST_URL}?greeting=1`);
    const mode = greeting();
    const client = new WebSocketClient<string, string>(TEST_URL, { ...mockOptions(), delivery: mode });
    const events = recordEvents(client);
    client.send('queued before open');
    client.open();
    await advance(MOCK_DELAY);
    // The socket is open, but the layer's handshake is not done: still connecting, nothing flushed.
    expect(client.state).toBe('connecting');
    await advance(MOCK_DELAY);
    expect(mock.received).toEqual(['hi']);
    mock.emit('ok');
    expect(client.state).toBe('open');
    expect(client.send('now')).toBe(true);
    await advance(MOCK_DELAY);
    expect(mock.received).toEqual(['hi', '>queued before open', '>now']);
    expect(client.queued).toBe(2); // what the layer holds counts
    mock.emit('<hello');
    mock.emit('not framed');
    expect(events.filter((event) => event.startsWith('message'))).toEqual(['message:hello']);
    expect(events.slice(0, 3)).toEqual(['state:idle>connecting', 'state:connecting>open', 'open']);
    expect(mode.hosts).toHaveLength(1);
    await Promise.all([client.close(), advance(MOCK_DELAY)]);
  });
});
