import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../../../engine/bus/memory';
import { E820_RAM, E820_RESERVED, loadImage, MULTIBOOT_BOOTLOADER_MAGIC } from '../../../../engine/machine/loaders';
import { fixture } from './fixtures';

const MiB = 0x100000;

/** Decodes the Multiboot information structure (spec §3.3) the way a kernel would. */
function readInfo(mem: PhysicalMemory, addr: number) {
  const flags = mem.peek(addr, 4);
  const mmap: { size: number; base: number; length: number; type: number }[] = [];
  const mmapAddr = mem.peek(addr + 48, 4);
  const mmapEnd = mmapAddr + mem.peek(addr + 44, 4);
  for (let p = mmapAddr; p < mmapEnd; p += mem.peek(p, 4) + 4) {
    mmap.push({
      size: mem.peek(p, 4),
      base: mem.peek(p + 4, 4) + mem.peek(p + 8, 4) * 2 ** 32,
      length: mem.peek(p + 12, 4) + mem.peek(p + 16, 4) * 2 ** 32,
      type: mem.peek(p + 20, 4),
    });
  }
  let name = '';
  for (let p = mem.peek(addr + 64, 4); mem.peek(p, 1) !== 0; p++) name += String.fromCharCode(mem.peek(p, 1));
  return { flags, memLower: mem.peek(addr + 4, 4), memUpper: mem.peek(addr + 8, 4), modsCount: mem.peek(addr + 20, 4), mmap, name };
}

