import type { CloseInfo } from './close.js';
import { TetherError } from './errors.js';
import type { ResolvedReconnect } from './options.js';

/**
 * Whether a lost connection is tried again, once the client wants to stay open and reconnecting is
 * on: `shouldReconnect` may veto (a throw is reported through `report` and counts as a veto), then
 * `maxRetries` may be spent. Returns `true` to retry, `false` to stop, or the RETRIES_EXHAUSTED
 * error to stop with. It schedules nothing: the client, which knows whether `report` let a
 * listener call `open()` or `close()`, acts on the answer.
 */
export function retryDecision(
  reconnect: ResolvedReconnect,
  close: CloseInfo,
  retries: number,
  report: (error: TetherError) => void,
): boolean | TetherError {
  let retry = false;
  try {
    retry = reconnect.shouldReconnect(close);
  } catch (cause) {
    report(new TetherError('LISTENER_ERROR', `shouldReconnect threw: ${cause}`, { cause }));
  }
  return (
    retry &&
    (retries < reconnect.maxRetries ||
      new TetherError('RETRIES_EXHAUSTED', `Gave up after ${retries} retries`))
  );
}
