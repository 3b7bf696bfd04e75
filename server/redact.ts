// Session ids are bearer credentials for routing (docs/protocol.md §1): the log shows only enough
// of one to tell sessions apart.

/** Characters of a session id kept in the log. */
const SHOWN = 6;

/** `AbCdEf…`: at most 6 characters, and never more than half of the id. */
export function redactSessionId(sid: string): string {
  return `${sid.slice(0, Math.min(SHOWN, Math.ceil(sid.length / 2)))}…`;
}

/** A request target with its `tether_sid` value cut the same way, for log lines. */
export function redactUrl(url: string | undefined): string {
  return (url ?? '').replace(/([?&]tether_sid=)([^&#]*)/gi, (_all, key: string, value: string) =>
    value === '' ? key : `${key}${redactSessionId(decodeURIComponentSafe(value))}`,
  );
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
