import type { RawData } from 'ws';

/**
 * One Buffer for a message as ws hands it over: a Buffer by default (`binaryType: 'nodebuffer'`),
 * else an ArrayBuffer or Buffer fragments. The adapter cannot choose its sockets' binaryType (the
 * application created them), and the dev server's echo uses it too.
 */
export function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
