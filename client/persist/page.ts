import type { DeliveryHost } from 'tether-ws';

type Disposables = DeliveryHost<unknown>['watchers'];

/**
 * `pagehide` (`hide(true)`: the page is going) and the page turning hidden (`hide(false)`: a
 * mobile browser may discard it after that without another event) start the waiting write at once
 * and journal what is not yet committed (writer.ts); `pageshow` and the page turning visible
 * again call `show`. The listeners are owned by `watchers` (the client's: until it is closed),
 * and `released` runs when they go. Returns false where there is no page to watch (Node, a worker).
 */
export function flushOnPageHide(
  watchers: Disposables,
  hide: (going: boolean) => void,
  show: () => void,
  released: () => void,
): boolean {
  const scope = globalThis as Partial<Window & typeof globalThis>;
  if (typeof scope.addEventListener !== 'function') return false;
  const window = scope as Window;
  watchers.listen(window, 'pagehide', () => hide(true));
  watchers.listen(window, 'pageshow', show);
  watchers.listen(window, 'visibilitychange', () =>
    scope.document?.visibilityState === 'hidden' ? hide(false) : show(),
  );
  watchers.add(released);
  return true;
}
