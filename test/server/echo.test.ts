import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../server/app.js';
import { startDevServer, type TestDevServer } from '../helpers/dev-server.js';
import { Clients, closeOf, nextMessage } from '../helpers/ws-clients.js';

describe('WebSocket echo endpoint', () => {
  let dev: TestDevServer;
  const clients = new Clients();

  afterEach(async () => {
    clients.closeAll();
    await dev?.close();
  });

  describe('with the default server', () => {
    beforeEach(async () => {
      dev = await startDevServer();
    });

    it('echoes a text message as text, unchanged', async () => {
      const socket = await clients.open(dev.wsUrl);
      socket.send('héllo, wörld ✓');
      expect(await nextMessage(socket)).toMatchObject({ text: 'héllo, wörld ✓', isBinary: false });
    });

    it('echoes a binary message as binary, byte for byte', async () => {
      const socket = await clients.open(dev.wsUrl);
      const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
      socket.send(bytes);
      const echoed = await nextMessage(socket);
      expect(echoed.isBinary).toBe(true);
      expect(echoed.data.equals(bytes)).toBe(true);
    });

    it('keeps the order of many messages', async () => {
      const socket = await clients.open(dev.wsUrl);
      const texts = Array.from({ length: 50 }, (_, i) => `message ${i}`);
      const received: string[] = [];
      const done = new Promise<void>((resolve) => {
        socket.on('message', (data) => {
          received.push(String(data));
          if (received.length === texts.length) resolve();
        });
      });
      for (const text of texts) socket.send(text);
      await done;
      expect(received).toEqual(texts);
    });

    it('answers the heartbeat "__ping__" with "__pong__" instead of echoing it', async () => {
      const socket = await clients.open(dev.wsUrl);
      socket.send('__ping__');
      expect(await nextMessage(socket)).toMatchObject({ text: '__pong__', isBinary: false });
    });

    it('echoes "__ping__" sent as binary, which is data and not a heartbeat', async () => {
      const socket = await clients.open(dev.wsUrl);
      socket.send(Buffer.from('__ping__'));
      expect(await nextMessage(socket)).toMatchObject({ text: '__ping__', isBinary: true });
    });

    it('accepts a query string on the endpoint', async () => {
      const socket = await clients.open(`${dev.wsUrl}/?room=1`);
      socket.send('q');
      expect(await nextMessage(socket)).toMatchObject({ text: 'q' });
    });
  });

  describe('logging', () => {
    function recordingLogger() {
      const lines: string[] = [];
      const logger: Logger = {
        info: (line) => lines.push(line),
        error: (line) => lines.push(`ERROR ${line}`),
      };
      return { lines, logger };
    }

    it('logs the open, each message with kind, size and preview, and the close with its code', async () => {
      const { lines, logger } = recordingLogger();
      dev = await startDevServer({ quiet: false, logger });
      const socket = await clients.open(dev.wsUrl);
      socket.send('hi');
      await nextMessage(socket);
      socket.send('x'.repeat(200));
      await nextMessage(socket);
      socket.send('__ping__');
      await nextMessage(socket);
      socket.close(1000, 'bye');
      await vi.waitFor(() => expect(lines.some((line) => line.includes('closed'))).toBe(true));
      expect(lines).toEqual([
        '[ws #1] open from 127.0.0.1 (no origin)',
        '[ws #1] Data received: text, 2 bytes: "hi"',
        `[ws #1] Data received: text, 200 bytes: "${'x'.repeat(80)}"… (truncated)`,
        '[ws #1] closed 1000 "bye" after 2 messages',
      ]);
    });

    it('logs nothing but errors when quiet', async () => {
      const { lines, logger } = recordingLogger();
      dev = await startDevServer({ quiet: true, logger });
      const socket = await clients.open(dev.wsUrl);
      socket.send('hi');
      await nextMessage(socket);
      expect(lines).toEqual([]);
    });
  });

  describe('a handler that throws', () => {
    it('closes that connection with 1011, reports the error, and keeps serving the others', async () => {
      const errors: string[] = [];
      const logger: Logger = {
        info: (line) => {
          if (line.includes('boom')) throw new Error('logger failed');
        },
        error: (line) => errors.push(line),
      };
      dev = await startDevServer({ quiet: false, logger });
      const failing = await clients.open(dev.wsUrl);
      const healthy = await clients.open(dev.wsUrl);
      failing.send('boom');
      expect(await closeOf(failing)).toEqual({ code: 1011, reason: 'Internal error' });
      expect(errors).toEqual(['[ws #1] handler failed, closing with 1011: Error: logger failed']);
      healthy.send('still there?');
      expect(await nextMessage(healthy)).toMatchObject({ text: 'still there?', isBinary: false });
    });
  });
});
