import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { describeEachEngine } from '../helpers/engines';
import { waitFor, waitUntil } from '../helpers/next-event';

const timeoutMs = 5000;

/** The page connects back to the server that served it and shows the echo. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>tether-ws smoke</title>
<h1>tether-ws browser smoke</h1>
<p id="status">connecting</p>
<script>
  const status = document.getElementById('status');
  const socket = new WebSocket('ws://' + location.host + '/echo');
  socket.onopen = () => socket.send('hello from the page');
  socket.onmessage = (event) => { status.textContent = 'echo: ' + event.data; };
  socket.onclose = (event) => { status.textContent += ' (closed ' + event.code + ')'; };
</script>`;

describeEachEngine('browser smoke test', (suite) => {
  let http: Server;
  let wss: WebSocketServer;
  let origin: string;
  const received: string[] = [];
  const closeCodes: number[] = [];

  beforeAll(async () => {
    http = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    });
    // The WebSocket server shares the page's port: same origin, one listener to close.
    wss = new WebSocketServer({ server: http, path: '/echo' });
    wss.on('connection', (socket) => {
      socket.on('error', () => {});
      socket.on('message', (data, isBinary) => {
        received.push(isBinary ? `binary:${(data as Buffer).length}` : data.toString());
        socket.send(data, { binary: isBinary });
      });
      socket.on('close', (code) => closeCodes.push(code));
    });
    http.listen(0, '127.0.0.1');
    await waitFor(http, 'listening', { timeoutMs, failOn: ['error'], label: 'http server' });
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const socket of wss?.clients ?? []) socket.terminate();
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
    http?.closeAllConnections();
    await new Promise<void>((resolve) => (http?.listening ? http.close(() => resolve()) : resolve()));
  });

  it('echoes a text message over a real WebSocket from a page, and saves a screenshot', async () => {
    const page = await suite.newPage();
    await page.goto(`${origin}/`);

    await page
      .waitForFunction(
        () => document.getElementById('status')?.textContent === 'echo: hello from the page',
        undefined,
        {
          timeout: timeoutMs,
        },
      )
      .catch(async (error: unknown) => {
        const status = await page.evaluate(() => document.getElementById('status')?.textContent);
        throw new Error(`The page never showed the echo; #status reads ${JSON.stringify(status)}`, {
          cause: error,
        });
      });
    expect(received).toContain('hello from the page');

    const path = await page.screenshot('browser-smoke');
    // Every PNG starts with the same 8-byte signature.
    expect(readFileSync(path).subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
  });

  it('echoes binary data and completes a closing handshake with the code the page chose', async () => {
    const page = await suite.newPage();
    await page.goto(`${origin}/`);

    const result = await page.evaluate(
      async (url) => {
        const socket = new WebSocket(url);
        socket.binaryType = 'arraybuffer';
        await new Promise((resolve, reject) => {
          socket.onopen = resolve;
          socket.onerror = () => reject(new Error('WebSocket error before open'));
        });
        const reply = new Promise<ArrayBuffer>((resolve) => {
          socket.onmessage = (event) => resolve(event.data);
        });
        socket.send(new Uint8Array([1, 2, 3]));
        const bytes = [...new Uint8Array(await reply)];
        const closed = new Promise<CloseEvent>((resolve) => {
          socket.onclose = resolve;
        });
        socket.close(4000, 'smoke done');
        const event = await closed;
        return { bytes, code: event.code, wasClean: event.wasClean };
      },
      `${origin.replace('http', 'ws')}/echo`,
    );

    expect(result).toEqual({ bytes: [1, 2, 3], code: 4000, wasClean: true });
    expect(received).toContain('binary:3');
    // The page's `close` and the server's arrive over different channels: wait for the server's.
    await waitUntil(() => closeCodes.includes(4000), {
      timeoutMs,
      message: 'the server to see the page close with 4000',
    });
  });
});
