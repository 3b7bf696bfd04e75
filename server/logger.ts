import pino from 'pino';

/** Structured context of a log line (`{ conn: 3, code: 1000 }`): JSON fields in `LOG_FORMAT=json`. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * Where the dev server writes its lines. `info` is for the activity log (connections, messages,
 * refusals), `error` for faults of the server itself (a handler that threw). A line is a complete
 * sentence without timestamp or newline; `fields` repeat its facts in machine-readable form.
 */
export interface Logger {
  info(line: string, fields?: LogFields): void;
  error(line: string, fields?: LogFields): void;
}

/** `text`: one human line per event (timestamp, message). `json`: pino's one JSON object per line. */
export type LogFormat = 'text' | 'json';

/** Anything pino can write a line to (`process.stdout`, a test's recorder). */
export interface LogSink {
  write(chunk: string): unknown;
}

/**
 * A {@link Logger} backed by pino. In `json` every line goes to `out` as pino writes it (`level`, `time`,
 * `pid`, `hostname`, `msg`, plus the fields), which is what log shippers expect. In `text` the same
 * records are printed as `<ISO time> <message>`, errors on `err`.
 */
export function createLogger(
  format: LogFormat,
  sinks: { out: LogSink; err: LogSink } = { out: process.stdout, err: process.stderr },
): Logger {
  const destination = format === 'json' ? sinks.out : textSink(sinks);
  const log = pino({ level: 'info' }, destination);
  return {
    info: (line, fields) => log.info(fields ?? {}, line),
    error: (line, fields) => log.error(fields ?? {}, line),
  };
}

/** pino level number of `error` and above. */
const PINO_ERROR = 50;

function textSink(sinks: { out: LogSink; err: LogSink }): LogSink {
  return {
    write(chunk) {
      // pino hands over one serialised record per call; turning it back into a human line costs a
      // JSON.parse, which is nothing next to the socket write it accompanies.
      const record = JSON.parse(chunk) as { level: number; time: number; msg: string };
      const line = `${new Date(record.time).toISOString()} ${record.msg}\n`;
      (record.level >= PINO_ERROR ? sinks.err : sinks.out).write(line);
    },
  };
}

/** The default logger: human lines on stdout / stderr, each prefixed with an ISO timestamp. */
export const consoleLogger: Logger = createLogger('text');

/** Drops the activity log and keeps errors: what `quiet: true` and `LOG=quiet` give. */
export function quietLogger(logger: Logger): Logger {
  return { info: () => {}, error: (...args) => logger.error(...args) };
}

/** Longest message preview written to the log, in characters. */
export const PREVIEW_CHARS = 80;
/** Longest binary preview written to the log, in bytes. */
export const PREVIEW_BYTES = 16;

/**
 * One-line description of a WebSocket message for the log: kind, size in bytes, and a preview.
 * Text is JSON-quoted so a message cannot forge log lines (newlines, control characters), and cut
 * after {@link PREVIEW_CHARS} characters; binary data is shown as its first {@link PREVIEW_BYTES} bytes in hex.
 *
 * @example describeMessage(Buffer.from('hello'), false) // 'text, 5 bytes: "hello"'
 */
export function describeMessage(data: Buffer, isBinary: boolean): string {
  const size = `${data.length} ${data.length === 1 ? 'byte' : 'bytes'}`;
  if (isBinary) {
    const hex = [...data.subarray(0, PREVIEW_BYTES)].map((byte) => byte.toString(16).padStart(2, '0'));
    const more = data.length > PREVIEW_BYTES ? ' …' : '';
    return `binary, ${size}: <${hex.join(' ')}${more}>`;
  }
  const chars = [...data.toString('utf8')];
  if (chars.length <= PREVIEW_CHARS) return `text, ${size}: ${JSON.stringify(chars.join(''))}`;
  return `text, ${size}: ${JSON.stringify(chars.slice(0, PREVIEW_CHARS).join(''))}… (truncated)`;
}

/** The message of anything thrown, for a log line. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
