// The README's express-ws recipe, run as a user installs it (issue 12, point 6): `npm i express
// express-ws` gives express-ws 5.0.2 its own ws 7, which hands `handleProtocols` an array; this
// repository's package.json makes express-ws share ws 8 (a Set) instead. Both are run here:
// - ws 7: express-ws is loaded from a temporary node_modules where `ws` is ws 7 (the `ws7` alias
//   devDependency), exactly the tree npm builds for a user without our `overrides`;
// - ws 8: express-ws as installed in this repository.
// A real exactly-once client opens a session through each and gets its message echoed.
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import express from 'express';
import type expressWsType from 'express-ws';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import { createTetherServer, handleProtocols } from '../../adapter/index.js';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import { WebSocketClient, type WebSocketConstructor } from '../../client/index.js';
import { waitFor } from '../helpers/next-event.js';

const ROOT = resolve(__dirname, '../..');
const requireHere = createRequire(join(ROOT, 'package.json'));

/** express-ws resolved in a node_modules of its own, with `ws` → the ws 7 alias and `express` → ours. */
function expressWsOnWs7(): { expressWs: typeof expressWsType; wsVersion: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tether-express-ws7-'));
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  cpSync(join(ROOT, 'node_modules/express-ws'), join(modules, 'express-ws'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules/ws7'), join(modules, 'ws'), 'dir');
  symlinkSync(join(ROOT, 'node_modules/express'), join(modules, 'express'), 'dir');
  const requireThere = createRequire(join(dir, 'index.js'));
  const wsVersion = requireThere('ws/package.json').version as string;
  return { expressWs: requireThere('express-ws'), wsVersion, dir };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** The README's recipe: express + express-ws, `wsOptions: { handleProtocols }`, an echo session per client. */
async function startRecipe(expressWs: typeof expressWsType): Promise<string> {
  const app = express();
  const server: Server = createServer(app);
  const tether = createTetherServer();
  const instance = expressWs(app, server, { wsOptions: { handleProtocols } });
  instance.app.ws('/reliable', (socket, req) => tether.handle(socket, req));
  tether.on('session', (session) => session.on('message', (data) => session.send(data)));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  cleanups.push(async () => {
    tether.close();
    for (const socket of instance.getWss().clients) socket.terminate();
    await new Promise((done) => server.close(done));
  });
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/reliable`;
}

async function echoOnce(url: string): Promise<{ protocol: string; echoed: unknown }> {
  const client = new WebSocketClient(url, {
    WebSocket: WsWebSocket as unknown as WebSocketConstructor,
    delivery: exactlyOnce(),
  });
  cleanups.push(() => client.close());
  // The first error fails the test at once (before the fix: SOCKET_ERROR, the server's handshake threw).
  const opened = waitFor(client, 'open', { timeoutMs: 2000, failOn: ['error'], label: 'client' });
  client.open().catch(() => {});
  await opened;
  const echoed = waitFor(client, 'message', { timeoutMs: 2000, failOn: ['error'], label: 'client' });
  client.send('hello through express-ws');
  return { protocol: client.protocol, echoed: await echoed };
}

describe("README's express-ws recipe", () => {
  it('works on express-ws with the ws 7 it installs (handleProtocols gets an array)', async () => {
    const { expressWs, wsVersion, dir } = expressWsOnWs7();
    tempDirs.push(dir);
    expect(wsVersion).toMatch(/^7\./);
    const url = await startRecipe(expressWs);
    expect(await echoOnce(url)).toEqual({ protocol: 'tether.v1', echoed: 'hello through express-ws' });
  });

  it('works on express-ws sharing ws 8 (handleProtocols gets a Set)', async () => {
    expect(requireHere('ws/package.json').version).toMatch(/^8\./);
    const { default: expressWs } = await import('express-ws');
    const url = await startRecipe(expressWs);
    expect(await echoOnce(url)).toEqual({ protocol: 'tether.v1', echoed: 'hello through express-ws' });
  });

  it('handleProtocols selects tether.v1 from an array and from a Set, and nothing when it is not offered', () => {
    expect(handleProtocols(['chat', 'tether.v1'])).toBe('tether.v1');
    expect(handleProtocols(new Set(['tether.v1']))).toBe('tether.v1');
    expect(handleProtocols(['chat'])).toBe(false);
    expect(handleProtocols(new Set<string>())).toBe(false);
  });
});
