/** Stable codes of {@link TetherServerError}: branch on these, never on the message. */
export type TetherServerErrorCode =
  /** `createTetherServer()` got an option of the wrong type or out of range. */
  | 'INVALID_OPTION'
  /** `tether.handle()` got something other than an open-able `ws` socket, or a request that is not one. */
  | 'INVALID_ARGUMENT'
  /** `session.send()` on a session that has ended (its `lost` event has fired). */
  | 'SESSION_ENDED'
  /** `session.send()` got something other than a string, Buffer, ArrayBuffer or typed array. */
  | 'INVALID_DATA'
  /** The session store (e.g. Redis) failed or did not answer in time; the `cause` says why. */
  | 'STORE_UNAVAILABLE';

/** Thrown by the adapter for a caller's mistake at its boundary. */
export class TetherServerError extends Error {
  override readonly name = 'TetherServerError';

  constructor(
    readonly code: TetherServerErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
