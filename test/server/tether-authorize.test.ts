// Knowing a session id is not enough to take a session over (issue 12, point 2): the hello proves
// the session's key, `authorize` decides before anything happens to a session, and a refusal
// closes only the caller, with reasons that tell nothing about the session.
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorizeRequest, TetherSession } from '../../adapter/index.js';
import { waitFor } from '../helpers/next-event.js';
import { acknowledge, only, serve, teardown } from '../helpers/tether-server.js';
import { hello, textMessage } from '../helpers/tether-wire.js';

afterEach(teardown);

const REFUSED = { code: 1008, reason: 'Session refused' };

describe('tether adapter: session keys', () => {
  it('refuses a hello with the right sid and another key; the victim keeps its session, connection and counters', async () => {
    const server = await serve();
    const { peer: victim } = await server.connect('victim');
    const session = only(server.sessions);
    session.send('for the victim');
    await victim.until(() => victim.messages().length === 1, 'message 1');
    const refusals: unknown[] = [];
    server.tether.on('refused', (info) => refusals.push(info));

    const attacker = await server.open('victim');
    attacker.send(hello('victim', 1, 'guessed-key-0123456789'));
    attacker.send(textMessage(1, 'injected'));
    attacker.send('a1');
    expect(await attacker.closed).toEqual(REFUSED);
    expect(refusals).toEqual([{ reason: 'wrong-key', sessionId: 'victim' }]);
    expect(server.tether.stats.refused['wrong-key']).toBe(1);

    // Untouched: still attached to the victim, nothing injected, nothing acknowledged for it.
    const received: string[] = [];
    session.on('message', (data) => received.push(String(data)));
    expect(session.state).toBe('attached');
    expect(server.tether.stats.bufferedBytes).toBe('for the victim'.length);
    victim.send(textMessage(1, 'from the victim'));
    await acknowledge(victim, 1);
    expect(received).toEqual(['from the victim']);
    expect(server.tether.stats.bufferedBytes).toBe(0);
  });

  it('refuses a keyless hello with 1002 "hello has no key", unless allowKeylessClients', async () => {
    const strict = await serve();
    const peer = await strict.open('nokey');
    peer.send(hello('nokey', 0, null));
    expect(await peer.closed).toEqual({ code: 1002, reason: 'hello has no key' });
    expect(strict.tether.sessions).toBe(0);

    const lenient = await serve({ allowKeylessClients: true });
    const old = await lenient.open('legacy');
    old.send(hello('legacy', 0, null));
    expect(await old.next()).toMatchObject({ type: 'welcome', resumed: false });
  });

  it('lets the rightful client resume after a refused takeover, with everything buffered while it was away', async () => {
    const server = await serve();
    const { peer } = await server.connect('rightful');
    const session = only(server.sessions);
    peer.terminate();
    await waitFor(session, 'detach', { timeoutMs: 2000 });
    session.send('while away');
    const attacker = await server.open('rightful');
    attacker.send(hello('rightful', 0, 'not-the-key-0123456789'));
    expect(await attacker.closed).toEqual(REFUSED);
    expect(session.state).toBe('detached');

    const { peer: back, welcome } = await server.connect('rightful');
    expect(welcome.resumed).toBe(true);
    await back.until(() => back.messages().length === 1, 'the buffered message');
    expect(back.messages()[0]?.data).toBe('while away');
  });
});

describe('tether adapter: authorize', () => {
  it('is asked with the sid, the upgrade request and whether it is held, before create and before resume', async () => {
    const asked: Array<{ sid: string; held: boolean; url: string | undefined }> = [];
    const server = await serve({
      authorize: ({ sid, request, held }: AuthorizeRequest) => {
        asked.push({ sid, held, url: request?.url });
        return true;
      },
    });
    const { peer } = await server.connect('mine');
    peer.terminate();
    await waitFor(only(server.sessions), 'detach', { timeoutMs: 2000 });
    const { welcome } = await server.connect('mine');
    expect(welcome.resumed).toBe(true);
    expect(asked).toEqual([
      { sid: 'mine', held: false, url: '/?tether_sid=mine' },
      { sid: 'mine', held: true, url: '/?tether_sid=mine' },
    ]);
  });

  it.each([
    ['sync', (allowed: boolean) => allowed],
    ['async', async (allowed: boolean) => allowed],
  ])(
    'refuses with 1008 when a %s authorize says no, leaving the held session and its connection alone',
    async (_kind, answer) => {
      // The application binds sessions to a user: here, the cookie of whoever created them.
      const owners = new Map<string, string | undefined>();
      const server = await serve({
        authorize: ({ sid, request, held }) => {
          const user = (request as IncomingMessage).headers.cookie;
          if (!held) owners.set(sid, user);
          return answer(owners.get(sid) === user);
        },
      });
      const { peer: victim } = await server.connect('bound', 0, { headers: { cookie: 'user=alice' } });
      const session = only(server.sessions);
      session.send('for alice');
      await victim.until(() => victim.messages().length === 1, 'message 1');

      const intruder = await server.open('bound', { headers: { cookie: 'user=mallory' } });
      intruder.send(hello('bound', 1)); // even with the right key
      expect(await intruder.closed).toEqual(REFUSED);
      expect(server.tether.stats.refused.unauthorized).toBe(1);
      expect(session.state).toBe('attached');
      await acknowledge(victim, 1);
      expect(server.tether.stats.bufferedBytes).toBe(0);
    },
  );

  it('closes with 1011 and reports an authorize that throws; nothing is created', async () => {
    const server = await serve({
      authorize: () => {
        throw new Error('session store down');
      },
    });
    const errors: unknown[] = [];
    server.tether.on('error', (error) => errors.push(error));
    const peer = await server.open('any');
    peer.send(hello('any', 0));
    expect(await peer.closed).toEqual({ code: 1011, reason: 'Internal error' });
    expect(errors).toEqual([new Error('session store down')]);
    expect(server.tether.sessions).toBe(0);
    expect(server.tether.stats.refused['authorize-failed']).toBe(1);
  });

  it('closes with 1011 an authorize that does not answer within helloTimeout', async () => {
    const server = await serve({ helloTimeout: 50, authorize: () => new Promise<boolean>(() => {}) });
    const peer = await server.open('slow');
    peer.send(hello('slow', 0));
    expect(await peer.closed).toEqual({ code: 1011, reason: 'Authorization timed out' });
    expect(server.tether.sessions).toBe(0);
  });

  it('gives the same close reason for a wrong key as for a refusal, whether or not the sid is held', async () => {
    const server = await serve({ authorize: ({ sid }) => sid !== 'denied' });
    await server.connect('held');
    const wrongKey = await server.open('held');
    wrongKey.send(hello('held', 0, 'wrong-key-0123456789abc'));
    const denied = await server.open('denied');
    denied.send(hello('denied', 0));
    expect(await wrongKey.closed).toEqual(REFUSED);
    expect(await denied.closed).toEqual(REFUSED);
    expect((server.sessions as TetherSession[]).map((s) => s.id)).toEqual(['held']);
  });
});
