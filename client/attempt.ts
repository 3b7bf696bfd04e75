import { TetherError } from './errors.js';
import { callTarget, type UrlProvider } from './url.js';

/**
 * Starts one attempt: calls the URL provider (a string or URL as it is, a function sync or async),
 * then `create(url)`, which opens the connection. What goes wrong before a socket exists (the URL
 * function throws, rejects or gives no valid URL; `new WebSocket()` throws) goes to `failed` as a
 * TetherError, never out of here. `live()` is asked first: an async URL may arrive after the
 * attempt was given up (connect timeout, `close()`), and is then ignored.
 */
export function startAttempt(
  target: UrlProvider,
  live: () => boolean,
  create: (url: string) => void,
  failed: (error: TetherError) => void,
): void {
  callTarget(
    target,
    (url) => {
      if (!live()) return;
      try {
        create(url);
      } catch (cause) {
        failed(new TetherError('SOCKET_ERROR', `new WebSocket() threw: ${cause}`, { cause }));
      }
    },
    (cause) =>
      live() && failed(new TetherError('URL_FAILED', `The url function failed: ${cause}`, { cause })),
  );
}
