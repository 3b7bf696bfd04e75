// The adapter's delivery (docs/protocol.md §3, §5): exactly once and in order in both directions,
// text as text and binary as binary, batched acks, resends of only what is unacknowledged.
import { afterEach, describe, expect, it } from 'vitest';
import type { TetherSession } from '../../adapter/index.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';
import { acknowledge, only, serve, teardown } from '../helpers/tether-server.js';
import { binaryMessage, textMessage } from '../helpers/tether-wire.js';

afterEach(teardown);

function record(session: TetherSession): Array<[string | Buffer, boolean]> {
  const received: Array<[string | Buffer, boolean]> = [];
  session.on('message', (data, isBinary) => received.push([data, isBinary]));
  return received;
}

describe('tether adapter: client → server', () => {
  it('delivers text as strings and binary as Buffers, in order', async () => {
    const server = await serve();
    const { peer } = await server.connect('kinds');
    const received = record(only(server.sessions));
    peer.send(textMessage(1, 'héllo:x'));
    peer.send(binaryMessage(2, new Uint8Array([0, 1, 255])));
    peer.send(textMessage(3, ''));
    await waitUntil(() => received.length === 3, { timeoutMs: 2000, message: '3 messages' });
    expect(received).toEqual([
      ['héllo:x', false],
      [Buffer.from([0, 1, 255]), true],
      ['', false],
    ]);
  });

  it('drops duplicates: a resend of an already delivered seq is not delivered again', async () => {
    const server = await serve();
    const { peer } = await server.connect('dups');
    const received = record(only(server.sessions));
    for (const [seq, text] of [
      [1, 'a'],
      [2, 'b'],
      [1, 'a again'],
      [2, 'b again'],
      [3, 'c'],
    ] as const) {
      peer.send(textMessage(seq, text));
    }
    await peer.until((frames) => frames.some((f) => f.type === 'ack' && f.seq === 3), 'ack of 3');
    expect(received.map(([data]) => data)).toEqual(['a', 'b', 'c']);
  });

  it('acknowledges 100 messages with at most ceil(100 / 32) + 2 acks, the last one a100', async () => {
    const server = await serve();
    const { peer } = await server.connect('batch');
    for (let seq = 1; seq <= 100; seq += 1) peer.send(textMessage(seq, `n${seq}`));
    await peer.until((frames) => frames.some((f) => f.type === 'ack' && f.seq === 100), 'ack of 100');
    const acks = peer.acks();
    expect(acks.length).toBeLessThanOrEqual(Math.ceil(100 / 32) + 2);
    expect(acks).toEqual([...acks].sort((a, b) => a - b));
    expect(acks.at(-1)).toBe(100);
  });

  it('acknowledges a lone message after ackDelay, and a batch of ackBatch at once', async () => {
    const server = await serve({ ackBatch: 4, ackDelay: 30 });
    const { peer } = await server.connect('delay');
    peer.send(textMessage(1, 'lone'));
    const started = performance.now();
    expect(await peer.next()).toEqual({ type: 'ack', seq: 1 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(25); // not before the delay (timer slack)
    for (let seq = 2; seq <= 5; seq += 1) peer.send(textMessage(seq, 'x'));
    expect(await peer.next(20)).toEqual({ type: 'ack', seq: 5 }); // the 4th unacknowledged one: at once
  });

  it('tells a resuming client what it received (welcome recv) so it resends only the rest', async () => {
    const server = await serve();
    const { peer } = await server.connect('resend-in');
    const received = record(only(server.sessions));
    peer.send(textMessage(1, 'a'));
    peer.send(textMessage(2, 'b'));
    await waitUntil(() => received.length === 2, { timeoutMs: 2000, message: '2 messages' });
    peer.terminate();
    const { peer: again, welcome } = await server.connect('resend-in', 0);
    expect(welcome.recv).toBe(2);
    again.send(textMessage(3, 'c'));
    await waitUntil(() => received.length === 3, { timeoutMs: 2000, message: '3 messages' });
    expect(received.map(([data]) => data)).toEqual(['a', 'b', 'c']);
  });
});

describe('tether adapter: server → client', () => {
  it('sends text frames for strings and 5-byte-header binary frames for binary data', async () => {
    const server = await serve();
    const { peer } = await server.connect('out');
    const session = only(server.sessions);
    session.send('text:1');
    session.send(Buffer.from([7, 8]));
    session.send(new Uint8Array([9]).buffer);
    session.send(new Uint8Array([1, 2, 3]).subarray(1));
    await peer.until((frames) => frames.length === 5, '4 messages after the welcome');
    expect(peer.messages()).toEqual([
      { type: 'message', seq: 1, data: 'text:1', isBinary: false },
      { type: 'message', seq: 2, data: Buffer.from([7, 8]), isBinary: true },
      { type: 'message', seq: 3, data: Buffer.from([9]), isBinary: true },
      { type: 'message', seq: 4, data: Buffer.from([2, 3]), isBinary: true },
    ]);
  });

  it('echoes through a session with the kind preserved (the /reliable handler)', async () => {
    const server = await serve();
    server.tether.on('session', (session) => session.on('message', (data) => session.send(data)));
    const { peer } = await server.connect('echo');
    peer.send(textMessage(1, 'ping?'));
    peer.send(binaryMessage(2, new Uint8Array([42])));
    await peer.until((frames) => peer.messages().length === 2 && frames.length > 0, 'two echoes');
    expect(peer.messages()).toEqual([
      { type: 'message', seq: 1, data: 'ping?', isBinary: false },
      { type: 'message', seq: 2, data: Buffer.from([42]), isBinary: true },
    ]);
  });

  it('after a reconnect resends only what the client has not acknowledged, in order', async () => {
    const server = await serve();
    const { peer } = await server.connect('resend-out');
    const session = only(server.sessions);
    for (let n = 1; n <= 10; n += 1) session.send(`s${n}`);
    await peer.until(() => peer.messages().length === 10, '10 messages');
    await acknowledge(peer, 4); // acknowledged 1..4 explicitly...
    peer.terminate();
    await waitFor(session, 'detach', { timeoutMs: 2000 });
    session.send('s11'); // sent while detached: buffered

    // ...and received 1..6, which the hello says (an implicit ack).
    const { peer: again, welcome } = await server.connect('resend-out', 6);
    expect(welcome).toMatchObject({ resumed: true });
    await again.until(() => again.messages().length === 5, '5 resent messages');
    expect(again.messages().map((m) => [m.seq, m.data])).toEqual([
      [7, 's7'],
      [8, 's8'],
      [9, 's9'],
      [10, 's10'],
      [11, 's11'],
    ]);
  });

  it('drops acknowledged messages: a resume after a full ack resends nothing', async () => {
    const server = await serve();
    const { peer } = await server.connect('acked');
    const session = only(server.sessions);
    session.send('one');
    session.send('two');
    await peer.until(() => peer.messages().length === 2, '2 messages');
    await acknowledge(peer, 2);
    peer.terminate();
    const resumed = waitFor<{ resent: number }>(session, 'resume', { timeoutMs: 2000 });
    const { peer: again } = await server.connect('acked', 2);
    expect(await resumed).toEqual({ resent: 0 });
    session.send('three');
    expect(await again.next()).toEqual({ type: 'message', seq: 3, data: 'three', isBinary: false });
  });
});
