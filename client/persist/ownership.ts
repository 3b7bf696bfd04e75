/**
 * One page at a time owns a stored name, so two tabs never resume, write or send one session.
 *
 * Ownership is a Web Lock (https://w3c.github.io/web-locks/) held for the page's life: the browser
 * releases it when the page goes away, however it goes (reload, tab closed, renderer crash), and
 * gives it to nobody else meanwhile. Nothing is kept in `sessionStorage`, which a duplicated tab
 * copies: a duplicate is one more page asking for the lock, and gets another slot.
 *
 * A page that finds `name` owned takes the first free slot of `name#2`, `name#3`, …: its own outbox,
 * which the next page to find `name` owned picks up again (docs/persist.md, "Names and tabs").
 */

/** More pages than this with one name is a bug of the page (a client created per render), not tabs. */
export const MAX_SLOTS = 64;

/** The slot name for the n-th page (0-based): `name`, then `name#2`, `name#3`, … */
export function slotName(name: string, n: number): string {
  return n === 0 ? name : `${name}#${n + 1}`;
}

type Locks = {
  request(
    name: string,
    options: { ifAvailable: boolean },
    callback: (lock: unknown) => Promise<void> | undefined,
  ): Promise<unknown>;
};

/** Holds the lock named `lock` if it is free now; resolves false at once if another page holds it. */
function tryLock(locks: Locks, lock: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    locks
      .request(lock, { ifAvailable: true }, (held) => {
        resolve(held !== null);
        // A promise that never settles: the lock is held until the page goes away.
        return held === null ? undefined : new Promise<void>(() => {});
      })
      .catch(reject);
  });
}

/**
 * Claims the first free slot of `name` for this page and returns its name. Rejects when the page
 * has no Web Locks (an insecure context: `http://` other than localhost) or every slot is taken.
 */
export async function claimName(name: string): Promise<string> {
  const locks = (globalThis as { navigator?: { locks?: Locks } }).navigator?.locks;
  if (!locks)
    throw new Error('Web Locks are not available here (navigator.locks; a secure context needs https)');
  for (let n = 0; n < MAX_SLOTS; n++) {
    const slot = slotName(name, n);
    if (await tryLock(locks, `tether-ws:${slot}`)) return slot;
  }
  throw new Error(`Every slot of "${name}" is owned (${MAX_SLOTS} pages)`);
}
