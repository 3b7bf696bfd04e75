/**
 * Where the dev server writes its lines. `info` is for the activity log (connections, messages),
 * `error` for faults of the server itself (a handler that threw). Lines carry no timestamp and no
 * trailing newline; the logger decides how to print them.
 */
export interface Logger {
  info(line: string): void;
  error(line: string): void;
}

/** Prints to stdout / stderr, each line prefixed with an ISO timestamp. */
export const consoleLogger: Logger = {
  info: (line) => console.log(`${new Date().toISOString()} ${line}`),
  error: (line) => console.error(`${new Date().toISOString()} ${line}`),
};

/** Drops the activity log and keeps errors: what `quiet: true` and `LOG=quiet` give. */
export function quietLogger(logger: Logger): Logger {
  return { info: () => {}, error: (line) => logger.error(line) };
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
