/**
 * A loopback TCP proxy for fault-injection tests. It sits between a WebSocket client and a server
 * and relays raw bytes, so every fault below hits the real TCP and WebSocket framing code of both
 * ends, not a mock.
 *
 *     client ──(up: client → server)──▶ proxy ──▶ target server
 *            ◀──(down: server → client)──
 *
 * Faults apply to the bytes at the moment the proxy would hand them on (after any latency), and to
 * every connection of the proxy. Each fault's JSDoc names the real network condition it stands for.
 *
 * @example
 * const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: serverPort } });
 * const ws = new WebSocket(proxy.url('/echo'));
 * proxy.resetAll();
 * await proxy.close();
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';

/** `up` is client → server, `down` is server → client. */
export type Direction = 'up' | 'down';

export type DropReason = 'blackhole' | 'stall' | 'peer-closed';

export interface CutInfo {
  id: number;
  direction: Direction;
  /** Bytes of the cut chunk that were handed on before both sides were destroyed. */
  forwarded: number;
  /** Bytes of the cut chunk that were thrown away. */
  dropped: number;
}

/** Events of the proxy: the signals tests wait on instead of sleeping. */
export interface FaultProxyEvents {
  /** A TCP connection was accepted and kept (`stalled`: it will never get an upstream). */
  accept: [info: { id: number; stalled: boolean }];
  /** A TCP connection was accepted and reset at once because `refuse(true)` is on. */
  refuse: [info: { id: number }];
  /** A chunk arrived from one side (before any fault is applied). */
  receive: [info: { id: number; direction: Direction; bytes: number }];
  /** A chunk was handed on. */
  forward: [info: { id: number; direction: Direction; bytes: number }];
  /** A chunk was thrown away. */
  drop: [info: { id: number; direction: Direction; bytes: number; reason: DropReason }];
  /** A FIN (`end`) or a socket close was held back by the black hole, to be passed on when it lifts. */
  hold: [info: { id: number; direction: Direction; what: 'end' | 'close' }];
  /** `cutMidFrame()` fired. */
  cut: [info: CutInfo];
  /** Every socket of a connection has closed. */
  disconnect: [info: { id: number }];
}

export interface FaultTarget {
  host: string;
  port: number;
}

export interface FaultProxyOptions {
  /**
   * Where to relay to: one server, or a function asked once per accepted connection (a load
   * balancer over several servers, e.g. round robin over the live ones).
   */
  target: FaultTarget | (() => FaultTarget);
}

/**
 * Listens on 127.0.0.1, port 0 (the OS picks a free one), and resolves once it is listening.
 * Call `close()` when done (in `afterEach`): it releases every socket, timer and the listener.
 */
export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new FaultProxy(options);
  await proxy.listen();
  return proxy;
}

/** See {@link createFaultProxy}. */
export class FaultProxy extends EventEmitter<FaultProxyEvents> {
  private readonly server: net.Server;
  private readonly target: () => FaultTarget;
  private readonly links = new Set<Link>();
  private readonly sockets = new Set<net.Socket>();
  private listenPort: number | undefined;
  private nextId = 1;
  private acceptedCount = 0;
  private readonly forwardedBytes = { up: 0, down: 0 };
  private readonly droppedBytes = { up: 0, down: 0 };
  /** @internal Read by the pipes. */
  readonly faults = {
    blackhole: false,
    latencyMs: 0,
    refuse: false,
    stall: false,
    cut: { up: false, down: false },
  };

