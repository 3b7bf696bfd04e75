import { createServer, type DevServer, type ServerOptions } from '../../server/app.js';

/** A dev server listening on a free port, for tests. */
export interface TestDevServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  /** `ws://127.0.0.1:<port>`: the echo endpoint. */
  readonly wsUrl: string;
  readonly port: number;
  /** The server itself (`wss.clients` to drop connections, `httpServer`, `app`). */
  readonly server: DevServer;
  /** `server.close()`: 1001 to every client, then the HTTP server. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts `createServer()` on 127.0.0.1 on a free port, quiet (errors still print). `options` override
 * those defaults: pass `port` to restart a server on the port a previous one used.
 * @example
 * const dev = await startDevServer();
 * afterEach(() => dev.close());
 */
export async function startDevServer(options: ServerOptions = {}): Promise<TestDevServer> {
  const server = createServer({ host: '127.0.0.1', port: 0, quiet: true, ...options });
  const { url } = await server.listen();
  const port = Number(new URL(url).port);
  return { url, wsUrl: url.replace(/^http/, 'ws'), port, server, close: () => server.close() };
}
