// Source lines from a committed nasm listing (fixtures/with-include.lst, built with
// `nasm -f bin -i include/ with-include.asm -o with-include.bin -l with-include.lst`), checked against the bytes
// of the committed image: each row's address must hold the first byte of that source line's instruction.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { refreshListing } from '../../extension/listing-refresh';
import { linesFromListingBeside } from '../../debug-adapter/listing-source-lines';
import { nasmInstalled } from './nasm-available';
import { linesFromNasmListing } from '../../debug-adapter/nasm-listing';

const fixtures = join(__dirname, 'fixtures');
const source = join(fixtures, 'with-include.asm');
const include = join(fixtures, 'include', 'defs.inc');
const listing = readFileSync(join(fixtures, 'with-include.lst'), 'utf8');
const image = readFileSync(join(fixtures, 'with-include.bin'));
const sourceLines = readFileSync(source, 'utf8').split('\n');
const ORG = 0x7c00;
const resolveInclude = (name: string, from: string) => join(dirname(from), 'include', name);

describe('linesFromNasmListing', () => {
  const rows = linesFromNasmListing(listing, source, resolveInclude);
  const lineOf = (text: string) => sourceLines.findIndex((l) => l.includes(text)) + 1;

  it('maps each emitting line of the main file to org + offset', () => {
    const main = rows.filter((r) => r.file === source).map((r) => [r.line, r.addr - ORG]);
    expect(main).toEqual([
      [lineOf('mov ax, SEL'), 1],
      [lineOf('cli'), 4],
      [sourceLines.findIndex((l) => l.trim() === 'TWO_NOPS') + 1, 5], // the invocation, credited with its expansion
      [lineOf('call helper'), 7],
      [lineOf('hlt'), 10],
      [lineOf('msg: db'), 11],
    ]);
  });

  it('credits lines of an %included file to that file', () => {
    expect(rows.filter((r) => r.file === include)).toEqual([{ addr: ORG, file: include, line: 4 }]);
  });

  it('agrees with the bytes nasm assembled', () => {
    const byteAt = (addr: number) => image[addr - ORG];
    const row = (line: number) => rows.find((r) => r.file === source && r.line === line)!;
    expect(byteAt(row(lineOf('mov ax, SEL')).addr)).toBe(0xb8); // MOV AX, imm16
    expect(byteAt(row(lineOf('cli')).addr)).toBe(0xfa);
    expect(byteAt(row(lineOf('call helper')).addr)).toBe(0xe8);
    expect(byteAt(row(lineOf('hlt')).addr)).toBe(0xf4);
    expect(byteAt(rows.find((r) => r.file === include)!.addr)).toBe(0xc3); // RET
  });

  it('takes an org given by the caller over the one in the listing, and sorts rows by address', () => {
    const moved = linesFromNasmListing(listing, source, resolveInclude, 0x1000);
    expect(moved[0]).toEqual({ addr: 0x1000, file: include, line: 4 });
    expect(moved.map((r) => r.addr)).toEqual([...moved.map((r) => r.addr)].sort((a, b) => a - b));
  });

  it('stops at a section other than .text, whose placement the listing does not give', () => {
    const text = ['     1                                  org 0x100', '     2 00000000 90                      nop', '     3                                  section .data', '     4 00000000 01                      db 1'].join('\n');
    expect(linesFromNasmListing(text, '/s.asm', resolveInclude)).toEqual([{ addr: 0x100, file: '/s.asm', line: 2 }]);
  });

  it('returns nothing for text that is not a listing', () => {
    expect(linesFromNasmListing('hello\nworld\n', '/s.asm', resolveInclude)).toEqual([]);
  });
});

/** The adapter's reading of the listing the extension writes beside an image (loaded at ORG). */
const linesBeside = (img: string) => linesFromListingBeside(img, readFileSync(img), ORG).lines;

describe('the listing beside an image, as the adapter reads it', () => {
  it('finds the listing and source beside an image and resolves includes through include folders', () => {
    const rows = linesBeside(join(fixtures, 'with-include.bin'));
    expect(rows).toEqual(linesFromNasmListing(listing, source, resolveInclude));
    expect(rows.some((r) => r.file === include)).toBe(true);
  });
  it('gives no rows for an image without a listing', () => {
    expect(linesBeside(join(fixtures, 'gdt.bin'))).toEqual([]);
  });
});

describe.skipIf(!nasmInstalled)('refreshListing', () => {
  function workspace(): { dir: string; image: string } {
    const dir = mkdtempSync(join(tmpdir(), 'ringside-lst-'));
    mkdirSync(join(dir, 'include'));
    copyFileSync(source, join(dir, 'with-include.asm'));
    copyFileSync(include, join(dir, 'include', 'defs.inc'));
    copyFileSync(join(fixtures, 'with-include.bin'), join(dir, 'with-include.bin'));
    return { dir, image: join(dir, 'with-include.bin') };
  }

  it('writes the listing beside an image its source reproduces, then finds it current', async () => {
    const { dir, image: img } = workspace();
    expect(await refreshListing(img, 'nasm', dir)).toEqual({ state: 'written', listing: join(dir, 'with-include.lst') });
    const rows = linesBeside(img);
    expect(rows.map((r) => [r.addr, r.line])).toEqual(linesFromNasmListing(listing, source, resolveInclude).map((r) => [r.addr, r.line]));
    expect(rows.find((r) => r.line === 4)?.file).toBe(join(dir, 'include', 'defs.inc'));
    expect((await refreshListing(img, 'nasm', dir)).state).toBe('current');
  });

  it('keeps no listing when the source does not reproduce the image', async () => {
    const { dir, image: img } = workspace();
    const bytes = readFileSync(img);
    bytes[0] ^= 0xff;
    writeFileSync(img, bytes);
    expect(await refreshListing(img, 'nasm', dir)).toEqual({ state: 'skipped', reason: expect.stringMatching(/^assembling with-include\.asm does not reproduce with-include\.bin/) });
    expect(existsSync(join(dir, 'with-include.lst'))).toBe(false);
  });

  it('says why when there is no source, no nasm, or an assembly error', async () => {
    const { dir, image: img } = workspace();
    expect(await refreshListing(join(fixtures, 'gdt.bin').replace('gdt.bin', 'nothing.bin'), 'nasm')).toMatchObject({ state: 'skipped', reason: expect.stringMatching(/^no NASM source \(nothing\.asm\)/) });
    expect(await refreshListing(img, join(dir, 'no-nasm'), dir)).toEqual({ state: 'skipped', reason: `nasm ("${join(dir, 'no-nasm')}") is not installed` });
    rmSync(join(dir, 'include'), { recursive: true });
    expect(await refreshListing(img, 'nasm', dir)).toMatchObject({ state: 'skipped', reason: expect.stringMatching(/^nasm could not assemble with-include\.asm: .*defs\.inc/) });
  });
});
