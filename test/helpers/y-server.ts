/**
 * A y-websocket server for the tests of consumers that reconnect on their own: one Y.Doc per
 * room (the URL's path), the y-protocols sync protocol on a `ws` server at 127.0.0.1. It is the
 * protocol y-websocket's own server speaks (sync step 1 on connect, sync replies, updates
 * broadcast to the room) without its awareness relay, which these tests do not read. y-websocket 3
 * ships no server, and @y/websocket-server needs yjs 14 and ws 6.
 */
import type { AddressInfo } from 'node:net';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import * as sync from 'y-protocols/sync';
import * as Y from 'yjs';
import { waitFor } from './next-event.js';

const MESSAGE_SYNC = 0;

export interface YServer {
  wss: WebSocketServer;
  url: string;
  /** The room's document on this server. */
  doc(room: string): Y.Doc;
  /** The most connections that were open at once on this server. */
  readonly maxLive: number;
  /** Cuts every connection (1006 on the client), then frees the port: a crash. */
  stop(): Promise<void>;
}

export async function startYServer(port = 0): Promise<YServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await waitFor(wss, 'listening', { timeoutMs: 5000, failOn: ['error'], label: 'y server' });
  const docs = new Map<string, { doc: Y.Doc; peers: Set<WebSocket> }>();
  const room = (name: string) => {
    let entry = docs.get(name);
    if (!entry) {
      const doc = new Y.Doc();
      const peers = new Set<WebSocket>();
      doc.on('update', (update: Uint8Array) => {
        const encoder = encoding.createEncoder();
        encoding.writeVarUint(encoder, MESSAGE_SYNC);
        sync.writeUpdate(encoder, update);
        const frame = encoding.toUint8Array(encoder);
        for (const peer of peers) peer.send(frame);
      });
      entry = { doc, peers };
      docs.set(name, entry);
    }
    return entry;
  };
  let maxLive = 0;
  wss.on('connection', (socket, request) => {
    maxLive = Math.max(maxLive, wss.clients.size);
    const { doc, peers } = room(new URL(request.url ?? '/', 'ws://x').pathname.slice(1));
    peers.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => peers.delete(socket));
    socket.on('message', (data: Buffer) => {
      const decoder = decoding.createDecoder(new Uint8Array(data));
      if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return; // awareness: not relayed
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      sync.readSyncMessage(decoder, encoder, doc, socket);
      if (encoding.length(encoder) > 1) socket.send(encoding.toUint8Array(encoder));
    });
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    sync.writeSyncStep1(encoder, doc);
    socket.send(encoding.toUint8Array(encoder));
  });
  return {
    wss,
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    doc: (name) => room(name).doc,
    get maxLive() {
      return maxLive;
    },
    async stop() {
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
