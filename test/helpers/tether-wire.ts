/**
 * The client side of tether.v1 (docs/protocol.md), written by hand for the server adapter's tests:
 * - `WirePeer`: a raw ws client that sends exactly the frames a test writes and records every frame
 *   it receives, decoded, so tests can assert the wire itself (handshake, acks, resends, errors).
 * - `MiniTetherClient`: a minimal but complete protocol client (seq numbers, send buffer, resend on
 *   welcome, duplicate drop, batched acks) for the property test, until the real client is used.
 */
import type { AddressInfo } from 'node:net';
import WebSocket, { type RawData, WebSocketServer } from 'ws';
import { BINARY_HEADER_BYTES, BYE, SESSION_PARAM, TETHER_PROTOCOL } from '../../protocol/constants.js';
import {
  decodeServerText,
  encodeAck,
  encodeHello,
  encodeMessage,
  readBinaryHeader,
} from '../../protocol/frames.js';
import { PONG } from '../../protocol/heartbeat.js';
import { waitFor } from './next-event.js';

export const TETHER = TETHER_PROTOCOL;
const WAIT_MS = 2000;

/** A frame received from the server, decoded. */
export type ServerFrame =
  | { type: 'welcome'; sid: string; recv: number; resumed: boolean; window: number; extra: string[] }
  | { type: 'message'; seq: number; data: string | Buffer; isBinary: boolean }
  | { type: 'ack'; seq: number }
  | { type: 'bye' }
  | { type: 'pong' }
  | { type: 'unknown'; raw: string | Buffer };

/**
 * Decodes with the protocol's codec (protocol/frames.ts), plus what only a test looks at: pong, the
 * welcome's `window`, and any field a welcome carries beyond the protocol's (`extra`).
 */
export function decodeServerFrame(raw: Buffer, isBinary: boolean): ServerFrame {
  if (isBinary) {
    const seq = readBinaryHeader(new DataView(raw.buffer, raw.byteOffset, raw.byteLength));
    if (seq !== undefined)
      return { type: 'message', seq, data: raw.subarray(BINARY_HEADER_BYTES), isBinary: true };
    return { type: 'unknown', raw };
  }
  const text = raw.toString('utf8');
  if (text === PONG) return { type: 'pong' };
  const frame = decodeServerText(text);
  switch (frame.type) {
    case 'invalid':
      return { type: 'unknown', raw: text };
    case 'message':
      return { ...frame, isBinary: false };
    case 'welcome': {
      const { v: _v, sid: _sid, recv: _recv, resumed: _resumed, window, ...rest } = JSON.parse(text.slice(1));
      return { ...frame, window, extra: Object.keys(rest) };
    }
    default:
      return frame;
  }
}

export function textMessage(seq: number, text: string): string {
  return encodeMessage(seq, text);
}

export function binaryMessage(seq: number, payload: Uint8Array): Buffer {
  const frame = encodeMessage(seq, payload);
  return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}

/** The key these tests' peers give in the hello for session `sid`, unless a test passes another. */
export function keyOf(sid: string): string {
  return `${sid}-key-0123456789abcdef`;
}

/** A hello; `key: null` leaves the key out. */
export function hello(sid: string, recv: number, key: string | null = keyOf(sid)): string {
  return encodeHello(sid, recv, key ?? undefined);
}

export interface PeerOptions {
  /** Subprotocols to offer. @default ['tether.v1'] */
  protocols?: string[];
  /** The `tether_sid` query parameter; `null` leaves it out. @default the sid */
  querySid?: string | null;
  /** Extra headers (e.g. `Origin`). */
  headers?: Record<string, string>;
}

/** A raw ws client that records decoded frames; see the file comment. */
export class WirePeer {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #read = 0;

