import type { RawData } from 'ws';
import { rawDataToBuffer } from '../adapter/raw-data.js';
import { guarded } from './guard.js';
import { HEARTBEAT_PONG, isHeartbeatPing } from './heartbeat.js';
import { describeMessage, errorMessage, type Logger } from './logger.js';
import type { WebSocketHandler } from './websocket.js';

/**
 * The echo endpoint: every message goes back unchanged, text as text and binary as binary, except the
 * heartbeat ping, which is answered with a pong. Logs one line when a connection opens, one per message
 * (the tutorial's `Data received: …`, with kind, size and a truncated preview) and one when it closes.
 * Heartbeats are answered without a log line, or an idle page would fill the log.
 */
export function createEchoHandler(log: Logger, onSent: (bytes: number) => void = () => {}): WebSocketHandler {
  let lastId = 0;
  return (socket, req) => {
    lastId += 1;
    const id = lastId;
    const tag = `[ws #${id}]`;
    const report = (error: unknown) =>
      log.error(`${tag} handler failed, closing with 1011: ${errorMessage(error)}`);
    const on = <A extends unknown[]>(listener: (...args: A) => void) => guarded(socket, report, listener);
    let received = 0;

    socket.on(
      'message',
      on((raw: RawData, isBinary: boolean) => {
        const data = rawDataToBuffer(raw);
        const open = socket.readyState === socket.OPEN;
        if (isHeartbeatPing(data, isBinary)) {
          if (open) {
            socket.send(HEARTBEAT_PONG);
            onSent(HEARTBEAT_PONG.length);
          }
          return;
        }
        received += 1;
        const skipped = open ? '' : ' (not echoed: the connection is closing)';
        log.info(`${tag} Data received: ${describeMessage(data, isBinary)}${skipped}`, {
          event: 'message',
          conn: id,
          bytes: data.length,
          binary: isBinary,
          echoed: open,
        });
        // A limit or a shutdown may have started closing the socket (ws still delivers what was in
        // flight): nothing more is sent on it.
        if (!open) return;
        // ws 8 hands text frames over as Buffers too: without `binary` they would go back as binary.
        socket.send(data, { binary: isBinary });
        onSent(data.length);
      }),
    );
    socket.on(
      'error',
      on((error: Error) => log.info(`${tag} error: ${errorMessage(error)}`, { event: 'error', conn: id })),
    );
    socket.on(
      'close',
      on((code: number, reason: Buffer) => {
        const why = reason.length > 0 ? ` ${JSON.stringify(reason.toString('utf8'))}` : '';
        log.info(`${tag} closed ${code}${why} after ${received} ${received === 1 ? 'message' : 'messages'}`, {
          event: 'close',
          conn: id,
          code,
          reason: reason.toString('utf8'),
          messages: received,
        });
      }),
    );

    const origin = req.headers.origin === undefined ? 'no origin' : `origin ${req.headers.origin}`;
    const remote = req.socket.remoteAddress ?? 'unknown address';
    log.info(`${tag} open from ${remote} (${origin})`, {
      event: 'open',
      conn: id,
      remote,
      origin: req.headers.origin,
    });
  };
}
