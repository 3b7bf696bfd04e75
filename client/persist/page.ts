import type { DeliveryHost } from 'tether-ws';

type Disposables = DeliveryHost<unknown>['watchers'];

/**
 * `pagehide`, and the page turning hidden (a mobile browser may discard it after that without
 * another event), call `flush`: the waiting write starts at once instead of after the one in
 * flight. The listeners are owned by `watchers` (the client's: until it is closed), and `released`
 * runs when they go. Returns false where there is no page to watch (Node, a worker).
 */
export function flushOnPageHide(watchers: Disposables, flush: () => void, released: () => void): boolean {
  const scope = globalThis as Partial<Window & typeof globalThis>;
  if (typeof scope.addEventListener !== 'function') return false;
  watchers.listen(scope as Window, 'pagehide', flush);
  watchers.listen(
    scope as Window,
    'visibilitychange',
    () => scope.document?.visibilityState === 'hidden' && flush(),
  );
  watchers.add(released);
  return true;
}
