// ws clients in the dev server's tests, and reading what they get. Waiting is next-event.ts's
// waitFor/waitForArgs: every wait has a timeout that fails with a message naming what was awaited,
// instead of a sleep that hopes the event has happened.
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { waitForArgs } from './next-event.js';

export const WAIT_MS = 3000;

/** Options for waiting on a ws client: {@link WAIT_MS}, and its `error` ends the wait at once. */
function onClient(label: string) {
  return { timeoutMs: WAIT_MS, failOn: ['error'], label };
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
    await waitForArgs(socket, 'open', onClient(`client of ${url}`));
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
  const [data, isBinary] = (await waitForArgs(socket, 'message', onClient('client'))) as [Buffer, boolean];
  return { data, isBinary, text: data.toString('utf8') };
}

export async function closeOf(socket: WebSocket): Promise<{ code: number; reason: string }> {
  const [code, reason] = (await waitForArgs(socket, 'close', onClient('client'))) as [number, Buffer];
  return { code, reason: reason.toString('utf8') };
}

/** The HTTP status of a refused handshake (ws emits `unexpected-response` instead of `open`). */
export async function refusalOf(
  socket: WebSocket,
  timeoutMs = WAIT_MS,
): Promise<{ status: number; body: string }> {
  const [, response] = (await waitForArgs(socket, 'unexpected-response', {
    ...onClient('client'),
    timeoutMs,
  })) as [unknown, IncomingMessage];
  let body = '';
  for await (const chunk of response) body += String(chunk);
  return { status: response.statusCode ?? 0, body };
}
