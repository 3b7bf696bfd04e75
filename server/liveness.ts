import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Server-side half-open detection with WebSocket protocol pings (RFC 6455 §5.5.2), as in the ws README
 * ("How to detect and close broken connections?"). Every `intervalMs` each connection that answered
 * the previous ping gets a new one; a connection that did not is terminated (no close handshake: the
 * peer is presumed gone). Browsers answer protocol pings by themselves, so a live page is never cut;
 * a dead peer is cut between one and two intervals after it stopped answering.
 *
 * This is separate from the client's application ping (`__ping__`, see heartbeat.ts), which lets the
 * *client* detect a dead server; this lets the *server* free the resources of dead clients.
 *
 * @returns a function that stops the timer.
 */
export function startLiveness(
  wss: WebSocketServer,
  intervalMs: number,
  onTerminate: (socket: WebSocket) => void,
): () => void {
  const answered = new WeakSet<WebSocket>();
  const onPong = function (this: WebSocket) {
    answered.add(this);
  };
  const onConnection = (socket: WebSocket) => {
    answered.add(socket);
    socket.on('pong', onPong);
  };
  wss.on('connection', onConnection);
  const timer = setInterval(() => {
    for (const socket of wss.clients) {
      if (socket.readyState !== socket.OPEN) continue;
      if (!answered.has(socket)) {
        onTerminate(socket);
        socket.terminate();
        continue;
      }
      answered.delete(socket);
      socket.ping();
    }
  }, intervalMs);
  return () => {
    clearInterval(timer);
    wss.off('connection', onConnection);
  };
}
