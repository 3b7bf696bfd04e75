// Which pages may open a WebSocket to the dev server. Browsers send an `Origin` header with every
// WebSocket handshake and, unlike fetch, apply no same-origin policy to WebSockets: without this check
// any web site open in the same browser could talk to a server on localhost (cross-site WebSocket
// hijacking, see RFC 6455 §10.2). Non-browser clients send no Origin and are accepted.

/** Host names that always mean this machine. The port does not matter: a dev page on :5173 is local too. */
const LOOPBACK_HOSTNAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The opaque origin, as browsers serialise it. A page opened from disk (`file:///…/index.html`) sends
 * it (Chromium and Firefox alike, test/e2e/file-page-origin.test.ts), and so can a sandboxed iframe
 * on any web site: it is accepted only when `allowedOrigins` lists it.
 */
export const NULL_ORIGIN = 'null';

export interface OriginPolicy {
  /** The server's own origin (`http://host:port`), known once it listens. */
  readonly ownOrigin: string | undefined;
  /** Further origins accepted exactly, already normalised (see `parseOrigin`); may include `'null'`. */
  readonly allowedOrigins: readonly string[];
}

/**
 * Decides whether a WebSocket handshake with this `Origin` header is accepted.
 * Accepted: no header; the server's own origin; http(s) pages on localhost, 127.0.0.1 or [::1] on any
 * port; and every origin in `allowedOrigins` (`null`, which pages opened from disk send, only if
 * listed). Anything else is refused.
 */
export function isOriginAllowed(origin: string | undefined, policy: OriginPolicy): boolean {
  if (origin === undefined) return true;
  if (origin === NULL_ORIGIN) return policy.allowedOrigins.includes(NULL_ORIGIN);
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  // Browsers send the bare serialised origin; anything longer (a path, a trailing slash) is not one.
  if (url.origin !== origin) return false;
  if (url.origin === policy.ownOrigin || policy.allowedOrigins.includes(url.origin)) return true;
  const http = url.protocol === 'http:' || url.protocol === 'https:';
  return http && LOOPBACK_HOSTNAMES.has(url.hostname);
}
