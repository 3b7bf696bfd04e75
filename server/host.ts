// Which `Host` a request to the dev server may name. A page on attacker.example can make its own
// name resolve to 127.0.0.1 (DNS rebinding) and then read this server as same-origin: the browser
// still sends `Host: attacker.example`, which is how such a request is told apart and refused.
// An IP literal cannot be rebound, so every address is accepted; names must be known.
import { isIP } from 'node:net';

export interface HostPolicy {
  /** The host the server was configured to listen on (`localhost`, a name, an address). */
  readonly listenHost: string;
  /** Further host names accepted (`ALLOWED_HOSTS`), lower case, without port. */
  readonly allowedHosts: readonly string[];
}

/**
 * Decides whether a request naming these hosts is served. `hosts` are the `Host` header and, behind
 * a proxy, every `X-Forwarded-Host` value: each must be allowed (checking only the forwarded one would
 * let a rebound page add `X-Forwarded-Host: localhost` to get in).
 */
export function areHostsAllowed(hosts: ReadonlyArray<string | undefined>, policy: HostPolicy): boolean {
  return hosts.length > 0 && hosts.every((host) => host !== undefined && isHostAllowed(host, policy));
}

function isHostAllowed(header: string, policy: HostPolicy): boolean {
  const name = hostnameOf(header.trim().toLowerCase());
  if (name === undefined) return false;
  if (isIP(name) !== 0) return true;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return name === policy.listenHost.toLowerCase() || policy.allowedHosts.includes(name);
}

/** `name`, `name:port`, `[v6]` or `[v6]:port` → the name or address; undefined when malformed. */
function hostnameOf(host: string): string | undefined {
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(host);
  if (bracketed) return bracketed[1];
  const plain = /^([^:[\]\s/]+)(?::\d{1,5})?$/.exec(host);
  return plain?.[1]?.replace(/\.$/, '');
}

/** The hosts a request names: its `Host`, then each comma-separated `X-Forwarded-Host` value. */
export function requestHosts(headers: {
  host?: string;
  'x-forwarded-host'?: string | string[];
}): Array<string | undefined> {
  const forwarded = headers['x-forwarded-host'];
  const values = forwarded === undefined ? [] : [forwarded].flat().flatMap((value) => value.split(','));
  return [headers.host, ...values];
}
