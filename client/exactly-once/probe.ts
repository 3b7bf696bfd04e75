import type { ConnectionOptions } from '../connection.js';
import type { Disposables } from '../disposables.js';

const noop = () => {};

/**
 * A side connection without `tether.v1`, after an attempt that never opened (see Negotiation):
 * it only tells whether the server takes plain connections (`settle(true)` when it opens, `false`
 * when it fails), and is closed as soon as it settles. Built with the client's own `WebSocket`
 * constructor and subprotocols, owned by `owner` (released at the latest when the client closes).
 * Returns its release, or nothing if the constructor threw: the next attempt will fail the same
 * way, and report it.
 */
export function openProbe(
  url: string,
  { WebSocket: Impl, protocols }: ConnectionOptions,
  owner: Disposables,
  settle: (opened: boolean) => void,
): (() => void) | undefined {
  let socket: WebSocket;
  try {
    socket = new ((Impl ?? globalThis.WebSocket) as unknown as typeof WebSocket)(url, protocols);
  } catch {
    return undefined;
  }
  const onOpen = () => settle(true);
  const onFail = () => settle(false);
  socket.addEventListener('open', onOpen);
  socket.addEventListener('error', onFail);
  socket.addEventListener('close', onFail);
  return owner.add(() => {
    socket.removeEventListener('open', onOpen);
    socket.removeEventListener('error', onFail);
    socket.removeEventListener('close', onFail);
    // Its late `error` is absorbed: Node's ws would crash without a listener.
    socket.addEventListener('error', noop);
    if (socket.readyState <= 1) socket.close();
  });
}
