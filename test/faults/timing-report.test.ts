// The fault suites print one line per fault; a time in it must name the limit the suite asserts,
// not the tighter bound the options imply (a passing run used to print "recovery=91ms (bound 50ms,
// minDelay)" while it allowed 1,050 ms).
import { describe, expect, it } from 'vitest';
import { checkDetection, checkTiming, HEARTBEAT, SLACK } from '../helpers/fault-harness.js';

describe('checkTiming()', () => {
  it('prints the limit it asserts: the bound plus the slack', () => {
    const timing = checkTiming('recovery', { ms: 91, bound: 50, what: 'minDelay' });
    expect(timing.text).toBe(`recovery=91ms (asserted ≤ ${50 + SLACK}ms = minDelay 50ms + slack ${SLACK}ms)`);
    expect(() => timing.check()).not.toThrow();
  });

  it('fails one millisecond past the limit it prints, and not at it', () => {
    const at = checkTiming('recovery', { ms: 50 + SLACK, bound: 50, what: 'minDelay' });
    const past = checkTiming('recovery', { ms: 51 + SLACK, bound: 50, what: 'minDelay' });
    expect(() => at.check()).not.toThrow();
    expect(() => past.check()).toThrow(`recovery (minDelay 50 ms + slack ${SLACK} ms)`);
  });

  it('says so when there is nothing to time, and asserts nothing', () => {
    const timing = checkTiming('recovery', { ms: undefined, bound: 0, what: 'no reconnect expected' });
    expect(timing.text).toBe('recovery=n/a (no reconnect expected)');
    expect(() => timing.check()).not.toThrow();
  });

  it('checks half-open detection against interval + timeout plus the slack given', () => {
    const bound = HEARTBEAT.interval + HEARTBEAT.timeout;
    expect(checkDetection(bound + 10, 100)).toBe(
      `detected=${bound + 10}ms (asserted ≤ ${bound + 100}ms = interval+timeout ${bound}ms + slack 100ms)`,
    );
    expect(() => checkDetection(bound + 101, 100)).toThrow();
  });
});
