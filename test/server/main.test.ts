// The built entry point as `npm start` runs it: `node dist/server/main.js`. Spawned with node directly,
// not through npm: Debian's dash keeps a SIGTERM sent to `npm start` for itself (see CONTRIBUTING.md, "Toolchain traps").
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitForArgs } from '../helpers/next-event.js';
import { Clients, closeOf, nextMessage } from '../helpers/ws-clients.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const entry = fileURLToPath(new URL('../../dist/server/main.js', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

interface Started {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
}

function run(env: Record<string, string>): Started {
  const child = spawn(process.execPath, [entry], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG: 'quiet', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => {
    out += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    err += String(chunk);
  });
  return { child, url: '', stdout: () => out, stderr: () => err };
}

async function start(env: Record<string, string> = {}): Promise<Started> {
  const started = run(env);
  const { child } = started;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `No "Listening on" line within 10 s. stdout: ${started.stdout()} stderr: ${started.stderr()}`,
          ),
        ),
      10_000,
    );
    child.stdout?.on('data', () => {
      const match = /^Listening on (http:\/\/\S+)$/m.exec(started.stdout());
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Server exited with ${code} before listening. stderr: ${started.stderr()}`));
    });
  });
  return { ...started, url };
}

/** The first JSON log record on stdout that `match` accepts. */
async function waitForLine(
  started: Started,
  match: (record: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const find = () =>
    started
      .stdout()
      .split('\n')
      .slice(0, -1) // complete lines only: the last piece may still be arriving
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find(match);
  const found = find();
  if (found) return found;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`No matching log record within 10 s: ${started.stdout()}`)),
      10_000,
    );
    const onData = () => {
      const record = find();
      if (!record) return;
      clearTimeout(timer);
      started.child.stdout?.off('data', onData);
      resolve(record);
    };
    started.child.stdout?.on('data', onData);
  });
}

async function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await waitForArgs(child, 'exit', {
    timeoutMs: 5000,
    failOn: ['error'],
    label: 'server process',
  })) as [number | null, string | null];
  return { code, signal };
}

describe('node dist/server/main.js', () => {
  const children: ChildProcess[] = [];
  const clients = new Clients();

  beforeAll(async () => {
    // `-b`: the protocol and the adapter the dev server imports first, then the server.
    await promisify(execFile)(process.execPath, [tsc, '-b', 'tsconfig.server.json'], { cwd: root });
  }, 120_000);

  afterEach(() => {
    clients.closeAll();
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'prints the real URL for PORT=0, echoes, and on %s closes clients with 1001 and exits 0',
    async (signal) => {
      const server = await start();
      children.push(server.child);
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.url).not.toMatch(/:0$/);
      const socket = await clients.open(server.url.replace(/^http/, 'ws'));
      socket.send('over the wire');
      expect(await nextMessage(socket)).toMatchObject({ text: 'over the wire', isBinary: false });
      const closed = closeOf(socket);
      server.child.kill(signal);
      expect(await closed).toEqual({ code: 1001, reason: 'Server shutting down' });
      expect(await exitOf(server.child)).toEqual({ code: 0, signal: null });
    },
  );

  it('logs connections and messages unless LOG=quiet', async () => {
    const server = await start({ LOG: 'info' });
    children.push(server.child);
    const socket = await clients.open(server.url.replace(/^http/, 'ws'));
    socket.send('hello log');
    await nextMessage(socket);
    server.child.kill('SIGTERM');
    await exitOf(server.child);
    expect(server.stdout()).toContain('[ws #1] Data received: text, 9 bytes: "hello log"');
  });

  it('with LOG_FORMAT=json prints one JSON object per line, the URL included', async () => {
    const server = run({ LOG: 'info', LOG_FORMAT: 'json' });
    children.push(server.child);
    const listening = await waitForLine(server, (record) => record.event === 'listening');
    expect(listening).toMatchObject({
      level: 30,
      msg: expect.stringMatching(/^Listening on http:\/\/127\.0\.0\.1:\d+$/),
    });
    const socket = await clients.open(String(listening.url).replace(/^http/, 'ws'));
    socket.send('hello json');
    await nextMessage(socket);
    server.child.kill('SIGTERM');
    await exitOf(server.child);
    const records = server
      .stdout()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(records.map((record) => record.event)).toEqual([
      'listening',
      'open',
      'message',
      'shutdown',
      'close',
    ]);
    expect(records[2]).toMatchObject({
      msg: '[ws #1] Data received: text, 10 bytes: "hello json"',
      conn: 1,
      bytes: 10,
    });
  });

  it('exits 1 with a message naming the variable when PORT is invalid', async () => {
    const server = run({ PORT: 'eighty' });
    children.push(server.child);
    expect(await exitOf(server.child)).toEqual({ code: 1, signal: null });
    expect(server.stderr().trim()).toBe(
      'Invalid environment variable PORT: got "eighty"; expected an integer from 0 to 65535 (0 picks a free port).',
    );
  });

  it('exits 1 with a hint when the port is taken', async () => {
    const first = await start();
    children.push(first.child);
    const second = run({ PORT: new URL(first.url).port });
    children.push(second.child);
    expect(await exitOf(second.child)).toEqual({ code: 1, signal: null });
    expect(second.stderr()).toContain('EADDRINUSE');
    expect(second.stderr()).toContain('PORT=3001 npm start');
  });
});