describe('Multiboot loader', () => {
  it('loads an ELF kernel and starts it with EAX = 0x2BADB002 and EBX = the information structure', () => {
    const mem = new PhysicalMemory(16 * MiB);
    const bytes = fixture('elf', 'multiboot.elf');
    const img = loadImage(mem, bytes, {});
    expect(img.format).toBe('multiboot');
    const entry = new DataView(bytes.buffer, bytes.byteOffset).getUint32(24, true);
    expect(img.start).toMatchObject({ kind: 'flat32', eip: entry, eax: MULTIBOOT_BOOTLOADER_MAGIC });
    expect(img.symbols.find((s) => s.name === 'kernel_entry')?.addr).toBe(entry);
    expect(img.lines.length).toBeGreaterThan(0);
    expect(mem.peek(MiB, 4)).toBe(0x1badb002); // the header is the first thing in .text

    const ebx = (img.start as { ebx: number }).ebx;
    expect(ebx).toBeLessThan(MiB);
    const info = readInfo(mem, ebx);
    expect(info.flags & 1).toBe(1); // mem_lower/mem_upper
    expect(info.flags & (1 << 6)).toBe(1 << 6); // mmap
    expect(info.flags & (1 << 9)).toBe(1 << 9); // boot_loader_name
    expect(info.memLower).toBe(639);
    expect(info.memUpper).toBe(15 * 1024 - 64); // up to the ACPI tables' 64 KiB at the top of RAM
    expect(info.modsCount).toBe(0);
    expect(info.name).toBe('Ringside');
    expect(info.mmap).toEqual([
      { size: 20, base: 0, length: 0x9fc00, type: E820_RAM },
      { size: 20, base: 0x9fc00, length: 0x400, type: E820_RESERVED },
      { size: 20, base: 0xf0000, length: 0x10000, type: E820_RESERVED },
      { size: 20, base: MiB, length: 15 * MiB - 0x10000, type: E820_RAM },
      { size: 20, base: 16 * MiB - 0x10000, length: 0x10000, type: 3 }, // ACPI tables
      { size: 20, base: 0xfec00000, length: 0x1000, type: E820_RESERVED }, // I/O APIC
      { size: 20, base: 0xfee00000, length: 0x1000, type: E820_RESERVED }, // local APIC
      { size: 20, base: 0xffff0000, length: 0x10000, type: E820_RESERVED }, // BIOS alias
    ]);
    // The firmware's tables are there for the kernel to find, as GRUB on a PC leaves them.
    expect(img.segments.some((s) => s.name === 'ACPI tables')).toBe(true);
    expect(mem.readBytes(0xf0000, 0x10000).toString()).toContain([0x5f, 0x4d, 0x50, 0x5f].join(','));
    expect(img.segments.some((s) => s.name === 'multiboot info' && s.addr === ebx)).toBe(true);
  });

  it('starts a higher-half ELF kernel at the physical address of its entry, as GRUB 2 does', () => {
    // The same kernel relinked at 0xC0000000 + its load address: every PT_LOAD's p_vaddr and e_entry move up, p_paddr
    // stays. Paging is off at entry, so the CPU must start at the entry's physical placement.
    const bytes = fixture('elf', 'multiboot.elf').slice();
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const virtualEntry = (view.getUint32(24, true) + 0xc0000000) >>> 0;
    view.setUint32(24, virtualEntry, true);
    const phoff = view.getUint32(28, true);
    const phentsize = view.getUint16(42, true);
    for (let i = 0; i < view.getUint16(44, true); i++) {
      const ph = phoff + i * phentsize;
      if (view.getUint32(ph, true) === 1) view.setUint32(ph + 8, (view.getUint32(ph + 8, true) + 0xc0000000) >>> 0, true);
    }
    const img = loadImage(new PhysicalMemory(16 * MiB), bytes, {});
    expect(img.start).toMatchObject({ kind: 'flat32', eip: (virtualEntry - 0xc0000000) >>> 0 });
  });

  it('loads an a.out-kludge image by the header addresses and clears its bss', () => {
    const mem = new PhysicalMemory(4 * MiB);
    mem.u8.fill(0xcc, MiB, 2 * MiB);
    const bytes = fixture('elf', 'multiboot-aout.bin');
    const img = loadImage(mem, bytes, {});
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    const [loadAddr, loadEnd, bssEnd, entry] = [16, 20, 24, 28].map((o) => v.getUint32(o, true));
    expect(loadAddr).toBe(MiB);
    expect(mem.readBytes(loadAddr, loadEnd - loadAddr)).toEqual(bytes.subarray(0, loadEnd - loadAddr));
    expect(mem.readBytes(loadEnd, bssEnd - loadEnd).every((b) => b === 0)).toBe(true);
    expect(mem.peek(bssEnd, 1)).toBe(0xcc);
    expect(img.start).toMatchObject({ kind: 'flat32', eip: entry, eax: 0x2badb002 });
    expect(readInfo(mem, (img.start as { ebx: number }).ebx).memUpper).toBe(3 * 1024 - 64);
  });

  it('rejects a bad checksum, unknown required features and a kernel beyond memory', () => {
    const bad = fixture('elf', 'multiboot-aout.bin').slice();
    bad[8] ^= 0x10;
    expect(() => loadImage(new PhysicalMemory(4 * MiB), bad, { format: 'multiboot' })).toThrow(/wrong checksum/);
    expect(() => loadImage(new PhysicalMemory(4 * MiB), new Uint8Array(64), { format: 'multiboot' })).toThrow(/no Multiboot header/);

    const needsMore = fixture('elf', 'multiboot-aout.bin').slice();
    const v = new DataView(needsMore.buffer);
    v.setUint32(4, 0x00010008, true); // bit 3: a requirement this loader does not know
    v.setUint32(8, (-(0x1badb002 + 0x00010008)) >>> 0, true);
    expect(() => loadImage(new PhysicalMemory(4 * MiB), needsMore, { format: 'multiboot' })).toThrow(/requires features .* 0x8/);

    expect(() => loadImage(new PhysicalMemory(MiB), fixture('elf', 'multiboot.elf'), {})).toThrow(/outside the 1 MiB/);

    const endBeyondFile = fixture('elf', 'multiboot-aout.bin').slice();
    new DataView(endBeyondFile.buffer).setUint32(20, MiB + 0x1000, true);
    expect(() => loadImage(new PhysicalMemory(4 * MiB), endBeyondFile, {})).toThrow(/beyond the end of the file/);
  });
});
