import type { RawData } from 'ws';
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
export function createEchoHandler(log: Logger): WebSocketHandler {
  let lastId = 0;
  return (socket, req) => {
    lastId += 1;
    const tag = `[ws #${lastId}]`;
    const report = (error: unknown) =>
      log.error(`${tag} handler failed, closing with 1011: ${errorMessage(error)}`);
    const on = <A extends unknown[]>(listener: (...args: A) => void) => guarded(socket, report, listener);
    let received = 0;

    socket.on(
      'message',
      on((raw: RawData, isBinary: boolean) => {
        const data = toBuffer(raw);
        if (isHeartbeatPing(data, isBinary)) {
          socket.send(HEARTBEAT_PONG);
          return;
        }
        received += 1;
        log.info(`${tag} Data received: ${describeMessage(data, isBinary)}`);
        // ws 8 hands text frames over as Buffers too: without `binary` they would go back as binary.
        socket.send(data, { binary: isBinary });
      }),
    );
    socket.on(
      'error',
      on((error: Error) => log.info(`${tag} error: ${errorMessage(error)}`)),
    );
    socket.on(
      'close',
      on((code: number, reason: Buffer) => {
        const why = reason.length > 0 ? ` ${JSON.stringify(reason.toString('utf8'))}` : '';
        log.info(`${tag} closed ${code}${why} after ${received} ${received === 1 ? 'message' : 'messages'}`);
      }),
    );

    const origin = req.headers.origin === undefined ? 'no origin' : `origin ${req.headers.origin}`;
    log.info(`${tag} open from ${req.socket.remoteAddress ?? 'unknown address'} (${origin})`);
  };
}

/** ws delivers a Buffer by default (`binaryType: 'nodebuffer'`); the other shapes are handled for safety. */
function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
