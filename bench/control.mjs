// The bench's HTTP and control server, in the orchestrating process. It serves the measured page
// (bench/page) and the library bundles, with cross-origin isolation headers so that the page's
// `performance.now()` has 5 µs resolution instead of 100 µs. Each page opens one control WebSocket
// back to it: the bench sends a command, the page measures and answers with its result. While a
// page measures, its control socket carries nothing (fault scenarios excepted: there, two or three
// small notes say when the fault began and ended).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { WebSocketServer } from 'ws';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript' };
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cache-Control': 'no-store',
};

/** Serves `/page/*` from `pageDir` and `/build/*` from `buildDir`; returns `{ origin, connect, close }`. */
export async function startControlServer({ pageDir, buildDir }) {
  const roots = { page: pageDir, build: buildDir };
  const server = createServer(async (req, res) => {
    const [, root, ...rest] = new URL(req.url, 'http://x').pathname.split('/');
    const file = normalize(rest.join('/'));
    if (!roots[root] || file.startsWith('..')) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(roots[root], file));
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        ...ISOLATION,
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  const waiting = new Map();
  const wss = new WebSocketServer({ server, path: '/control' });
  wss.on('connection', (socket, req) => {
    const id = new URL(req.url, 'http://x').searchParams.get('page');
    waiting.get(id)?.(socket);
    waiting.delete(id);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  let nextPage = 1;

  return {
    origin,
    /**
     * A URL for a new page and a promise of its control channel (`waitTimeoutMs` to connect).
     * The channel: `run(test, params, onNote)` sends a command and resolves with the page's result;
     * `onNote(note, reply)` sees the page's notes; `reply(message)` talks back to the page.
     */
    expectPage(query, waitTimeoutMs = 15_000) {
      const id = String(nextPage++);
      const url = `${origin}/page/index.html?page=${id}&${new URLSearchParams(query)}`;
      const channel = new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`page ${JSON.stringify(query)} did not connect within ${waitTimeoutMs} ms`));
        }, waitTimeoutMs);
        waiting.set(id, (socket) => {
          clearTimeout(timer);
          resolve(channelOf(socket));
        });
      });
      return { url, channel };
    },
    close() {
      for (const socket of wss.clients) socket.terminate();
      wss.close();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

function channelOf(socket) {
  const ready = new Promise((resolve, reject) => {
    socket.once('message', (raw) => {
      const message = JSON.parse(raw.toString());
      if (message.type === 'ready') resolve();
      else reject(new Error(`page failed to start: ${message.error}`));
    });
  });
  const send = (message) => socket.send(JSON.stringify(message));
  return {
    async run(test, params, onNote = () => {}, timeoutMs = 120_000) {
      await ready;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${test}: no result within ${timeoutMs} ms`)),
          timeoutMs,
        );
        socket.on('message', (raw) => {
          const message = JSON.parse(raw.toString());
          if (message.type === 'note') onNote(message, send);
          else {
            clearTimeout(timer);
            if (message.type === 'result') resolve(message.result);
            else reject(new Error(`${test} failed in the page: ${message.error}`));
          }
        });
        socket.on('close', () => {
          clearTimeout(timer);
          reject(new Error(`${test}: page closed its control channel`));
        });
        send({ type: 'run', test, params });
      });
    },
  };
}
