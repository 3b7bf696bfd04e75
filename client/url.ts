import { invalid } from './errors.js';

/** A URL, or a function returning one (sync or async) called before every connection attempt. */
export type UrlProvider = string | URL | (() => string | URL | PromiseLike<string | URL>);

/**
 * Turns a string or URL into the absolute `ws:`/`wss:` URL a `WebSocket` accepts. `http:` and
 * `https:` map to `ws:` and `wss:`. Relative URLs resolve against `location` in a browser;
 * `location` is read here, at call time, so importing the library touches no DOM global.
 */
export function resolveUrl(input: unknown, name = 'url'): string {
  if (typeof input !== 'string' && !(input instanceof URL)) {
    throw invalid('argument', name, input, 'a string, a URL, or a function returning one');
  }
  let url: URL;
  try {
    url = new URL(input, (globalThis as { location?: { href: string } }).location?.href);
  } catch {
    throw invalid('argument', name, String(input), 'an absolute ws:, wss:, http: or https: URL');
  }
  const scheme = { 'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:' }[url.protocol];
  if (!scheme)
    throw invalid('argument', name, String(input), 'a URL with scheme ws:, wss:, http: or https:', true);
  // RFC 6455 §3: WebSocket URIs have no fragment; browsers throw on one, so say so here. An empty
  // one (`ws://host/#`) counts: `url.hash` is '' then, but `href` keeps the '#' (only a fragment has one).
  if (url.href.includes('#')) throw invalid('argument', name, String(input), 'a URL without a #fragment');
  url.protocol = scheme;
  return url.href;
}

/**
 * Calls `target` for one attempt (a string or URL as it is, a function sync or async) and hands the
 * resolved URL to `use`. Whatever goes wrong (it throws, rejects, or gives no valid URL) goes to
 * `failed`, never out of here: this runs inside a state transition.
 */
export function callTarget(
  target: UrlProvider,
  use: (url: string) => void,
  failed: (cause: unknown) => void,
): void {
  const resolved = (url: unknown) => {
    let href: string;
    try {
      href = resolveUrl(url, 'url()');
    } catch (error) {
      failed(error);
      return;
    }
    use(href);
  };
  try {
    const url = typeof target === 'function' ? target() : target;
    if (typeof (url as PromiseLike<unknown>).then === 'function')
      (url as PromiseLike<unknown>).then(resolved, failed);
    else resolved(url);
  } catch (error) {
    failed(error);
  }
}
