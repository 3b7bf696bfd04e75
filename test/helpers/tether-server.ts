// Shared set-up of the adapter's tests: a plain ws server (port 0) handing every connection to a
// tether adapter, the raw peers a test opened, one teardown that releases all of it, and the steps
// the tests share.
import type { WebSocketServer } from 'ws';
import {
  createTetherServer,
  handleProtocols,
  type TetherServer,
  type TetherServerOptions,
  type TetherSession,
} from '../../adapter/index.js';
import { encodeAck } from '../../protocol/frames.js';
import { PING } from '../../protocol/heartbeat.js';
import { type PeerOptions, startWsServer, WirePeer } from './tether-wire.js';

export interface Served {
  readonly url: string;
  readonly tether: TetherServer;
  readonly wss: WebSocketServer;
  /** Sessions in the order of their `session` event. */
  readonly sessions: TetherSession[];
  /** Opens a raw peer (closed by `teardown()`). */
  open(sid: string, options?: PeerOptions): Promise<WirePeer>;
  /** Opens a raw peer, sends hello and waits for the welcome. */
  connect(sid: string, recv?: number, options?: PeerOptions): ReturnType<typeof WirePeer.connect>;
}

const live: Array<() => Promise<void>> = [];

export async function serve(options: TetherServerOptions = {}): Promise<Served> {
  const tether = createTetherServer(options);
  const sessions: TetherSession[] = [];
  tether.on('session', (session) => sessions.push(session));
  const server = await startWsServer((socket, request) => tether.handle(socket, request), {
    handleProtocols,
  });
  const peers: WirePeer[] = [];
  live.push(async () => {
    tether.close();
    for (const peer of peers) peer.terminate();
    await server.close();
  });
  return {
    url: server.url,
    tether,
    wss: server.wss,
    sessions,
    async open(sid, peerOptions) {
      const peer = await WirePeer.open(server.url, sid, peerOptions);
      peers.push(peer);
      return peer;
    },
    async connect(sid, recv, peerOptions) {
      const result = await WirePeer.connect(server.url, sid, recv, peerOptions);
      peers.push(result.peer);
      return result;
    },
  };
}

/** Call in `afterEach`. */
export async function teardown(): Promise<void> {
  const pending = live.splice(0);
  await Promise.all(pending.map((close) => close()));
}

/** The session of a test that started exactly one; throws otherwise. */
export function only(sessions: readonly TetherSession[]): TetherSession {
  const [session] = sessions;
  if (!session || sessions.length !== 1) throw new Error(`expected one session, got ${sessions.length}`);
  return session;
}

/**
 * Acknowledges `seq` from `peer` and waits until the server has applied the ack: it handles one
 * connection's frames in order, so the pong to a ping sent after the ack proves it.
 */
export async function acknowledge(peer: WirePeer, seq: number): Promise<void> {
  const pongs = () => peer.frames.filter((frame) => frame.type === 'pong').length;
  const before = pongs();
  peer.send(encodeAck(seq));
  peer.send(PING);
  await peer.until(() => pongs() > before, `pong after a${seq}`);
}
