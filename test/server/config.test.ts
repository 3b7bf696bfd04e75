import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { ConfigError } from '../../server/errors.js';

describe('loadConfig()', () => {
  it('defaults to localhost:3000, info text logging, 1 MiB messages, no extra origins and the documented limits', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: 'localhost',
      quiet: false,
      logFormat: 'text',
      maxPayload: 1048576,
      allowedOrigins: [],
      allowedHosts: [],
      heartbeatIntervalMs: 30000,
      maxConnections: 10000,
      messageRate: 200,
      messageBurst: 2000,
      handshakeTimeoutMs: 10000,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', HOST: '' })).toMatchObject({ port: 3000, host: 'localhost' });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        PORT: '0',
        HOST: '::1',
        LOG: 'quiet',
        MAX_PAYLOAD: '2048',
        ALLOWED_ORIGINS: 'https://a.example, http://b.example:8080, null',
        ALLOWED_HOSTS: 'dev.example, Box.LAN',
        LOG_FORMAT: 'json',
        HEARTBEAT_INTERVAL_MS: '0',
        MAX_CONNECTIONS: '5',
        MESSAGE_RATE: '0',
        MESSAGE_BURST: '7',
        HANDSHAKE_TIMEOUT_MS: '250',
      }),
    ).toEqual({
      port: 0,
      host: '::1',
      quiet: true,
      logFormat: 'json',
      maxPayload: 2048,
      allowedOrigins: ['https://a.example', 'http://b.example:8080', 'null'],
      allowedHosts: ['dev.example', 'box.lan'],
      heartbeatIntervalMs: 0,
      maxConnections: 5,
      messageRate: 0,
      messageBurst: 7,
      handshakeTimeoutMs: 250,
    });
  });

  it.each([
    ['PORT', 'abc', 'expected an integer from 0 to 65535 (0 picks a free port).'],
    ['PORT', '65536', 'expected an integer from 0 to 65535 (0 picks a free port).'],
    ['PORT', '-1', 'expected an integer from 0 to 65535 (0 picks a free port).'],
    ['PORT', '3000.5', 'expected an integer from 0 to 65535 (0 picks a free port).'],
    ['HOST', 'http://localhost', 'expected a host name or IP address without scheme or port'],
    ['HOST', 'localhost:3000', 'expected a host name or IP address without scheme or port'],
    ['LOG', 'verbose', 'expected "info" or "quiet".'],
    ['MAX_PAYLOAD', '0', 'expected a positive integer number of bytes.'],
    ['MAX_PAYLOAD', '1e6', 'expected a positive integer number of bytes.'],
    ['LOG_FORMAT', 'pretty', 'expected "text" or "json".'],
    ['MAX_CONNECTIONS', '-1', 'expected a non-negative integer (0 means no limit).'],
    ['MESSAGE_RATE', '1.5', 'expected a non-negative integer (0 means no limit).'],
    ['MESSAGE_BURST', '0', 'expected a positive integer number of messages.'],
    ['HANDSHAKE_TIMEOUT_MS', '0', 'expected a positive integer number of milliseconds.'],
    [
      'HEARTBEAT_INTERVAL_MS',
      '30s',
      'expected a non-negative integer number of milliseconds (0 turns it off).',
    ],
    ['ALLOWED_ORIGINS', 'https://a.example/path', 'expected comma-separated origins, each an http(s) origin'],
    ['ALLOWED_HOSTS', 'dev.example:3000', 'expected comma-separated host names, each a host name'],
  ])(
    'rejects %s=%s with a message naming the variable, the value and what is accepted',
    (name, value, expected) => {
      let caught: unknown;
      try {
        loadConfig({ [name]: value });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      const error = caught as ConfigError;
      expect(error).toMatchObject({ name: 'ConfigError', code: 'INVALID_ENV', setting: name, value });
      expect(
        error.message.startsWith(`Invalid environment variable ${name}: got ${JSON.stringify(value)}; `),
      ).toBe(true);
      expect(error.message).toContain(expected);
    },
  );
});
