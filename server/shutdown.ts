import type { Server } from 'node:http';
import type { WebSocket } from 'ws';
import { CLOSE_GOING_AWAY, SHUTDOWN_REASON } from '../protocol/close-codes.js';

/**
 * Sends every socket a 1001 close frame and waits for the closing handshakes, at most `timeoutMs`;
 * sockets still open then are destroyed (`terminate()`), so this always settles in bounded time.
 * Resolves with the number of sockets that had to be terminated.
 */
export async function closeWebSockets(sockets: Iterable<WebSocket>, timeoutMs: number): Promise<number> {
  const pending = [...sockets].filter((socket) => socket.readyState !== socket.CLOSED);
  if (pending.length === 0) return 0;
  const closed = pending.map(
    (socket) =>
      new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        if (socket.readyState === socket.OPEN) socket.close(CLOSE_GOING_AWAY, SHUTDOWN_REASON);
      }),
  );
  let terminated = 0;
  const timer = setTimeout(() => {
    for (const socket of pending) {
      if (socket.readyState !== socket.CLOSED) {
        terminated += 1;
        socket.terminate();
      }
    }
  }, timeoutMs);
  try {
    await Promise.all(closed);
  } finally {
    clearTimeout(timer);
  }
  return terminated;
}

/**
 * Stops accepting connections, cuts the idle and active HTTP connections (a browser's keep-alive
 * connection would otherwise hold `close()` open for its full timeout), and resolves once the server
 * is closed. Resolves at once for a server that is not listening.
 */
export function closeHttpServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
