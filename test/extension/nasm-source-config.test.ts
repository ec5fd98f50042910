import { describe, expect, it } from 'vitest';
import { launchHintsFromSource, parseNasmNumber, stripComment } from '../../extension/nasm-source-config';

describe('parseNasmNumber', () => {
  it.each([
    ['0x7c00', 0x7c00], ['7c00h', 0x7c00], ['0h7c00', 0x7c00], ['$0abc', 0xabc], ['0ffx', 0xff],
    ['0b1010', 10], ['1010b', 10], ['0y11', 3], ['11y', 3],
    ['0o17', 15], ['17q', 15], ['17o', 15], ['0q17', 15],
    ['0d99', 99], ['99d', 99], ['0t99', 99], ['99t', 99], ['1_000', 1000], ['0x1234_5678', 0x12345678],
  ])('%s = %d', (text, value) => expect(parseNasmNumber(text)).toBe(value));
  it('rejects non-numbers', () => {
    for (const t of ['start', 'ffh', '$ff', '0b102', '12q9']) expect(parseNasmNumber(t), t).toBeUndefined();
  });
});

describe('stripComment', () => {
  it('keeps semicolons inside strings', () => {
    expect(stripComment(`db 'a;b', 0 ; text`)).toBe(`db 'a;b', 0 `);
    expect(stripComment('mov ax, 1;x')).toBe('mov ax, 1');
  });
});

describe('launchHintsFromSource', () => {
  it('takes load address from org and real mode from the default bits', () => {
    expect(launchHintsFromSource('org 0x1000\nstart: hlt\n')).toEqual({ format: 'bin', loadAddress: '0x1000', mode: 'real' });
  });
  it('sees protected mode in a leading bits 32 and reads [org] in brackets', () => {
    expect(launchHintsFromSource('[bits 32]\n[org 100000h] ; kernel\n')).toEqual({ format: 'bin', loadAddress: '0x100000', mode: 'protected' });
  });
  it('recognises a boot sector by its signature', () => {
    const src = 'bits 16\norg 0x7c00\n  jmp $\n  times 510-($-$$) db 0\n  dw 0xAA55 ; signature\n';
    expect(launchHintsFromSource(src)).toEqual({ format: 'boot' });
    expect(launchHintsFromSource('org 7c00h\ndb 0x55, 0xaa\n')).toEqual({ format: 'boot' });
  });
  it('does not call a signature-ended image at another org a boot sector', () => {
    expect(launchHintsFromSource('org 0x8000\ndw 0xaa55\n').format).toBe('bin');
  });
  it('recognises a Multiboot header', () => {
    expect(launchHintsFromSource('MAGIC equ 0x1BADB002\nsection .multiboot\n dd MAGIC\n').format).toBe('multiboot');
    expect(launchHintsFromSource('header: dd 0x1badb002, 0, -0x1badb002\n').format).toBe('multiboot');
  });
  it('ignores org and bits inside comments', () => {
    expect(launchHintsFromSource('; org 0x500\n; bits 32\nnop\n')).toEqual({ format: 'bin', mode: 'real' });
  });
});