  private constructor(readonly socket: WebSocket) {
    socket.on('error', () => {}); // resets are part of these tests
    socket.on('message', (raw: RawData, isBinary: boolean) => {
      this.frames.push(decodeServerFrame(raw as Buffer, isBinary));
      socket.emit('frame');
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
    );
  }

  /** Opens a connection to `url` (the path of the tether endpoint) for session `sid`; sends nothing. */
  static async open(url: string, sid: string, options: PeerOptions = {}): Promise<WirePeer> {
    const { protocols = [TETHER], querySid = sid, headers } = options;
    const target = new URL(url);
    if (querySid !== null) target.searchParams.set(SESSION_PARAM, querySid);
    const socket = new WebSocket(target, protocols, { headers });
    const peer = new WirePeer(socket);
    await waitFor(socket, 'open', { timeoutMs: WAIT_MS, failOn: ['error', 'close'], label: 'wire peer' });
    return peer;
  }

  /** Opens, sends hello with `recv`, and resolves with the welcome. */
  static async connect(
    url: string,
    sid: string,
    recv = 0,
    options: PeerOptions = {},
  ): Promise<{ peer: WirePeer; welcome: Extract<ServerFrame, { type: 'welcome' }> }> {
    const peer = await WirePeer.open(url, sid, options);
    peer.send(hello(sid, recv));
    const welcome = await peer.next();
    if (welcome.type !== 'welcome') throw new Error(`expected a welcome, got ${JSON.stringify(welcome)}`);
    return { peer, welcome };
  }

  send(frame: string | Buffer): void {
    this.socket.send(frame);
  }

  /** The next frame not yet returned by `next()`. */
  async next(timeoutMs = WAIT_MS): Promise<ServerFrame> {
    while (this.#read >= this.frames.length) {
      await waitFor(this.socket, 'frame', { timeoutMs, failOn: ['close'], label: 'wire peer' });
    }
    const frame = this.frames[this.#read] as ServerFrame;
    this.#read += 1;
    return frame;
  }

  /** Waits until `predicate` holds for the frames received so far. */
  async until(
    predicate: (frames: ServerFrame[]) => boolean,
    what: string,
    timeoutMs = WAIT_MS,
  ): Promise<void> {
    while (!predicate(this.frames)) {
      await waitFor(this.socket, 'frame', { timeoutMs, label: `wire peer (${what})` });
    }
  }

  messages(): Array<{ seq: number; data: string | Buffer; isBinary: boolean }> {
    return this.frames.flatMap((frame) => (frame.type === 'message' ? [frame] : []));
  }

  acks(): number[] {
    return this.frames.flatMap((frame) => (frame.type === 'ack' ? [frame.seq] : []));
  }

  terminate(): void {
    this.socket.terminate();
  }
}

/** A ws server on 127.0.0.1, port 0, handing every connection to `onConnection`. */
export async function startWsServer(
  onConnection: (socket: WebSocket, request: import('node:http').IncomingMessage) => void,
  options: WebSocket.ServerOptions = {},
): Promise<{ url: string; wss: WebSocketServer; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  await waitFor(wss, 'listening', { timeoutMs: WAIT_MS, failOn: ['error'], label: 'ws server' });
  wss.on('connection', onConnection);
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    wss,
    // Waits for every server-side socket's `close`: until then ws may hold its close-handshake timer.
    close: async () => {
      const closed = [...wss.clients].map((socket) => waitFor(socket, 'close', { timeoutMs: WAIT_MS }));
      for (const socket of wss.clients) socket.terminate();
      await Promise.all([...closed, new Promise<void>((resolve) => wss.close(() => resolve()))]);
    },
  };
}

type Payload = string | Buffer;

/** A minimal tether.v1 client; see the file comment. `received` is what it delivered, in order. */
export class MiniTetherClient {
  readonly received: Payload[] = [];
  /** Protocol violations it saw (a gap, an unexpected `resumed: false`, an unknown frame). */
  readonly violations: string[] = [];
  sent = 0;
  #buffer: Array<{ seq: number; frame: string | Buffer }> = [];
  #recv = 0;
  #unacked = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #socket: WebSocket | undefined;
  #ready = false;

  constructor(
    readonly url: string,
    readonly sid: string,
    private readonly ackBatch = 32,
    private readonly ackDelay = 5,
  ) {}

  /** Whether a handshaken connection is currently believed open. */
  get connected(): boolean {
    return this.#ready;
  }

  /** Opens a new connection (abandoning any current one without closing it) and waits for its welcome. */
  async connect(): Promise<void> {
    this.#detach();
    const target = new URL(this.url);
    target.searchParams.set(SESSION_PARAM, this.sid);
    const socket = new WebSocket(target, [TETHER]);
    this.#socket = socket;
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.#socket === socket) this.#detach();
    });
    socket.on('message', (raw: RawData, isBinary: boolean) => {
      if (this.#socket === socket) this.#receive(decodeServerFrame(raw as Buffer, isBinary), socket);
    });
    await waitFor(socket, 'open', { timeoutMs: WAIT_MS, failOn: ['close'], label: 'mini client' });
    socket.send(hello(this.sid, this.#recv));
    this.#unacked = 0;
    await waitFor(socket, 'welcomed', { timeoutMs: WAIT_MS, failOn: ['close'], label: 'mini client' });
  }

  send(data: Payload): void {
    this.sent += 1;
    const frame = typeof data === 'string' ? textMessage(this.sent, data) : binaryMessage(this.sent, data);
    this.#buffer.push({ seq: this.sent, frame });
    if (this.#ready) this.#socket?.send(frame);
  }

  /** Abrupt close of the current connection (1006 on the server). */
  terminate(): void {
    this.#socket?.terminate();
    this.#detach();
  }

  /** Ends the session: bye, then close 1000. */
  bye(): void {
    if (this.#ready) this.#socket?.send(BYE);
    this.#socket?.close(1000);
    this.#detach();
  }

  #receive(frame: ServerFrame, socket: WebSocket): void {
    switch (frame.type) {
      case 'welcome': {
        if (!frame.resumed && (this.sent > 0 || this.#recv > 0)) this.violations.push('resumed: false');
        this.#buffer = this.#buffer.filter((entry) => entry.seq > frame.recv);
        for (const entry of this.#buffer) socket.send(entry.frame);
        this.#ready = true;
        socket.emit('welcomed');
        return;
      }
      case 'message':
        if (frame.seq <= this.#recv) return;
        if (frame.seq !== this.#recv + 1) {
          this.violations.push(`gap: expected ${this.#recv + 1}, got ${frame.seq}`);
          return;
        }
        this.#recv = frame.seq;
        this.received.push(frame.data);
        this.#unacked += 1;
        if (this.#unacked >= this.ackBatch) this.#flushAck();
        else this.#ackTimer ??= setTimeout(() => this.#flushAck(), this.ackDelay);
        return;
      case 'ack':
        this.#buffer = this.#buffer.filter((entry) => entry.seq > frame.seq);
        return;
      case 'pong':
        return;
      default:
        this.violations.push(`unexpected frame ${JSON.stringify(frame)}`);
    }
  }

  #flushAck(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    if (this.#unacked === 0 || !this.#ready) return;
    this.#socket?.send(encodeAck(this.#recv));
    this.#unacked = 0;
  }

  #detach(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.#ready = false;
    this.#socket = undefined;
  }
}
