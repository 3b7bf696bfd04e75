/**
 * Finding out, within a few attempts, that a server does not speak `tether.v1` although it does not
 * say so (docs/protocol.md §2). Two kinds of server hide it:
 * - one that selects `tether.v1` without speaking it (ws's default picks the first offered
 *   subprotocol): it answers the hello with something other than a welcome, and the layer calls
 *   {@link Negotiation.unsupported} at once;
 * - one that selects no subprotocol: browsers and ws then fail the handshake, which looks exactly
 *   like a server that is down. So after such a failure the layer opens a side connection without
 *   `tether.v1` (a probe, never used for data, invisible to the client's events and schedule). When
 *   {@link CONFIRMATIONS} attempts in a row failed right after a probe opened, the server accepts
 *   plain connections and refuses `tether.v1`: a server that is down fails its probes, and one that
 *   was restarting answers the next attempt, so neither is mistaken for a refusal.
 *
 * Pure state, no sockets or timers: the layer reports what happened to each attempt and probe.
 */

/** Failed tether attempts, each right after an opened probe, that make the server a refuser. */
export const CONFIRMATIONS = 2;

export class Negotiation {
  /** The server was found not to speak `tether.v1`: stop offering it. */
  #refused = false;
  #confirmations = 0;
  /** A probe opened since the last failed attempt. */
  #probeOpened = false;
  #attemptOffered = false;
  #attemptOpened = false;

  /** Whether the next attempt offers `tether.v1`. Called once per attempt, before its socket exists. */
  offersTether(): boolean {
    this.#attemptOpened = false;
    this.#attemptOffered = !this.#refused;
    return this.#attemptOffered;
  }

  /** The current attempt's socket opened. */
  opened(selectedTether: boolean): void {
    this.#attemptOpened = true;
    if (selectedTether) {
      this.#confirmations = 0;
      this.#probeOpened = false;
    }
  }

  /**
   * The current attempt is over. Returns true when a probe should start: the attempt offered
   * `tether.v1` and never opened, and the question is still open.
   */
  ended(): boolean {
    if (this.#attemptOpened || !this.#attemptOffered) return false;
    if (this.#probeOpened) {
      this.#probeOpened = false;
      this.#confirmations += 1;
      if (this.#confirmations >= CONFIRMATIONS) {
        this.#refused = true;
        return false;
      }
    }
    return true;
  }

  /**
   * A probe settled: it opened, or even a plain connection failed (the server is down or
   * unreachable, not refusing).
   */
  probed(opened: boolean): void {
    if (opened) this.#probeOpened = true;
    else this.#confirmations = 0;
  }

  /** The server showed it does not speak `tether.v1`. */
  unsupported(): void {
    this.#refused = true;
  }

  get refused(): boolean {
    return this.#refused;
  }

  /** The client closed: the next `open()` starts over, the server may have changed. */
  reset(): void {
    this.#refused = false;
    this.#confirmations = 0;
    this.#probeOpened = false;
  }
}
