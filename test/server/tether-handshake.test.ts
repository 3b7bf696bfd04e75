// The adapter's handshake (docs/protocol.md §2, §4): negotiation, hello/welcome, new vs resumed
// sessions, takeover, heartbeat, and the protocol errors that close with 1002.
import { afterEach, describe, expect, it } from 'vitest';
import { handleProtocols, TETHER_PROTOCOL } from '../../adapter/index.js';
import { waitFor } from '../helpers/next-event.js';
import { acknowledge, only, serve, teardown } from '../helpers/tether-server.js';
import { hello, textMessage } from '../helpers/tether-wire.js';

afterEach(teardown);

describe('tether adapter: handshake', () => {
  it('starts a new session: welcome with resumed false, recv 0 and the window, then a "session" event', async () => {
    const server = await serve({ resumeWindow: 5000 });
    const { peer, welcome } = await server.connect('new-1', 0);
    expect(peer.socket.protocol).toBe('tether.v1');
    expect(welcome).toEqual({
      type: 'welcome',
      sid: 'new-1',
      recv: 0,
      resumed: false,
      window: 5000,
      extra: [],
    });
    expect(server.sessions.map((session) => [session.id, session.state])).toEqual([['new-1', 'attached']]);
    expect(server.tether.sessions).toBe(1);
  });

  it('ignores the recv of a hello for a session it does not hold (a client coming back after a restart)', async () => {
    const server = await serve();
    const { welcome } = await server.connect('after-restart', 41);
    expect(welcome).toMatchObject({ recv: 0, resumed: false });
  });

  it('resumes a session on a new connection: resumed true, its recv, and no second "session" event', async () => {
    const server = await serve();
    const { peer } = await server.connect('resume-1');
    const received: string[] = [];
    server.sessions[0]?.on('message', (data) => received.push(String(data)));
    peer.send(textMessage(1, 'one'));
    peer.send(textMessage(2, 'two'));
    await peer.until((frames) => frames.some((f) => f.type === 'ack' && f.seq === 2), 'ack of 2');
    peer.terminate();
    const session = only(server.sessions);
    await waitFor(session, 'detach', { timeoutMs: 2000 });
    expect(server.sessions[0]?.state).toBe('detached');

    const { welcome } = await server.connect('resume-1', 0);
    expect(welcome).toMatchObject({ sid: 'resume-1', recv: 2, resumed: true });
    expect(server.sessions).toHaveLength(1);
    expect(server.sessions[0]?.state).toBe('attached');
    expect(received).toEqual(['one', 'two']);
  });

  it('takes a session over from a connection still attached: the old one is closed with 4001', async () => {
    const server = await serve();
    const { peer: first } = await server.connect('taken');
    const { peer: second, welcome } = await server.connect('taken');
    expect(welcome).toMatchObject({ resumed: true });
    expect(await first.closed).toEqual({ code: 4001, reason: 'Session taken over' });
    // The session now lives on the second connection only.
    second.send(textMessage(1, 'via second'));
    const session = only(server.sessions);
    expect(await waitFor<string>(session, 'message', { timeoutMs: 2000 })).toBe('via second');
  });

  it('answers __ping__ with __pong__, before and after the hello, without sequencing it', async () => {
    const server = await serve();
    const peer = await server.open('pinger');
    peer.send('__ping__');
    expect(await peer.next()).toEqual({ type: 'pong' });
    peer.send(hello('pinger', 0));
    expect(await peer.next()).toMatchObject({ type: 'welcome' });
    peer.send('__ping__');
    expect(await peer.next()).toEqual({ type: 'pong' });
    peer.send('__pong__'); // not an error, just ignored
    peer.send(textMessage(1, 'after'));
    expect(await peer.next()).toEqual({ type: 'ack', seq: 1 });
  });

  it('selects tether.v1 only when offered (handleProtocols)', () => {
    expect(handleProtocols(new Set(['chat', 'tether.v1']))).toBe(TETHER_PROTOCOL);
    expect(handleProtocols(new Set(['chat']))).toBe(false);
  });

  it('closes with 1002 a connection that did not negotiate tether.v1', async () => {
    const server = await serve();
    const errors: string[] = [];
    server.tether.on('protocol-error', ({ reason }) => errors.push(reason));
    const peer = await server.open('plain', { protocols: [] });
    expect(await peer.closed).toEqual({ code: 1002, reason: 'tether.v1 not negotiated' });
    expect(errors).toEqual(['tether.v1 not negotiated']);
  });

  it.each([
    ['a message before the hello', [textMessage(1, 'early')], 'message frame before hello'],
    ['an ack before the hello', ['a0'], 'ack frame before hello'],
    ['a bye before the hello', ['x'], 'bye frame before hello'],
    ['an unknown frame type', [hello('p', 0), 'q'], 'unknown frame type "q"'],
    ['a second hello', [hello('p', 0), hello('p', 0)], 'second hello on one connection'],
    ['a malformed message', [hello('p', 0), 'm01:x'], 'malformed message frame'],
    ['a gap in the sequence', [hello('p', 0), textMessage(2, 'skipped 1')], 'gap in message seq'],
    ['an ack of a seq never sent', [hello('p', 0), 'a1'], 'ack beyond last sent seq'],
    ['a welcome (server → client only)', ['w{"v":1}'], 'unknown frame type "w"'],
  ])('closes with 1002 on %s', async (_name, frames, reason) => {
    const server = await serve();
    const errors: Array<{ reason: string }> = [];
    server.tether.on('protocol-error', (info) => errors.push(info));
    const peer = await server.open('p');
    for (const frame of frames) peer.send(frame);
    expect(await peer.closed).toEqual({ code: 1002, reason });
    expect(errors.map((error) => error.reason)).toEqual([reason]);
  });

  it('closes with 1002 a hello whose sid differs from the tether_sid query parameter', async () => {
    const server = await serve();
    const peer = await server.open('one', { querySid: 'other' });
    peer.send(hello('one', 0));
    expect(await peer.closed).toEqual({ code: 1002, reason: 'hello sid differs from tether_sid' });
    expect(server.tether.sessions).toBe(0);
  });

  // Before: a hello without `tether_sid` was accepted, so an application that checked the query
  // parameter against its user was bypassed by leaving it out.
  it('closes with 1002 a hello without the tether_sid query parameter when the request is given', async () => {
    const server = await serve();
    const peer = await server.open('no-query', { querySid: null });
    peer.send(hello('no-query', 0));
    expect(await peer.closed).toEqual({ code: 1002, reason: 'hello sid differs from tether_sid' });
    expect(server.tether.sessions).toBe(0);
  });

  it('closes with 1002 a connection that sends no hello within helloTimeout', async () => {
    const server = await serve({ helloTimeout: 50 });
    const peer = await server.open('silent');
    expect(await peer.closed).toEqual({ code: 1002, reason: 'no hello within 50 ms' });
  });

  it('refuses a resume with an impossible recv and leaves the session as it was', async () => {
    const server = await serve();
    const { peer: first } = await server.connect('strict');
    server.sessions[0]?.send('only one');
    await first.until((frames) => frames.some((f) => f.type === 'message'), 'message 1');
    const intruder = await server.open('strict');
    intruder.send(hello('strict', 2));
    // The reason names no number: before, "hello recv 2 outside 0..1" told a caller what to send.
    expect(await intruder.closed).toEqual({ code: 1002, reason: 'hello recv refused' });
    // The first connection is still attached and working.
    expect(server.sessions[0]?.state).toBe('attached');
    await acknowledge(first, 1);
  });

  it('keeps a session through a protocol error: the client resumes on a new connection', async () => {
    const server = await serve();
    const { peer } = await server.connect('survivor');
    peer.send(textMessage(1, 'kept'));
    peer.send(textMessage(3, 'gap'));
    expect((await peer.closed).code).toBe(1002);
    const { welcome } = await server.connect('survivor', 0);
    expect(welcome).toMatchObject({ resumed: true, recv: 1 });
  });

  it('closes connections with 1001 after close()', async () => {
    const server = await serve();
    server.tether.close();
    const peer = await server.open('late');
    expect(await peer.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
  });
});
