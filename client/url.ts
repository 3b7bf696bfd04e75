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
  // RFC 6455 §3: WebSocket URIs have no fragment; browsers throw on one, so say so here.
  if (url.hash) throw invalid('argument', name, String(input), 'a URL without a #fragment');
  url.protocol = scheme;
  return url.href;
}
