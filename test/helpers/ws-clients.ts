// ws clients in the dev server's tests, and waiting on them (through next-event.ts): every wait has a
// timeout that fails with a message naming what was awaited, instead of a sleep that hopes the event
// has happened.
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { waitForArgs } from './next-event.js';

export const WAIT_MS = 3000;

/**
 * Resolves with the arguments of the next `event` ({@link waitForArgs}); rejects on `error` (unless
 * that is what is awaited) or after `timeoutMs`.
 */
export async function nextEvent<T extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string,
  { timeoutMs = WAIT_MS, what = 'emitter' }: { timeoutMs?: number; what?: string } = {},
): Promise<T> {
  const failOn = event === 'error' ? [] : ['error'];
  return (await waitForArgs(emitter, event, { timeoutMs, failOn, label: what })) as T;
}

/** Opens ws clients and closes whatever is left of them in `closeAll()` (call it in afterEach). */
export class Clients {
  private readonly sockets = new Set<WebSocket>();

  /** A client that is not yet open (for handshakes expected to fail). */
  connect(url: string, options: WebSocket.ClientOptions = {}): WebSocket {
    const socket = new WebSocket(url, options);
    this.sockets.add(socket);
    return socket;
  }

  async open(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
    const socket = this.connect(url, options);
    await nextEvent(socket, 'open', { what: `client of ${url}` });
    return socket;
  }

  closeAll(): void {
    for (const socket of this.sockets) {
      socket.on('error', () => {}); // a late error from a client we are discarding is of no interest
      socket.terminate();
    }
    this.sockets.clear();
  }
}

export interface Received {
  text: string;
  isBinary: boolean;
  data: Buffer;
}

export async function nextMessage(socket: WebSocket): Promise<Received> {
  const [data, isBinary] = await nextEvent<[Buffer, boolean]>(socket, 'message', { what: 'client' });
  return { data, isBinary, text: data.toString('utf8') };
}

export async function closeOf(socket: WebSocket): Promise<{ code: number; reason: string }> {
  const [code, reason] = await nextEvent<[number, Buffer]>(socket, 'close', { what: 'client' });
  return { code, reason: reason.toString('utf8') };
}

/** The HTTP status of a refused handshake (ws emits `unexpected-response` instead of `open`). */
export async function refusalOf(
  socket: WebSocket,
  timeoutMs = WAIT_MS,
): Promise<{ status: number; body: string }> {
  const [, response] = await nextEvent<[unknown, IncomingMessage]>(socket, 'unexpected-response', {
    what: 'client',
    timeoutMs,
  });
  let body = '';
  for await (const chunk of response) body += String(chunk);
  return { status: response.statusCode ?? 0, body };
}
