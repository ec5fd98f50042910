import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../../../engine/bus/memory';
import { ImageError, loadImage, readElfDebugInfo } from '../../../../engine/machine/loaders';
import { FIXTURES, fixture, hasTool, lineOf } from './fixtures';

const MiB = 0x100000;
const hello = fixture('elf', 'hello.elf');
const helloSource = readFileSync(join(FIXTURES, 'elf', 'hello.asm'), 'utf8');

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Program header `i` of an ELF32 file, as (offset of the entry, its fields). */
function phdr(b: Uint8Array, i: number): { at: number; offset: number; paddr: number; filesz: number; memsz: number } {
  const v = dv(b);
  const at = v.getUint32(28, true) + i * v.getUint16(42, true);
  return {
    at,
    offset: v.getUint32(at + 4, true),
    paddr: v.getUint32(at + 12, true),
    filesz: v.getUint32(at + 16, true),
    memsz: v.getUint32(at + 20, true),
  };
}

describe('ELF loader', () => {
  it('places each PT_LOAD segment by p_paddr and zero-fills its bss', () => {
    const mem = new PhysicalMemory(4 * MiB);
    mem.u8.fill(0xaa);
    const img = loadImage(mem, hello, {});
    expect(img.format).toBe('elf');
    for (const i of [0, 1]) {
      const p = phdr(hello, i);
      expect(mem.readBytes(p.paddr, p.filesz)).toEqual(hello.subarray(p.offset, p.offset + p.filesz));
      expect(mem.readBytes(p.paddr + p.filesz, p.memsz - p.filesz).every((b) => b === 0)).toBe(true);
    }
    expect(img.segments.map((s) => s.name)).toEqual(['.text', '.data .bss']);
    const data = phdr(hello, 1);
    expect(mem.peek(data.paddr + data.memsz, 1)).toBe(0xaa); // nothing written past the segment
  });

  it('starts flat 32-bit at e_entry, or in real mode when asked', () => {
    const entry = dv(hello).getUint32(24, true);
    expect(loadImage(new PhysicalMemory(4 * MiB), hello, {}).start).toEqual({ kind: 'flat32', eip: entry, esp: 0x90000 });
    const real = loadImage(new PhysicalMemory(4 * MiB), hello, { mode: 'real' }).start;
    expect(real).toMatchObject({ kind: 'real', cs: 0xffff, ip: entry - 0xffff0 });
  });

  it('reads the symbol table: functions, data and local labels, without file or section symbols', () => {
    const img = loadImage(new PhysicalMemory(4 * MiB), hello, {});
    const names = img.symbols.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['_start', 'print', 'print.done', 'message', 'stack', 'stack_top']));
    expect(names).not.toContain('hello.asm');
    const entry = dv(hello).getUint32(24, true);
    expect(img.symbols.find((s) => s.name === '_start')?.addr).toBe(entry);
    const message = img.symbols.find((s) => s.name === 'message')!;
    const mem = new PhysicalMemory(4 * MiB);
    loadImage(mem, hello, {});
    expect(new TextDecoder().decode(mem.readBytes(message.addr, 14))).toBe('hello from ELF');
    const addrs = img.symbols.map((s) => s.addr);
    expect(addrs).toEqual([...addrs].sort((a, b) => a - b));
  });

  it('maps code addresses to the NASM source lines', () => {
    const img = loadImage(new PhysicalMemory(4 * MiB), hello, {});
    const at = (name: string) => img.symbols.find((s) => s.name === name)!.addr;
    const rowAt = (addr: number) => img.lines.find((r) => r.addr === addr);
    expect(rowAt(at('_start'))).toEqual({ addr: at('_start'), file: 'hello.asm', line: lineOf(helloSource, 'mov esp, stack_top') });
    expect(rowAt(at('print'))?.line).toBe(lineOf(helloSource, 'LINE print-loop'));
    expect(rowAt(at('print.done'))?.line).toBe(lineOf(helloSource, '.done:  ret'));
  });

  it('gives symbols and lines of a separate ELF without loading it', () => {
    const info = readElfDebugInfo(hello);
    const img = loadImage(new PhysicalMemory(4 * MiB), hello, {});
    expect(info).toEqual({ symbols: img.symbols, lines: img.lines });
    expect(() => readElfDebugInfo(new Uint8Array(8))).toThrow(ImageError);
  });

  it('rejects truncated and corrupt files with the problem named', () => {
    const mem = new PhysicalMemory(4 * MiB);
    expect(() => loadImage(mem, hello.subarray(0, 40), { format: 'elf' })).toThrow(/truncated: the ELF header/);

    const farPhdrs = hello.slice();
    dv(farPhdrs).setUint32(28, hello.length - 8, true);
    expect(() => loadImage(mem, farPhdrs, { format: 'elf' })).toThrow(/program header table .* lies outside the file/);

    const farData = hello.slice();
    dv(farData).setUint32(phdr(hello, 0).at + 4, hello.length - 4, true);
    expect(() => loadImage(mem, farData, { format: 'elf' })).toThrow(/program header 0: segment data .* outside the file/);

    const small = new PhysicalMemory(MiB);
    expect(() => loadImage(small, hello, {})).toThrow(/\.text \(30 bytes at 0x100000\) lies outside the 1 MiB of guest memory/);

    const elf64 = hello.slice();
    elf64[4] = 2;
    expect(() => loadImage(mem, elf64, {})).toThrow(/only 32-bit/);
    const arm = hello.slice();
    dv(arm).setUint16(18, 40, true);
    expect(() => loadImage(mem, arm, {})).toThrow(/not i386/);
    const rel = hello.slice();
    dv(rel).setUint16(16, 1, true);
    expect(() => loadImage(mem, rel, {})).toThrow(/relocatable object/);
    expect(() => loadImage(mem, new Uint8Array([1, 2, 3]), { format: 'elf' })).toThrow(ImageError);
  });

  it('writes nothing to memory when a later segment does not fit', () => {
    const bad = hello.slice();
    dv(bad).setUint32(phdr(hello, 1).at + 12, 0x3ff000, true); // second segment's p_paddr near the top of 4 MiB
    const mem = new PhysicalMemory(4 * MiB);
    expect(() => loadImage(mem, bad, {})).toThrow(/outside the 4 MiB/);
    expect(mem.readBytes(MiB, 16).every((b) => b === 0)).toBe(true);
  });

  it.runIf(hasTool('nasm', ['-v']) && hasTool('ld', ['-v']))('hello.elf still matches hello.asm (nasm and ld present)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringside-elf-'));
    try {
      execFileSync('nasm', ['-f', 'elf32', '-g', '-F', 'dwarf', '-o', join(dir, 'hello.o'), 'hello.asm'], { cwd: join(FIXTURES, 'elf') });
      execFileSync('ld', ['-m', 'elf_i386', '-T', join(FIXTURES, 'elf', 'hello.ld'), '-o', join(dir, 'hello.elf'), join(dir, 'hello.o')]);
      const rebuilt = new Uint8Array(readFileSync(join(dir, 'hello.elf')));
      const a = new PhysicalMemory(4 * MiB);
      const b = new PhysicalMemory(4 * MiB);
      const ia = loadImage(a, hello, {});
      const ib = loadImage(b, rebuilt, {});
      expect(ib.segments).toEqual(ia.segments);
      for (const s of ia.segments) expect(b.readBytes(s.addr, s.size)).toEqual(a.readBytes(s.addr, s.size));
      expect(ib.symbols).toEqual(ia.symbols);
      expect(ib.lines).toEqual(ia.lines);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
