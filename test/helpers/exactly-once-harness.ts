/**
 * Pieces of the exactly-once fault suite (exactly-once-faults.test.ts): a stream server of our own
 * on the tether.v1 adapter, a `ws` constructor that records what the client wrote, a dev-server
 * logger that keeps the `/reliable` endpoint's session events, and the figures of a numbered stream.
 *
 * Numbered messages: the client sends `c:<n>`, the stream server sends `s:<n>`, n = 0, 1, 2, ...
 */
import type { AddressInfo } from 'node:net';
import WS, { WebSocketServer } from 'ws';
import {
  createTetherServer,
  handleProtocols,
  type TetherServer,
  type TetherSession,
} from '../../adapter/index.js';
import type { WebSocketConstructor } from '../../client/index.js';
import type { LogFields, Logger } from '../../server/app.js';
import { waitFor } from './next-event.js';

/** The number in `<prefix>:<n>`, or undefined for anything else. */
export function numberOf(prefix: 'c' | 's', data: unknown): number | undefined {
  if (typeof data !== 'string' || !data.startsWith(`${prefix}:`)) return undefined;
  const n = Number(data.slice(prefix.length + 1));
  return Number.isInteger(n) ? n : undefined;
}

/**
 * A `ws` constructor for the client's `WebSocket` option that records the seq of every message
 * frame the client writes (`m<seq>:...`, docs/protocol.md §3), on every connection: a seq written
 * twice is a resend after a resume.
 */
export function recordingWebSocket(written: number[]): WebSocketConstructor {
  class RecordingWebSocket extends WS {
    override send(data: unknown, ...rest: unknown[]): void {
      const frame = typeof data === 'string' ? /^m(\d+):/.exec(data) : null;
      if (frame) written.push(Number(frame[1]));
      (WS.prototype.send as (...args: unknown[]) => void).call(this, data, ...rest);
    }
  }
  return RecordingWebSocket as unknown as WebSocketConstructor;
}

/** Session events of a tether server, from whichever side could see them. */
export interface SessionLog {
  /** New sessions started (a resume is not one). */
  sessions: number;
  /** Resumes and how many unacknowledged messages each resent. */
  resumes: number[];
  /** `lost` reasons (nothing may be lost while a test streams). */
  lost: string[];
}

/**
 * A dev-server logger that keeps the `/reliable` endpoint's session events (server/reliable.ts logs
 * `session`, `resume { resent }` and `lost { reason }` with fields) and drops every other line;
 * errors still print.
 */
export function sessionLogger(log: SessionLog): Logger {
  return {
    info(_line: string, fields?: LogFields) {
      if (fields?.event === 'session') log.sessions += 1;
      if (fields?.event === 'resume') log.resumes.push(Number(fields.resent));
      if (fields?.event === 'lost') log.lost.push(String(fields.reason));
    },
    error: (line: string) => console.error(line),
  };
}

/**
 * A ws server on 127.0.0.1 (port 0) with the tether.v1 adapter whose sessions record the client's
 * numbers (`c:<n>`) and, while `streaming`, send their own numbered stream (`s:<n>`) every `stepMs`,
 * also while the client is away (the session buffers it): server → client exactly-once is proved
 * on messages the server originates, not on echoes.
 */
export interface StreamServer {
  readonly port: number;
  readonly tether: TetherServer;
  readonly log: SessionLog;
  /** `c:<n>` numbers the sessions' application received, in order. */
  readonly received: number[];
  /** `s:<n>` messages sent so far (n = 0 .. sent - 1). */
  sent(): number;
  /** Stops every session's stream. */
  stopStreaming(): void;
  close(): Promise<void>;
}

export async function startStreamServer(options: {
  resumeWindow: number;
  stepMs: number;
}): Promise<StreamServer> {
  const tether = createTetherServer({ resumeWindow: options.resumeWindow });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols });
  await waitFor(wss, 'listening', { timeoutMs: 3000, failOn: ['error'], label: 'stream server' });
  wss.on('connection', (socket, request) => {
    // Resets and cut frames are the point of the suite: they must not crash the server.
    socket.on('error', () => {});
    tether.handle(socket, request);
  });
  const log: SessionLog = { sessions: 0, resumes: [], lost: [] };
  const received: number[] = [];
  const timers = new Set<ReturnType<typeof setInterval>>();
  let sent = 0;
  tether.on('session', (session: TetherSession) => {
    log.sessions += 1;
    session.on('message', (data) => {
      const n = numberOf('c', String(data));
      if (n !== undefined) received.push(n);
    });
    session.on('resume', ({ resent }) => log.resumes.push(resent));
    const timer = setInterval(() => {
      session.send(`s:${sent}`);
      sent += 1;
    }, options.stepMs);
    timers.add(timer);
    session.on('lost', ({ reason }) => {
      log.lost.push(reason);
      clearInterval(timer);
      timers.delete(timer);
    });
  });
  const stopStreaming = () => {
    for (const timer of timers) clearInterval(timer);
    timers.clear();
  };
  return {
    port: (wss.address() as AddressInfo).port,
    tether,
    log,
    received,
    sent: () => sent,
    stopStreaming,
    close: () =>
      new Promise<void>((resolve) => {
        stopStreaming();
        tether.close();
        for (const socket of wss.clients) socket.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** Delivery figures of one numbered stream whose sender sent 0 .. sent - 1. */
export interface Delivery {
  sent: number;
  /** Distinct numbers received. */
  delivered: number;
  /** Numbers sent and never received. */
  lost: number[];
  /** Numbers received more than once (each extra copy listed). */
  duplicates: number[];
  /** Positions where a number did not follow its predecessor by exactly one. */
  outOfOrder: Array<{ index: number; previous: number; value: number }>;
}

export function delivery(sent: number, received: readonly number[]): Delivery {
  const seen = new Set<number>();
  const duplicates: number[] = [];
  const outOfOrder: Delivery['outOfOrder'] = [];
  received.forEach((value, index) => {
    if (seen.has(value)) duplicates.push(value);
    seen.add(value);
    const previous = index === 0 ? -1 : (received[index - 1] as number);
    if (value !== previous + 1) outOfOrder.push({ index, previous, value });
  });
  const lost: number[] = [];
  for (let n = 0; n < sent; n++) if (!seen.has(n)) lost.push(n);
  return { sent, delivered: seen.size, lost, duplicates, outOfOrder };
}

/** Seqs written more than once: what the client resent after resumes. */
export function resends(written: readonly number[]): number {
  return written.length - new Set(written).size;
}
