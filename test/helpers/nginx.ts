/**
 * Scale-out fixtures: dev-server processes (`node dist/server/main.js`, JSON logs) behind Debian's
 * nginx, started unprivileged from deploy/nginx/nginx.conf. One {@link ProcessGroup} per test owns
 * every process it starts and a temporary prefix; `stop()` ends them all and fails if anything is
 * left running (an nginx worker orphaned by its master, a server that ignored SIGKILL).
 *
 * Linux only, like the Debian package it drives: leftovers are found through /proc.
 *
 * @example
 * const group = await createProcessGroup('nginx-sessions');
 * afterEach(() => group.stop());
 * const a = await group.startServer();
 * const b = await group.startServer();
 * const nginx = await group.startNginx([a.port, b.port]);
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitFor, waitUntil } from './next-event.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const entry = join(root, 'dist/server/main.js');
const defaultTemplate = 'deploy/nginx/nginx.conf';
const UPSTREAM_NAMES = ['A', 'B', 'C'];
const WAIT_MS = 10_000;

/** Path of the nginx binary (Debian's package), or undefined when it is not installed. */
export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));

/**
 * Whether an nginx suite can run. In CI (`CI` set) a missing nginx is an error, so the suite can't
 * pass by being skipped; locally it prints why it skips.
 */
export function nginxAvailable(suite: string): boolean {
  if (!NGINX && process.env.CI) {
    throw new Error(`nginx is required in CI for ${suite}: .ci/run installs it with apt-get.`);
  }
  if (!NGINX) console.warn(`[${suite}] skipped: nginx not found (apt-get install nginx to run it).`);
  return NGINX !== undefined;
}

/**
 * Compiles the dev server unless dist/server/main.js exists (`tsc -b tsconfig.server.json`: the
 * protocol and the adapter it imports first, then the server).
 */
export async function buildServerIfMissing(): Promise<void> {
  if (existsSync(entry)) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-b', 'tsconfig.server.json'], { cwd: root });
}

/** One line of the server's JSON log (pino): `msg` plus the fields the server attached. */
export interface LogRecord {
  msg: string;
  /** What happened, e.g. `listening`, `session`, `resume`, `detach`, `lost`. */
  event?: string;
  /** The tether session id, on `/reliable` session lines. */
  session?: string;
  [field: string]: unknown;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Every log record so far, in order (the array keeps growing while the server runs). */
  readonly logs: readonly LogRecord[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** `connections` of its `GET /healthz`: open WebSockets. */
  connections(): Promise<number>;
}

export interface NginxProcess {
  readonly child: ChildProcess;
  /** Where nginx listens, on 127.0.0.1. */
  readonly port: number;
}

/** Makes the temporary prefix (`<tmp>/tether-<label>-XXXXXX`) a {@link ProcessGroup} works in. */
export async function createProcessGroup(label: string): Promise<ProcessGroup> {
  return new ProcessGroup(await mkdtemp(join(tmpdir(), `tether-${label}-`)));
}

/** See {@link createProcessGroup}. */
export class ProcessGroup {
  private readonly servers: ChildProcess[] = [];
  private nginx: ChildProcess | undefined;
  /** Every pid started (servers, nginx master and its workers), checked by `stop()`. */
  private readonly pids = new Set<number>();
  private stopped = false;

  constructor(readonly prefix: string) {}