  constructor(options: FaultProxyOptions) {
    super();
    const { target } = options;
    const fixed = typeof target === 'function' ? undefined : { ...target };
    this.target = fixed ? () => fixed : (target as () => FaultTarget);
    // allowHalfOpen: the proxy decides when to pass a FIN on (not while black-holed).
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.onConnection(socket));
  }

  /** @internal Use {@link createFaultProxy}. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.listenPort = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /**
   * The port the proxy listens on, on 127.0.0.1. It stays readable after `close()`, so a test can
   * point a client at a proxy that is gone (connection refused: the server is down for good).
   */
  get port(): number {
    if (this.listenPort === undefined)
      throw new Error('FaultProxy is not listening yet: use createFaultProxy()');
    return this.listenPort;
  }

  /** `ws://127.0.0.1:PORT/path`. @param path defaults to `/`. */
  url(path = '/'): string {
    return `ws://127.0.0.1:${this.port}${path.startsWith('/') ? path : `/${path}`}`;
  }

  /** Whether the proxy still accepts connections (false once `close()` has begun). */
  get listening(): boolean {
    return this.server.listening;
  }

  /** Connections with at least one socket not closed yet (refused ones excluded). */
  get connections(): number {
    return this.links.size;
  }

  /** TCP connections accepted since creation, refused and stalled ones included. */
  get accepted(): number {
    return this.acceptedCount;
  }

  /** Bytes handed on in each direction. */
  get bytes(): { up: number; down: number } {
    return { ...this.forwardedBytes };
  }

  /** Bytes thrown away in each direction (black hole, stall, cut, or peer already gone). */
  get dropped(): { up: number; down: number } {
    return { ...this.droppedBytes };
  }

  /**
   * Resets every current connection on both sides (TCP RST): the client sees an abrupt close
   * (1006), and so does the server. Models a server process crash or restart, a load balancer or
   * NAT dropping its flows and answering the next packet with a reset, or a network switch that
   * changes the client's address (Wi-Fi to cellular). New connections are not affected.
   */
  resetAll(): void {
    for (const link of this.links) link.reset();
  }

  /**
   * While on, nothing crosses the proxy either way, but no socket is closed: chunks, FINs and
   * resets are swallowed, so each end keeps believing the connection is open (half-open). Models a
   * NAT or firewall that silently forgot the flow, a laptop that slept, a cable pulled on the far
   * side: only a heartbeat (application ping with a timeout) can notice.
   *
   * Data is thrown away, not delayed; unlike a real black hole, the proxy's kernel acknowledges it,
   * so the sender's `bufferedAmount` does not grow. Turning it off resumes forwarding, but the
   * byte stream has a hole in it (WebSocket framing may be corrupt), and a side that closed while
   * black-holed is then reset on the other side too, as a peer answering a forgotten flow would.
   */
  blackhole(on: boolean): void {
    this.faults.blackhole = on;
    if (!on) for (const link of this.links) link.releaseDeferred();
  }

  /**
   * Delays every chunk (and FIN) by `ms` in both directions, keeping order; applies to chunks
   * that arrive from now on. Models a slow or congested link (mobile, satellite, a distant region),
   * which exposes timeouts set too tight and races between open, send and close.
   */
  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`setLatency(): got ${ms}; expected a finite number of milliseconds >= 0.`);
    }
    this.faults.latencyMs = ms;
  }

  /**
   * Arms a one-shot cut: the next chunk to go `direction` (on any connection) is handed on only in
   * part (half of it, at least one byte is held back), then both sides of that connection are
   * closed. The receiver is left with an incomplete WebSocket frame and no closing handshake
   * (1006). Emits `cut` with the byte counts. Models a connection dying mid-transfer: a server
   * killed while writing, a mobile handover, a proxy timing out a long message.
   *
   * @param direction defaults to `'down'` (server → client).
   */
  cutMidFrame(direction: Direction = 'down'): void {
    this.faults.cut[direction] = true;
  }

  /**
   * While on, new TCP connections are accepted and reset at once (existing ones are untouched);
   * the client's handshake fails (1006 in a browser, ECONNRESET in Node). Emits `refuse`. Models a
   * server that is down or restarting behind a load balancer, or a deploy window.
   */
  refuse(on: boolean): void {
    this.faults.refuse = on;
  }

  /**
   * While on, new TCP connections are accepted but never connected upstream: the upgrade request
   * is read and dropped, and no response ever comes, so the client stays in CONNECTING until its
   * own timeout. Connections accepted while it was on stay stalled after it is turned off. Models
   * an overloaded server or a captive portal/middlebox that completes TCP but never answers HTTP.
   */
  stall(on: boolean): void {
    this.faults.stall = on;
  }

  /**
   * Stops listening, resets every connection, clears every latency timer, and resolves once the
   * listener and all sockets have closed: nothing of the proxy keeps the event loop alive.
   */
  async close(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
    const socketsClosed = [...this.sockets].map(
      (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
    );
    for (const link of this.links) link.reset();
    for (const socket of this.sockets) hardReset(socket);
    await Promise.all([serverClosed, ...socketsClosed]);
  }

  /** @internal Called by pipes. */
  count(kind: 'forward' | 'drop', direction: Direction, bytes: number): void {
    (kind === 'forward' ? this.forwardedBytes : this.droppedBytes)[direction] += bytes;
  }

  /** @internal Registers a socket: error-safe, and awaited by `close()`. */
  track(socket: net.Socket): void {
    // ECONNRESET/EPIPE are expected here; without a listener they would crash the process.
    // The `close` event that follows every error is where the proxy reacts.
    socket.on('error', () => {});
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** @internal Called by a link once all its sockets have closed. */
  forget(link: Link): void {
    if (this.links.delete(link)) this.emit('disconnect', { id: link.id });
  }

  private onConnection(client: net.Socket): void {
    const id = this.nextId++;
    this.acceptedCount += 1;
    this.track(client);
    if (this.faults.refuse) {
      hardReset(client);
      this.emit('refuse', { id });
      return;
    }
    const link = new Link(this, id, client, this.faults.stall ? undefined : this.target());
    this.links.add(link);
    this.emit('accept', { id, stalled: this.faults.stall });
  }
}

type Item =
  | { kind: 'data'; chunk: Buffer; due: number }
  | { kind: 'end'; due: number }
  | { kind: 'close'; reset: boolean; due: number };

/** One proxied connection: the client socket and (unless stalled) its upstream socket. */
class Link {
  private readonly pipes: Pipe[] = [];
  private readonly sockets: net.Socket[];

  constructor(
    proxy: FaultProxy,
    readonly id: number,
    client: net.Socket,
    target: { host: string; port: number } | undefined,
  ) {
    if (target === undefined) {
      client.on('data', (chunk: Buffer) => {
        proxy.emit('receive', { id, direction: 'up', bytes: chunk.length });
        proxy.count('drop', 'up', chunk.length);
        proxy.emit('drop', { id, direction: 'up', bytes: chunk.length, reason: 'stall' });
      });
      this.sockets = [client];
    } else {
      const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
      proxy.track(upstream);
      this.sockets = [client, upstream];
      const up = new Pipe(proxy, this, 'up', client, upstream);
      const down = new Pipe(proxy, this, 'down', upstream, client);
      this.pipes.push(up, down);
      // A socket that is gone can no longer receive what was queued for it.
      client.once('close', () => down.dispose());
      upstream.once('close', () => up.dispose());
    }
    let open = this.sockets.length;
    for (const socket of this.sockets) {
      socket.once('close', () => {
        open -= 1;
        if (open === 0) {
          for (const pipe of this.pipes) pipe.dispose();
          proxy.forget(this);
        }
      });
    }
  }

  /** Abrupt close of both sides (RST). */
  reset(): void {
    for (const pipe of this.pipes) pipe.dispose();
    for (const socket of this.sockets) hardReset(socket);
  }

  /** After a black hole: deliver the FINs/closes that were swallowed. */
  releaseDeferred(): void {
    for (const pipe of this.pipes) pipe.releaseDeferred();
  }

  /** The cut: hand on `part` to `to`, then close both sides once it is written. */
  cut(to: net.Socket, part: Buffer): void {
    for (const pipe of this.pipes) pipe.dispose();
    for (const socket of this.sockets) {
      if (socket !== to) socket.destroy();
    }
    // Destroy only after the partial chunk reached the kernel, so the receiver does get it.
    if (part.length === 0) to.destroy();
    else to.write(part, () => to.destroy());
  }
}

/** One direction of a link: reads `from`, applies the faults, writes `to`, in order. */
class Pipe {
  private queue: Item[] = [];
  private deferred: Item[] = [];
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;
  private waitingForDrain = false;

  constructor(
    private readonly proxy: FaultProxy,
    private readonly link: Link,
    private readonly direction: Direction,
    private readonly from: net.Socket,
    private readonly to: net.Socket,
  ) {
    from.on('data', (chunk: Buffer) => {
      proxy.emit('receive', { id: link.id, direction, bytes: chunk.length });
      this.push({ kind: 'data', chunk, due: this.due() });
    });
    from.on('end', () => this.push({ kind: 'end', due: this.due() }));
    from.once('close', (hadError) => this.push({ kind: 'close', reset: hadError, due: this.due() }));
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.deferred = [];
  }

  releaseDeferred(): void {
    const items = this.deferred;
    this.deferred = [];
    for (const item of items) this.deliver(item);
  }

  private due(): number {
    return performance.now() + this.proxy.faults.latencyMs;
  }

  private push(item: Item): void {
    if (this.disposed) return;
    this.queue.push(item);
    this.pump();
  }

  /** Delivers due items in order; one timer waits for the head of the queue. */
  private pump(): void {
    if (this.timer !== undefined) return;
    for (;;) {
      const head = this.queue[0];
      if (head === undefined || this.disposed) return;
      const wait = head.due - performance.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, Math.ceil(wait));
        return;
      }
      this.queue.shift();
      this.deliver(head);
    }
  }

  private deliver(item: Item): void {
    const { proxy, direction, to } = this;
    const id = this.link.id;
    if (item.kind !== 'data') {
      // Swallowed while black-holed (each end must keep believing the other is there), then
      // delivered when the hole closes.
      if (proxy.faults.blackhole) {
        this.deferred.push(item);
        proxy.emit('hold', { id, direction, what: item.kind });
      } else if (item.kind === 'end') to.end();
      else if (item.reset) hardReset(to);
      else gracefulDestroy(to);
      return;
    }
    const { chunk } = item;
    const drop = (reason: DropReason) => {
      const bytes = chunk.length;
      proxy.count('drop', direction, bytes);
      proxy.emit('drop', { id, direction, bytes, reason });
    };
    if (proxy.faults.blackhole) {
      drop('blackhole');
      return;
    }
    if (to.destroyed || to.writableEnded) {
      drop('peer-closed');
      return;
    }
    if (proxy.faults.cut[direction]) {
      proxy.faults.cut[direction] = false;
      const forwarded = Math.floor(chunk.length / 2);
      proxy.count('forward', direction, forwarded);
      proxy.count('drop', direction, chunk.length - forwarded);
      this.link.cut(to, chunk.subarray(0, forwarded));
      proxy.emit('cut', { id, direction, forwarded, dropped: chunk.length - forwarded });
      return;
    }
    proxy.count('forward', direction, chunk.length);
    proxy.emit('forward', { id, direction, bytes: chunk.length });
    if (!to.write(chunk) && !this.waitingForDrain) {
      // Backpressure: stop reading until the receiver catches up.
      this.waitingForDrain = true;
      this.from.pause();
      to.once('drain', () => {
        this.waitingForDrain = false;
        this.from.resume();
      });
    }
  }
}

/**
 * Closes with a TCP RST. `resetAndDestroy()` waits for a pending connect (which may never come),
 * and needs a live handle, so fall back to a plain destroy in those cases.
 */
function hardReset(socket: net.Socket): void {
  if (socket.destroyed) return;
  // A reset while our own FIN (end()) is still pending fails in libuv with EINVAL, after which
  // Node 20 drops the handle without ever emitting 'close' (close() would wait forever, and the
  // process spins at exit). Such a socket is destroyed plainly instead.
  if (socket.connecting || socket.pending || (socket.writableEnded && !socket.writableFinished))
    socket.destroy();
  else socket.resetAndDestroy();
}

/** Closes after what was already written has been flushed (FIN, not RST). */
function gracefulDestroy(socket: net.Socket): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end();
}
