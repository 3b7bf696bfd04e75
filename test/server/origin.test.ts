import { describe, expect, it } from 'vitest';
import { isOriginAllowed, type OriginPolicy } from '../../server/origin.js';

const policy: OriginPolicy = {
  ownOrigin: 'http://devbox.lan:3000',
  allowedOrigins: ['https://app.example.com'],
};

describe('isOriginAllowed()', () => {
  it.each([
    [undefined, 'no Origin header'],
    ['http://devbox.lan:3000', "the server's own origin"],
    ['https://app.example.com', 'an allowed origin'],
    ['http://localhost:5173', 'localhost on any port'],
    ['http://localhost', 'localhost on the default port'],
    ['http://127.0.0.1:8080', '127.0.0.1'],
    ['http://[::1]:3000', '[::1]'],
  ])('accepts %s (%s)', (origin, _why) => {
    expect(isOriginAllowed(origin, policy)).toBe(true);
  });

  it.each([
    ['https://evil.example', 'another site'],
    ['http://devbox.lan:3001', 'own host on another port'],
    ['https://devbox.lan:3000', 'own host over another scheme'],
    ['http://app.example.com', 'an allowed origin over another scheme'],
    ['http://localhost.evil.example', 'a look-alike of localhost'],
    ['http://127.0.0.2', 'another loopback address that is not listed'],
    ['ws://localhost:3000', 'a non-http scheme'],
    ['http://localhost:3000/', 'not a serialised origin (trailing slash)'],
    ['', 'an empty header'],
    ['not a url', 'garbage'],
    // Before: accepted, and any web site can send it from a sandboxed iframe.
    ['null', 'the opaque origin (pages opened from disk), unless configured'],
    // No browser sends it: Chromium sends null for file pages (test/e2e/file-page-origin.test.ts).
    ['file://', 'a file scheme without a host'],
  ])('refuses %s (%s)', (origin, _why) => {
    expect(isOriginAllowed(origin, policy)).toBe(false);
  });

  it('accepts the opaque origin null when allowedOrigins lists it (pages opened from disk)', () => {
    expect(isOriginAllowed('null', { ...policy, allowedOrigins: ['null'] })).toBe(true);
  });

  it('accepts only loopback pages before the server knows its own origin', () => {
    const early: OriginPolicy = { ownOrigin: undefined, allowedOrigins: [] };
    expect(isOriginAllowed('http://localhost:3000', early)).toBe(true);
    expect(isOriginAllowed('http://devbox.lan:3000', early)).toBe(false);
  });
});
