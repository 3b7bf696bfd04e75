import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { describeValue } from './describe.js';
import { TetherServerError } from './errors.js';

/**
 * `handle()` is called from a user's `connection` handler: a wrong argument (a socket from another
 * library, `undefined` from a wrong callback signature) fails there, worded, rather than as a
 * TypeError deep inside a later event.
 */
export function checkHandleArguments(socket: unknown, request: unknown): void {
  const candidate = socket as Partial<WebSocket> | null | undefined;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.readyState !== 'number' ||
    typeof candidate.send !== 'function' ||
    typeof candidate.close !== 'function' ||
    typeof candidate.on !== 'function'
  ) {
    throw new TetherServerError(
      'INVALID_ARGUMENT',
      `Invalid argument to tether.handle(socket, request): socket got ${describeValue(socket)}; ` +
        "expected the ws WebSocket of a 'connection' event (ws or express-ws).",
    );
  }
  const headers = (request as Partial<IncomingMessage> | null | undefined)?.headers;
  if (
    request !== undefined &&
    (typeof request !== 'object' || request === null || typeof headers !== 'object')
  ) {
    throw new TetherServerError(
      'INVALID_ARGUMENT',
      `Invalid argument to tether.handle(socket, request): request got ${describeValue(request)}; ` +
        "expected the http.IncomingMessage of the upgrade (the 'connection' event's second argument), or nothing.",
    );
  }
}
