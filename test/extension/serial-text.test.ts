import { describe, expect, it } from 'vitest';
import { isLogged, parseLogLevel } from '../../extension/log-level';
import { SerialLineEndings } from '../../extension/serial-text';

describe('SerialLineEndings', () => {
  it('turns a lone LF into CR LF and leaves CR LF alone, also across chunks', () => {
    const t = new SerialLineEndings();
    expect(t.translate('a\nb\r\n')).toBe('a\r\nb\r\n');
    expect(t.translate('c\r')).toBe('c\r');
    expect(t.translate('\nd\n')).toBe('\nd\r\n');
  });
});

describe('log levels', () => {
  it('orders levels from error to trace and reads only known names', () => {
    expect(isLogged('error', 'warn')).toBe(true);
    expect(isLogged('debug', 'info')).toBe(false);
    expect(isLogged('trace', 'trace')).toBe(true);
    expect(isLogged('error', 'off')).toBe(false);
    expect(parseLogLevel('debug')).toBe('debug');
    expect(parseLogLevel('loud')).toBe('info');
    expect(parseLogLevel(3, 'warn')).toBe('warn');
  });
});
