import { describe, expect, it, vi } from 'vitest';
import { describeMessage, quietLogger } from '../../server/logger.js';

describe('describeMessage()', () => {
  it('shows kind, size in bytes and the quoted text', () => {
    expect(describeMessage(Buffer.from('héllo'), false)).toBe('text, 6 bytes: "héllo"');
    expect(describeMessage(Buffer.from('a'), false)).toBe('text, 1 byte: "a"');
  });

  it('quotes control characters so a message cannot forge log lines', () => {
    expect(describeMessage(Buffer.from('a\n2026 [ws #9] fake'), false)).toBe(
      'text, 19 bytes: "a\\n2026 [ws #9] fake"',
    );
  });

  it('cuts text after 80 characters, without splitting a character', () => {
    const text = `${'é'.repeat(80)}tail`;
    expect(describeMessage(Buffer.from(text), false)).toBe(
      `text, 164 bytes: "${'é'.repeat(80)}"… (truncated)`,
    );
  });

  it('shows binary data as hex, cut after 16 bytes', () => {
    expect(describeMessage(Buffer.from([0, 15, 255]), true)).toBe('binary, 3 bytes: <00 0f ff>');
    expect(describeMessage(Buffer.alloc(20, 1), true)).toBe(
      `binary, 20 bytes: <${Array(16).fill('01').join(' ')} …>`,
    );
  });
});

describe('quietLogger()', () => {
  it('drops info lines and passes errors on', () => {
    const inner = { info: vi.fn(), error: vi.fn() };
    const quiet = quietLogger(inner);
    quiet.info('activity');
    quiet.error('fault');
    expect(inner.info).not.toHaveBeenCalled();
    expect(inner.error).toHaveBeenCalledWith('fault');
  });
});
