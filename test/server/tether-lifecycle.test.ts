// How sessions end (docs/protocol.md §7): resume window expiry, buffer overflow, bye, close() on
// either side, and the adapter's own close(); every end reports what was not acknowledged, and
// every timer is released.
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { type SessionLost, TetherServerError, type TetherSession } from '../../adapter/index.js';
import { waitFor } from '../helpers/next-event.js';
import { acknowledge, only, serve, teardown } from '../helpers/tether-server.js';
import { hello, textMessage } from '../helpers/tether-wire.js';

afterEach(teardown);

const lostOf = (session: TetherSession) => waitFor<SessionLost>(session, 'lost', { timeoutMs: 2000 });

describe('tether adapter: session end', () => {
  it('expires a detached session after resumeWindow: lost "expired" with the undelivered, resumed false after', async () => {
    const server = await serve({ resumeWindow: 80 });
    const { peer } = await server.connect('expiring');
    const session = only(server.sessions);
    session.send('seen and acked');
    session.send('seen, not acked');
    await peer.until(() => peer.messages().length === 2, '2 messages');
    await acknowledge(peer, 1);
    peer.terminate();
    await waitFor(session, 'detach', { timeoutMs: 2000 });
    session.send(Buffer.from([1])); // sent while away
    const lost = lostOf(session);
    expect(server.tether.sessions).toBe(1);
    expect(await lost).toEqual({ reason: 'expired', undelivered: ['seen, not acked', Buffer.from([1])] });
    expect(session.state).toBe('ended');
    expect(server.tether.sessions).toBe(0);

    const { welcome } = await server.connect('expiring', 2);
    expect(welcome).toMatchObject({ resumed: false, recv: 0 });
    expect(server.sessions).toHaveLength(2);
  });

  it('expires exactly resumeWindow ms after the disconnect, and a resume stops the clock', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const server = await serve({ resumeWindow: 1000 });
    const { peer } = await server.connect('window');
    const session = only(server.sessions);
    const reports: SessionLost[] = [];
    session.on('lost', (report) => reports.push(report));
    const drop = async (target: typeof peer) => {
      const detached = waitFor(session, 'detach', { timeoutMs: 2000 });
      target.terminate();
      await detached;
    };

    await drop(peer);
    await vi.advanceTimersByTimeAsync(999);
    const { peer: back, welcome } = await server.connect('window');
    expect(welcome.resumed).toBe(true);
    await vi.advanceTimersByTimeAsync(5000); // attached: no window runs
    expect(reports).toEqual([]);
    expect(session.state).toBe('attached');

    await drop(back); // a new disconnect starts a full window again
    await vi.advanceTimersByTimeAsync(999);
    expect(reports).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(reports).toEqual([{ reason: 'expired', undelivered: [] }]);
  });

  it('ends a session with its connection when resumeWindow is 0', async () => {
    const server = await serve({ resumeWindow: 0 });
    const { peer, welcome } = await server.connect('no-window');
    expect(welcome.window).toBe(0);
    const session = only(server.sessions);
    session.send('pending');
    const lost = lostOf(session);
    peer.terminate();
    expect(await lost).toEqual({ reason: 'expired', undelivered: ['pending'] });
  });

  it('on buffer overflow (messages) reports "overflow" with every unacked message and closes 1008', async () => {
    const server = await serve({ maxBufferedMessages: 3 });
    const { peer } = await server.connect('flood');
    const session = only(server.sessions);
    const reports: SessionLost[] = [];
    session.on('lost', (report) => reports.push(report));
    for (const text of ['1', '2', '3', '4']) session.send(text);
    expect(reports).toEqual([{ reason: 'overflow', undelivered: ['1', '2', '3', '4'] }]);
    expect(await peer.closed).toEqual({ code: 1008, reason: 'Session buffer full' });
    // Bye first, so the client knows not to resume: the session is gone.
    expect(peer.frames.slice(1).map((frame) => (frame.type === 'message' ? frame.data : frame.type))).toEqual(
      ['1', '2', '3', 'bye'],
    );
    expect(server.tether.sessions).toBe(0);
    expect(() => session.send('5')).toThrow(
      new TetherServerError(
        'SESSION_ENDED',
        'Cannot send on session "flood": it has ended (see its "lost" event).',
      ),
    );
  });

  it('counts payload bytes against maxBufferedBytes, and acks make room', async () => {
    const server = await serve({ maxBufferedBytes: 4 });
    const { peer } = await server.connect('bytes');
    const session = only(server.sessions);
    session.send('ab');
    session.send(Buffer.from([1, 2]));
    await peer.until(() => peer.messages().length === 2, '2 messages');
    await acknowledge(peer, 2);
    session.send('éé'); // 4 bytes of UTF-8: fits again
    const lost = lostOf(session);
    session.send('!');
    expect(await lost).toEqual({ reason: 'overflow', undelivered: ['éé', '!'] });
  });

  it('overflows while detached too, without a connection to close', async () => {
    const server = await serve({ maxBufferedMessages: 1 });
    const { peer } = await server.connect('away');
    const session = only(server.sessions);
    peer.terminate();
    await waitFor(session, 'detach', { timeoutMs: 2000 });
    session.send('kept');
    const lost = lostOf(session);
    session.send('one too many');
    expect(await lost).toEqual({ reason: 'overflow', undelivered: ['kept', 'one too many'] });
  });

  it('discards the session at once on bye: lost "closed", and the next hello starts over', async () => {
    const server = await serve();
    const { peer } = await server.connect('bye');
    const session = only(server.sessions);
    session.send('unacked');
    const lost = lostOf(session);
    peer.send('x');
    expect(await lost).toEqual({ reason: 'closed', undelivered: ['unacked'] });
    expect((await peer.closed).code).toBe(1000);
    const { welcome } = await server.connect('bye', 0);
    expect(welcome).toMatchObject({ resumed: false });
  });

  it('session.close() acknowledges what it received, sends bye, closes 1000 and reports "closed"', async () => {
    const server = await serve({ ackDelay: 10_000 });
    const { peer } = await server.connect('server-ends');
    const session = only(server.sessions);
    peer.send(textMessage(1, 'received'));
    await waitFor(session, 'message', { timeoutMs: 2000 });
    session.send('unacked');
    const lost = lostOf(session);
    session.close();
    expect(await lost).toEqual({ reason: 'closed', undelivered: ['unacked'] });
    expect(await peer.closed).toEqual({ code: 1000, reason: 'Session closed' });
    expect(peer.frames.slice(1)).toEqual([
      { type: 'message', seq: 1, data: 'unacked', isBinary: false },
      { type: 'ack', seq: 1 },
      { type: 'bye' },
    ]);
    session.close(); // idempotent
  });

  it('close() ends every session with 1001, reports them, and releases every timer', async () => {
    // Only timers started from here on are counted: the adapter's, ws's, and the waits' own.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const server = await serve({ ackDelay: 60_000, resumeWindow: 60_000, helloTimeout: 60_000 });
    const { peer: attached } = await server.connect('attached'); // will hold an ack timer
    const first = only(server.sessions);
    const delivered = waitFor(first, 'message', { timeoutMs: 2000 });
    attached.send(textMessage(1, 'ack me later'));
    await delivered;
    const { peer: leaving } = await server.connect('detached'); // will hold a resume timer
    const pending = await server.open('pending'); // holds a hello timer
    const second = server.sessions[1];
    if (!second) throw new Error('expected a second session');
    second.send('never acked');
    leaving.terminate();
    await waitFor(second, 'detach', { timeoutMs: 2000 });
    // The adapter holds exactly its three timers: an ack timer, a resume window, a hello timeout.
    expect(vi.getTimerCount()).toBe(3);

    const reports: Array<[string, SessionLost]> = [];
    for (const session of server.sessions) session.on('lost', (report) => reports.push([session.id, report]));
    server.tether.close();
    expect(reports).toEqual([
      ['attached', { reason: 'closed', undelivered: [] }],
      ['detached', { reason: 'closed', undelivered: ['never acked'] }],
    ]);
    expect(server.tether.sessions).toBe(0);
    expect(await attached.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    expect(attached.acks()).toEqual([1]); // what was received is acknowledged before closing
    expect(await pending.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    await Promise.all([attached.closed, pending.closed, leaving.closed]);
    await teardown();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends a listener error to the "error" event and keeps delivering', async () => {
    const server = await serve();
    const errors: unknown[] = [];
    server.tether.on('error', (error) => errors.push(error));
    const { peer } = await server.connect('faulty');
    const session = only(server.sessions);
    const received: unknown[] = [];
    session.on('message', () => {
      throw new Error('listener bug');
    });
    session.on('message', (data) => received.push(data));
    peer.send(textMessage(1, 'a'));
    peer.send(textMessage(2, 'b'));
    await peer.until((frames) => frames.some((f) => f.type === 'ack' && f.seq === 2), 'ack of 2');
    expect(received).toEqual(['a', 'b']);
    expect(errors).toEqual([new Error('listener bug'), new Error('listener bug')]);
  });

  it('rejects send() of something that is not a string or binary data', async () => {
    const server = await serve();
    await server.connect('types');
    const session = only(server.sessions);
    const attempt = () => session.send(42 as never);
    expect(attempt).toThrow(TetherServerError);
    expect(attempt).toThrow(
      'session.send(): got number; expected a string, Buffer, ArrayBuffer or Uint8Array.',
    );
  });

  it('keeps sessions apart: a hello only ever resumes its own sid', async () => {
    const server = await serve();
    const { peer: a } = await server.connect('a');
    const b = await server.open('b');
    b.send(hello('b', 0));
    expect(await b.next()).toMatchObject({ sid: 'b', resumed: false });
    expect(server.sessions.map((session) => session.id)).toEqual(['a', 'b']);
    a.send('__ping__');
    expect(await a.next()).toEqual({ type: 'pong' });
  });
});
