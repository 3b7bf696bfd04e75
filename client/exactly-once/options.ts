import { TetherRangeError, TetherTypeError } from 'tether-ws';

export interface ExactlyOnceOptions {
  /**
   * How long a session may stay disconnected before it is given up (`session-lost` with reason
   * `'expired'`), in ms. Match the server's window.
   * @default 60000
   */
  resumeWindow?: number;
  /**
   * What to do when the server does not select `tether.v1`. `'fail'` emits `PROTOCOL_UNSUPPORTED`
   * and closes without retrying; `'best-effort'` carries on in that mode.
   * @default 'fail'
   */
  fallback?: 'fail' | 'best-effort';
}

export type ResolvedExactlyOnce = Readonly<Required<ExactlyOnceOptions>>;

/** Every default of `exactlyOnce()`; the README's table is checked against this object by a test. */
export const EXACTLY_ONCE_DEFAULTS: ResolvedExactlyOnce = { resumeWindow: 60_000, fallback: 'fail' };

/** Validates `exactlyOnce()`'s options once and fills the defaults (`??`, so an explicit 0 is kept). */
export function resolveExactlyOnce(options: ExactlyOnceOptions | undefined): ResolvedExactlyOnce {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TetherTypeError('option', 'exactlyOnce options', options, 'an object');
  }
  for (const key in options) {
    if (!Object.hasOwn(EXACTLY_ONCE_DEFAULTS, key)) {
      const expected = `"${closest(key)}"`;
      throw new TetherTypeError('option', key, (options as Record<string, unknown>)[key], expected);
    }
  }
  const resumeWindow = options?.resumeWindow ?? EXACTLY_ONCE_DEFAULTS.resumeWindow;
  const fallback = options?.fallback ?? EXACTLY_ONCE_DEFAULTS.fallback;
  // The same rules as the client's numeric options: NaN is not a number, the upper bound is the
  // longest delay setTimeout honours.
  const window = 'a number from 0 to 2147483647';
  if (typeof resumeWindow !== 'number' || Number.isNaN(resumeWindow)) {
    throw new TetherTypeError('option', 'resumeWindow', resumeWindow, window);
  }
  if (resumeWindow < 0 || resumeWindow > 2_147_483_647) {
    throw new TetherRangeError('option', 'resumeWindow', resumeWindow, window);
  }
  if (fallback !== 'fail' && fallback !== 'best-effort') {
    const ErrorClass = typeof fallback === 'string' ? TetherRangeError : TetherTypeError;
    throw new ErrorClass('option', 'fallback', fallback, 'one of "fail", "best-effort"');
  }
  return Object.freeze({ resumeWindow, fallback });
}

/**
 * The option name closest to `name`, as the core's client/closest-name.ts finds it (the letters of
 * `name` it has, less the square of the difference in length). A copy: an entry cannot import a module of the
 * core's without Vite making it a shared chunk beside the entries, which the package does not ship.
 */
function closest(name: string): string {
  const score = (candidate: string) =>
    [...name].filter((letter) => candidate.includes(letter)).length - (candidate.length - name.length) ** 2;
  return Object.keys(EXACTLY_ONCE_DEFAULTS).sort((a, b) => score(b) - score(a))[0] as string;
}
