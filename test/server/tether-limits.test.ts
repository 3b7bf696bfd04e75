// Server-wide limits of the adapter (issue 12, point 1): what remote peers can make it hold is
// bounded (sessions held, bytes buffered across sessions, how fast one address creates sessions,
// how long a session that never acknowledged anything is kept), and reaching a limit is reported
// (`lost` with reason 'evicted', 1013 for the refused caller, `tether.stats`), never a crash.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_BACKLOG_AT_CLOSE } from '../../adapter/connection.js';
import type { SessionLost, TetherSession } from '../../adapter/index.js';
import { waitFor } from '../helpers/next-event.js';
import { acknowledge, serve, teardown } from '../helpers/tether-server.js';
import { hello } from '../helpers/tether-wire.js';

afterEach(teardown);

const lostOf = (session: TetherSession) => waitFor<SessionLost>(session, 'lost', { timeoutMs: 2000 });
const detachOf = (session: TetherSession) => waitFor(session, 'detach', { timeoutMs: 2000 });
const KIB = 'k'.repeat(1024);

describe('tether adapter: server-wide limits', () => {
  it('refuses a new session with 1013 when maxSessions are held and all attached; held ones untouched', async () => {
    const server = await serve({ maxSessions: 2 });
    const { peer: first } = await server.connect('one');
    await server.connect('two');
    const third = await server.open('three');
    third.send(hello('three', 0));
    expect(await third.closed).toEqual({ code: 1013, reason: 'Server busy, try again later' });
    expect(server.tether.sessions).toBe(2);
    expect(server.tether.stats.refused['max-sessions']).toBe(1);
    // The held sessions still work.
    server.sessions[0]?.send('still here');
    await first.until(() => first.messages().length === 1, 'a message on the first session');
  });

  it('ends the longest-detached session to admit a new one past maxSessions, reporting it as evicted', async () => {
    const server = await serve({ maxSessions: 2 });
    const { peer: old } = await server.connect('old');
    const { peer: newer } = await server.connect('newer');
    const [oldSession, newerSession] = server.sessions as [TetherSession, TetherSession];
    old.terminate();
    await detachOf(oldSession);
    newer.terminate();
    await detachOf(newerSession);
    oldSession.send('kept for the client');
    const lost = lostOf(oldSession);
    const { welcome } = await server.connect('newest');
    expect(welcome).toMatchObject({ resumed: false });
    expect(await lost).toEqual({ reason: 'evicted', undelivered: ['kept for the client'] });
    expect(newerSession.state).toBe('detached');
    expect(server.tether.stats).toMatchObject({ sessions: 2, ended: { evicted: 1 } });
  });

  it('keeps the bytes buffered across sessions within maxTotalBufferedBytes, detached sessions going first', async () => {
    const server = await serve({ maxTotalBufferedBytes: 10 * 1024 });
    const { peer: away } = await server.connect('away');
    const { peer: here } = await server.connect('here');
    const [awaySession, hereSession] = server.sessions as [TetherSession, TetherSession];
    away.terminate();
    await detachOf(awaySession);
    for (let i = 0; i < 6; i += 1) awaySession.send(KIB); // held while away: 6 KiB
    expect(server.tether.stats.bufferedBytes).toBe(6 * 1024);
    const lost = lostOf(awaySession);
    for (let i = 0; i < 6; i += 1) hereSession.send(KIB); // the 5th goes over 10 KiB
    const report = await lost;
    expect(report.reason).toBe('evicted');
    expect(report.undelivered).toHaveLength(6);
    expect(hereSession.state).toBe('attached');
    expect(server.tether.stats.bufferedBytes).toBe(6 * 1024);
    await here.until(() => here.messages().length === 6, 'six messages');
    await acknowledge(here, 6);
    expect(server.tether.stats.bufferedBytes).toBe(0);
  });

  it('ends the attached session holding the most when only attached sessions remain: bye, 1013, lost "evicted"', async () => {
    const server = await serve({ maxTotalBufferedBytes: 8 * 1024 });
    const { peer: hoarder } = await server.connect('hoarder');
    const { peer: modest } = await server.connect('modest');
    const [hoarderSession, modestSession] = server.sessions as [TetherSession, TetherSession];
    for (let i = 0; i < 6; i += 1) hoarderSession.send(KIB); // never acknowledged
    const lost = lostOf(hoarderSession);
    for (let i = 0; i < 3; i += 1) modestSession.send(KIB);
    expect((await lost).undelivered).toHaveLength(6);
    expect(await hoarder.closed).toEqual({ code: 1013, reason: 'Server over its limits, try again later' });
    expect(hoarder.frames.at(-1)).toEqual({ type: 'bye' });
    expect(modestSession.state).toBe('attached');
    await modest.until(() => modest.messages().length === 3, 'three messages');
    expect(server.tether.stats.bufferedBytes).toBe(3 * 1024);
  });

  it('cuts the connection of an evicted session whose client stopped reading, instead of closing after its backlog', async () => {
    const MB = 1_000_000;
    const server = await serve({ maxTotalBufferedBytes: 20 * 1024 * 1024 });
    const { peer: stalled } = await server.connect('stalled');
    await server.connect('reading');
    const [stalledSession, readingSession] = server.sessions as [TetherSession, TetherSession];
    const [stalledSocket] = [...server.wss.clients]; // the server's end of the first connection
    if (stalledSocket === undefined) throw new Error('no server-side socket');
    // The client stops reading: what the server writes piles up in its socket, past what loopback buffers.
    (stalled.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let i = 0; i < 16; i += 1) stalledSession.send(Buffer.alloc(MB, i));
    expect(stalledSocket.bufferedAmount).toBeGreaterThan(MAX_BACKLOG_AT_CLOSE);
    const lost = lostOf(stalledSession);
    const cut = waitFor<number>(stalledSocket, 'close', {
      timeoutMs: 2000,
      label: 'server end of the stalled connection',
    });
    for (let i = 0; i < 5; i += 1) readingSession.send(Buffer.alloc(MB, i)); // 21 MB > 20 MiB: evicts the hoarder
    expect((await lost).reason).toBe('evicted');
    // A closing handshake would wait behind ~16 MB the client never reads (ws gives up after 30 s),
    // keeping every evicted buffer alive; the cut frees them now.
    expect(await cut).toBe(1006);
    expect(server.tether.stats.bufferedBytes).toBe(5 * MB);
  });

  it('never holds more than maxTotalBufferedBytes however many never-acknowledging sessions send', async () => {
    const limit = 32 * 1024;
    const server = await serve({ maxTotalBufferedBytes: limit });
    const peers = [];
    for (let i = 0; i < 8; i += 1) peers.push((await server.connect(`greedy-${i}`)).peer);
    let highest = 0;
    for (const session of server.sessions) {
      for (let i = 0; i < 16 && session.state !== 'ended'; i += 1) {
        session.send(KIB);
        highest = Math.max(highest, server.tether.stats.bufferedBytes);
      }
    }
    expect(highest).toBeLessThanOrEqual(limit);
    expect(server.tether.stats.ended.evicted).toBeGreaterThan(0);
  });

  it('keeps a session that never acknowledged anything only unacknowledgedResumeWindow', async () => {
    const server = await serve({ resumeWindow: 60_000, unacknowledgedResumeWindow: 50 });
    const { peer: silent } = await server.connect('silent');
    const { peer: working } = await server.connect('working');
    const [silentSession, workingSession] = server.sessions as [TetherSession, TetherSession];
    silentSession.send('never acknowledged');
    workingSession.send('acknowledged');
    await working.until(() => working.messages().length === 1, 'one message');
    await acknowledge(working, 1);
    const lost = lostOf(silentSession);
    silent.terminate();
    working.terminate();
    await detachOf(workingSession);
    expect(await lost).toEqual({ reason: 'expired', undelivered: ['never acknowledged'] });
    expect(workingSession.state).toBe('detached'); // the full window still runs for it
    expect(server.tether.stats.ended.expired).toBe(1);
  });

  it('limits how fast one address creates sessions (sessionRate, sessionBurst) but not resumes', async () => {
    const server = await serve({ sessionRate: 1, sessionBurst: 2 });
    const { peer: first } = await server.connect('a');
    await server.connect('b');
    const third = await server.open('c');
    third.send(hello('c', 0));
    expect(await third.closed).toEqual({ code: 1013, reason: 'Too many new sessions, try again later' });
    expect(server.tether.stats.refused['session-rate']).toBe(1);
    first.terminate();
    await detachOf(server.sessions[0] as TetherSession);
    const { welcome } = await server.connect('a');
    expect(welcome.resumed).toBe(true);
  });
});