  /**
   * Starts `node dist/server/main.js` on a free port of 127.0.0.1 (or `options.port`, e.g. to
   * restart a killed server where nginx expects it) with `LOG_FORMAT=json` and `options.env`, and
   * resolves once it logged its URL. `onLog` sees each record as it is parsed.
   */
  async startServer(
    onLog?: (record: LogRecord) => void,
    options: { port?: number; env?: Record<string, string> } = {},
  ): Promise<ServerProcess> {
    const child = spawn(process.execPath, [entry], {
      cwd: root,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(options.port ?? 0),
        LOG: 'info',
        LOG_FORMAT: 'json',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.servers.push(child);
    if (child.pid !== undefined) this.pids.add(child.pid);
    const logs: LogRecord[] = [];
    let pending = '';
    let stderr = '';
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const record = JSON.parse(line) as LogRecord;
          logs.push(record);
          onLog?.(record);
          if (record.event === 'listening' && typeof record.url === 'string') {
            resolve(Number(new URL(record.url).port));
          }
        }
      });
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
    });
    return { child, port, logs, exited, connections: () => healthConnections(port) };
  }

  /**
   * Fills an nginx config template (deploy/nginx/nginx.conf by default, two upstreams; the
   * deploy/redis one takes three) with the upstreams' ports as TETHER_UPSTREAM_A, _B, _C, and
   * starts nginx in the foreground, resolving once `/healthz` answers through it. Only one nginx
   * per group.
   */
  async startNginx(upstreams: readonly number[], template = defaultTemplate): Promise<NginxProcess> {
    if (this.nginx) throw new Error('startNginx(): this group already runs an nginx');
    const port = await freePort();
    const values: Record<string, string> = {
      TETHER_PREFIX: this.prefix,
      TETHER_LISTEN: `127.0.0.1:${port}`,
    };
    upstreams.forEach((upstream, index) => {
      values[`TETHER_UPSTREAM_${UPSTREAM_NAMES[index]}`] = `127.0.0.1:${upstream}`;
    });
    const conf = (await readFile(join(root, template), 'utf8')).replace(
      /\$\{(TETHER_\w+)\}/g,
      (_, name: string) => {
        const value = values[name];
        if (value === undefined) throw new Error(`${template} uses an unknown placeholder ${name}`);
        return value;
      },
    );
    const confPath = join(this.prefix, 'nginx.conf');
    await writeFile(confPath, conf);
    const child = spawn(NGINX as string, ['-e', 'stderr', '-p', this.prefix, '-c', confPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.nginx = child;
    if (child.pid !== undefined) this.pids.add(child.pid);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // nginx prints nothing when it is ready: poll the proxied health check until it answers.
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${stderr}`);
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
      },
      { timeoutMs: WAIT_MS, intervalMs: 50, message: `nginx to answer on port ${port} (${stderr})` },
    );
    this.recordWorkers();
    return { child, port };
  }

  /**
   * nginx first, with SIGTERM (fast shutdown: the master stops its workers, then exits), awaited;
   * SIGKILLing the master would orphan its workers. Then every server still running is SIGKILLed
   * and awaited, and the prefix removed. Rejects if any process started by the group (or any
   * process whose command line names the prefix) is still alive. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const nginx = this.nginx;
    if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
      this.recordWorkers();
      const exited = waitFor(nginx, 'exit', { timeoutMs: 5000, label: 'nginx' });
      nginx.kill('SIGTERM');
      try {
        await exited;
      } catch (error) {
        nginx.kill('SIGKILL');
        throw error;
      }
    }
    await Promise.all(
      this.servers.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = waitFor(child, 'exit', { timeoutMs: 5000, label: `server ${child.pid}` });
        child.kill('SIGKILL');
        await exited;
      }),
    );
    try {
      // Workers exit just after their master reports them gone: poll briefly, don't sleep.
      await waitUntil(() => this.leftovers().length === 0, {
        timeoutMs: 2000,
        intervalMs: 20,
        message: 'every process of the group to exit',
      }).catch(() => {
        throw new Error(`Left running after stop(): ${this.leftovers().join('; ')}`);
      });
    } finally {
      await rm(this.prefix, { recursive: true, force: true });
    }
  }

  /** Live processes of this group: `pid (command line)`. Empty after a clean `stop()`. */
  leftovers(): string[] {
    const found: string[] = [];
    for (const pid of livePids()) {
      const cmdline = commandLine(pid);
      if (this.pids.has(pid) || cmdline.includes(this.prefix)) found.push(`${pid} (${cmdline})`);
    }
    return found;
  }

  /** nginx rewrites its workers' command lines ("nginx: worker process"): find them by parent. */
  private recordWorkers(): void {
    const master = this.nginx?.pid;
    if (master === undefined) return;
    for (const pid of livePids()) if (parentPid(pid) === master) this.pids.add(pid);
  }
}

async function healthConnections(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  const health = (await response.json()) as { connections: number };
  return health.connections;
}

/** A port that was free a moment ago (nginx can't listen on port 0 and report it). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening', { timeoutMs: WAIT_MS, failOn: ['error'] });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('freePort(): no address');
  return address.port;
}

/** Pids in /proc that are not zombies (a zombie has exited; only its parent's wait() is missing). */
function livePids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProc(`/proc/${name}/stat`);
    // Fields after the command name, which is in parentheses and may contain spaces.
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    if (state !== undefined && state !== 'Z' && state !== '') pids.push(Number(name));
  }
  return pids;
}

function parentPid(pid: number): number | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
  return ppid === undefined ? undefined : Number(ppid);
}

function commandLine(pid: number): string {
  return readProc(`/proc/${pid}/cmdline`).replaceAll('\0', ' ').trim();
}

/** A /proc file, or '' when the process is already gone. */
function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
