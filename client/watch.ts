import type { Disposables } from './disposables.js';

export interface EnvironmentHandlers {
  /** The browser regained a network connection. */
  online(): void;
  /** The browser lost its network connection. */
  offline(): void;
  /** The page became visible again after `hiddenFor` ms hidden (timers may have been throttled). */
  visible(hiddenFor: number): void;
}

/**
 * Subscribes to the browser's network and page-visibility events, owned by `owner`. Globals are
 * read here, at call time, so that the library imports cleanly where they do not exist (Node, SSR,
 * workers without `document`): there, this does nothing.
 */
export function watchEnvironment(owner: Disposables, handlers: EnvironmentHandlers): void {
  const scope = globalThis as Partial<Window & typeof globalThis>;
  if (typeof scope.addEventListener === 'function') {
    owner.listen(scope as Window, 'online', () => handlers.online());
    owner.listen(scope as Window, 'offline', () => handlers.offline());
  }
  const page = scope.document;
  if (page && typeof page.addEventListener === 'function') {
    // A page opened in a background tab never sees the change to hidden: start from now.
    let hiddenAt = page.visibilityState === 'hidden' ? Date.now() : 0;
    owner.listen(page, 'visibilitychange', () => {
      if (page.visibilityState === 'hidden') hiddenAt = Date.now();
      else if (hiddenAt) handlers.visible(Date.now() - hiddenAt);
    });
  }
}
