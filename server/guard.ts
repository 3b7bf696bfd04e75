import type { WebSocket } from 'ws';
import { CLOSE_INTERNAL_ERROR } from '../protocol/close-codes.js';

/**
 * Runs `fn`, and if it throws (or returns a promise that rejects) closes `socket` with 1011 and hands
 * the error to `report`. Wrap every handler and listener that touches a socket in this: ws calls
 * listeners from its data handler, so a throw there would be an uncaught exception that ends the
 * process, and express-ws swallows a throwing route handler and leaves the socket open.
 */
export function runGuarded(socket: WebSocket, report: (error: unknown) => void, fn: () => unknown): void {
  const fail = (error: unknown): void => {
    // Close first: a faulty reporter (the logger, say) must not keep the socket open.
    if (socket.readyState === socket.CONNECTING || socket.readyState === socket.OPEN) {
      socket.close(CLOSE_INTERNAL_ERROR, 'Internal error');
    }
    try {
      report(error);
    } catch (reportError) {
      process.emitWarning(`Could not report a WebSocket handler error: ${String(reportError)}`);
    }
  };
  try {
    const result = fn();
    if (result instanceof Promise) result.catch(fail);
  } catch (error) {
    fail(error);
  }
}

/** `listener` wrapped in {@link runGuarded}, for `socket.on(...)`. */
export function guarded<A extends unknown[]>(
  socket: WebSocket,
  report: (error: unknown) => void,
  listener: (...args: A) => unknown,
): (...args: A) => void {
  return (...args) => runGuarded(socket, report, () => listener(...args));
}
