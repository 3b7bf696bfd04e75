import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../server/errors.js';
import { normalizeServerOptions, type ServerOptions } from '../../server/options.js';
import { SETTINGS } from '../../server/settings.js';

describe('normalizeServerOptions()', () => {
  it('fills the documented defaults', () => {
    const resolved = normalizeServerOptions();
    expect(resolved).toMatchObject({
      port: 3000,
      host: 'localhost',
      allowedOrigins: [],
      maxPayload: 1024 * 1024,
      shutdownTimeoutMs: 2000,
      heartbeatIntervalMs: 30000,
      maxConnections: 10000,
      messageRate: 200,
      messageBurst: 2000,
      handshakeTimeoutMs: 10000,
    });
    expect(resolved.demoDir).toMatch(/[\\/]demo$/);
    expect(resolved.distDir).toMatch(/[\\/]dist$/);
    expect(resolved.logger).toBe(SETTINGS.logger.default);
  });

  it('keeps an explicit 0 for port, shutdownTimeoutMs and the limits (?? not ||)', () => {
    expect(
      normalizeServerOptions({
        port: 0,
        shutdownTimeoutMs: 0,
        maxConnections: 0,
        messageRate: 0,
        heartbeatIntervalMs: 0,
      }),
    ).toMatchObject({
      maxConnections: 0,
      messageRate: 0,
      heartbeatIntervalMs: 0,
      port: 0,
      shutdownTimeoutMs: 0,
    });
  });

  it('normalises allowed origins to the form browsers send', () => {
    expect(normalizeServerOptions({ allowedOrigins: ['HTTPS://Example.COM:443'] }).allowedOrigins).toEqual([
      'https://example.com',
    ]);
  });

  it.each<[ServerOptions, string]>([
    [
      { port: 70000 },
      'Invalid option "port": got 70000; expected an integer from 0 to 65535 (0 picks a free port).',
    ],
    [
      { port: 1.5 },
      'Invalid option "port": got 1.5; expected an integer from 0 to 65535 (0 picks a free port).',
    ],
    [
      { maxConnections: -1 },
      'Invalid option "maxConnections": got -1; expected a non-negative integer (0 means no limit).',
    ],
    [
      { messageRate: 0.5 },
      'Invalid option "messageRate": got 0.5; expected a non-negative integer (0 means no limit).',
    ],
    [
      { messageBurst: 0 },
      'Invalid option "messageBurst": got 0; expected a positive integer number of messages.',
    ],
    [
      { handshakeTimeoutMs: 0 },
      'Invalid option "handshakeTimeoutMs": got 0; expected a positive integer number of milliseconds.',
    ],
    [
      { heartbeatIntervalMs: -5 },
      'Invalid option "heartbeatIntervalMs": got -5; expected a non-negative integer number of milliseconds (0 turns it off).',
    ],
    [{ maxPayload: -1 }, 'Invalid option "maxPayload": got -1; expected a positive integer number of bytes.'],
    [
      { shutdownTimeoutMs: Number.NaN },
      'Invalid option "shutdownTimeoutMs": got NaN; expected a non-negative integer number of milliseconds.',
    ],
    [
      { host: 'http://x' },
      'Invalid option "host": got "http://x"; expected a host name or IP address without scheme or port, such as localhost, 127.0.0.1, 0.0.0.0 or ::1.',
    ],
    [
      { allowedOrigins: ['https://ok.example', 'ftp://files.example'] },
      'Invalid option "allowedOrigins[1]": got "ftp://files.example"; expected an http(s) origin such as https://example.com:8080 (scheme, host and optional port; no path), or null.',
    ],
  ])('rejects %o with an INVALID_OPTION error', (options, message) => {
    let caught: unknown;
    try {
      normalizeServerOptions(options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ code: 'INVALID_OPTION', message });
  });
});
