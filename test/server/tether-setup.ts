// Shared set-up of the adapter's tests: a plain ws server (port 0) handing every connection to a
// tether adapter, the raw peers a test opened, and one teardown that releases all of it.
import type { WebSocketServer } from 'ws';
import {
  createTetherServer,
  handleProtocols,
  type TetherServer,
  type TetherServerOptions,
  type TetherSession,
} from '../../server/tether/index.js';
import { type PeerOptions, startWsServer, WirePeer } from '../helpers/tether-wire.js';

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
