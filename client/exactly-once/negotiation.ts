/**
 * Finding out, within a few attempts, that a server does not speak `tether.v1` although it does not
 * say so (docs/protocol.md §2). Two kinds of server hide it:
 * - one that selects `tether.v1` without speaking it (ws's default picks the first offered
 *   subprotocol): it answers the hello with something other than a welcome, and the layer calls
 *   {@link Negotiation.unsupported} at once;
 * - one that selects no subprotocol: browsers and ws then fail the handshake, which looks exactly
 *   like a server that is down. So after such a failure the layer opens a side connection without
 *   `tether.v1` (a probe, never used for data, invisible to the client's events and schedule). When
 *   the probes of {@link CONFIRMATIONS} failed attempts in a row opened, the server accepts plain
 *   connections and refuses `tether.v1` (the verdict comes as the second probe opens, so within two
 *   attempts): a server that is down fails its probes, and one that was restarting answers the next
 *   attempt, so neither is mistaken for a refusal.
 *
 * Pure state, no sockets or timers: the layer reports what happened to each attempt and probe.
 */

/**
 * Failed tether attempts, each followed by a probe that opened, that make the server a refuser: the
 * verdict comes when the second such probe opens, before a third attempt. One would do for a
 * refuser, but a server that went down for the first attempt and was back for its probe would then
 * be judged on one failure; two in a row, with the server up both times, is no outage.
 */
export const CONFIRMATIONS = 2;

export class Negotiation {
  /** The server was found not to speak `tether.v1`: stop offering it. */
  #refused = false;
  /** Failed tether attempts in a row whose probe opened. */
  #confirmations = 0;
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
    if (selectedTether) this.#confirmations = 0;
  }

  /**
   * The current attempt is over. Returns true when a probe should start: the attempt offered
   * `tether.v1` and never opened.
   */
  ended(): boolean {
    return !this.#attemptOpened && this.#attemptOffered;
  }

  /**
   * A probe settled: it opened (the server takes plain connections), or even a plain connection
   * failed (the server is down or unreachable, not refusing). Returns true when this makes the
   * verdict: the server refuses `tether.v1`.
   */
  probed(opened: boolean): boolean {
    this.#confirmations = opened ? this.#confirmations + 1 : 0;
    if (this.#confirmations < CONFIRMATIONS || this.#refused) return false;
    this.#refused = true;
    return true;
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
  }
}
