// The Linux boot-protocol loader, with a stand-in bzImage (fixtures/linux/fake-bzimage.asm) whose setup code
// reports what it was handed: the firmware POSTs, the loader's jump enters the setup, and the setup reads the
// header fields, the command line and the registers the protocol prescribes.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../../../engine/machine/machine';
import { PhysicalMemory } from '../../../../engine/bus/memory';
import { detectFormat, loadImage, linuxLayout, ImageError, pcMemoryMap, E820_RAM } from '../../../../engine/machine/loaders';
import { FIXTURES, fixture, hasTool } from './fixtures';

const MiB = 0x100000;
const FAKE = fixture('linux', 'fake-bzimage.bin');

/** The fake kernel with header bytes changed. */
function patched(changes: Record<number, number[]>): Uint8Array {
  const b = FAKE.slice();
  for (const [at, bytes] of Object.entries(changes)) b.set(bytes, Number(at));
  return b;
}

function boot(bytes: Uint8Array, opts: { initrd?: Uint8Array; append?: string }, memoryMB = 16) {
  const m = new Machine({ memoryMB });
  const image = m.load(bytes, { format: 'linux', ...opts });
  const r = m.run(5_000_000);
  return { m, image, r, out: m.consoleText() };
}

describe('Linux boot protocol loader', () => {
  it('fake-bzimage.bin is built from its source', (ctx) => {
    if (!hasTool('nasm', ['-v'])) return ctx.skip();
    const out = join(mkdtempSync(join(tmpdir(), 'ringside-linux-')), 'k.bin');
    execFileSync('nasm', ['-f', 'bin', join(FIXTURES, 'linux', 'fake-bzimage.asm'), '-o', out]);
    expect(Buffer.compare(readFileSync(out), Buffer.from(FAKE))).toBe(0);
  });

  it('is detected by its "HdrS" setup header', () => {
    expect(detectFormat(FAKE)).toBe('linux');
    expect(detectFormat(patched({ 0x202: [0x48, 0x64, 0x72, 0x00] }))).not.toBe('linux');
  });

  it('enters the setup at seg+20h:0 after the firmware, with the header fields, command line and initrd filled in', () => {
    const initrd = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
    const { m, image, r, out } = boot(FAKE, { initrd, append: 'console=ttyS0 root=/dev/ram0 quiet' });
    expect(r.reason).toBe('exit');
    const layout = linuxLayout(image);
    expect(layout).toMatchObject({ setup: 0x10000, cmdline: 0x20000, kernel: MiB });
    const ramTop = pcMemoryMap(16 * MiB).find((x) => x.type === E820_RAM && x.base === MiB)!;
    const initrdAt = ramTop.base + ramTop.length - 0x2000; // 5000 bytes, page-aligned down from the top
    expect(layout.initrd).toBe(initrdAt);
    const hex = (v: number, n: number) => v.toString(16).toUpperCase().padStart(n, '0');
    // SP 0 is the top of the 64 KiB heap segment (heap_end_ptr FE00h + 200h); loadflags gains CAN_USE_HEAP.
    expect(out).toBe(
      `setup cs=1020 ds=1000 ss=1000 sp=0000 loader=FF loadflags=81 heap_end=FE00 initrd=${hex(initrdAt, 8)}+${hex(5000, 8)} ` +
        'cmdline=[console=ttyS0 root=/dev/ram0 quiet]\n',
    );
    expect(m.mem.u8.subarray(initrdAt, initrdAt + initrd.length)).toEqual(initrd);
    expect(Buffer.from(m.mem.u8.subarray(MiB, MiB + 22)).toString('latin1')).toBe('RINGSIDE-FAKE-KERNEL32');
  });

  it('reads a kernel handed over as a view into a larger buffer (a Node Buffer from the pool)', () => {
    // Buffer#slice is a view, unlike Uint8Array#slice: a loader that writes through `.buffer` of a slice misses.
    const pool = Buffer.alloc(FAKE.length + 100);
    pool.set(FAKE, 37);
    const { out } = boot(pool.subarray(37, 37 + FAKE.length), { append: 'x=1' });
    expect(out).toContain('loader=FF loadflags=81 heap_end=FE00');
    expect(out).toContain('cmdline=[x=1]');
  });

  it('uses the old layout and command-line protocol before 2.02', () => {
    const old = patched({ 0x206: [0x01, 0x02] });
    const mem = new PhysicalMemory(16 * MiB);
    const image = loadImage(mem, old, { format: 'linux', append: 'ro' });
    expect(linuxLayout(image)).toMatchObject({ setup: 0x90000, cmdline: 0x9a000 });
    expect(mem.peek(0x90000 + 0x20, 2)).toBe(0xa33f); // cl_magic
    expect(mem.peek(0x90000 + 0x22, 2)).toBe(0xa000); // cl_offset
    expect(mem.peek(0x90000 + 0x224, 2)).toBe(0xa000 - 0x200); // heap_end_ptr
    expect(mem.peek(0x9a000, 3)).toBe(0x6f72); // "ro\0"
  });

  const bad: [string, () => Uint8Array, { initrd?: Uint8Array; append?: string; memoryMB?: number }, RegExp][] = [
    ['no HdrS', () => patched({ 0x202: [0, 0, 0, 0] }), {}, /not a Linux bzImage: no "HdrS" setup header/],
    ['boot flag', () => patched({ 0x1fe: [0, 0] }), {}, /broken bzImage header: boot_flag .* not 0xAA55/],
    ['protocol 1.x', () => patched({ 0x206: [0x00, 0x01] }), {}, /boot protocol version 0x100 is below 2.00/],
    ['zImage', () => patched({ 0x211: [0] }), {}, /zImage .* only bzImage kernels are supported/],
    ['setup beyond the file', () => patched({ 0x1f1: [200] }), {}, /setup_sects 200 puts the setup .* beyond the file/],
    ['command line too long', () => FAKE, { append: 'x'.repeat(2048) }, /command line is 2048 bytes; this kernel accepts at most 2047/],
    ['initrd too large', () => FAKE, { initrd: new Uint8Array(15 * MiB) }, /the initrd \(15728640 bytes\) does not fit in guest memory/],
    ['kernel needs more memory', () => patched({ 0x260: [0, 0, 0, 0x02] }), {}, /the kernel needs memory up to 0x2100000 .* use --memory 34 or more/],
  ];
  for (const [name, image, opts, message] of bad) {
    it(`refuses with one line: ${name}`, () => {
      const mem = new PhysicalMemory((opts.memoryMB ?? 16) * MiB);
      let error: unknown;
      try {
        loadImage(mem, image(), { format: 'linux', initrd: opts.initrd, append: opts.append });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ImageError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    });
  }

  it('refuses an initrd or a command line for an image that is not a bzImage', () => {
    const mem = new PhysicalMemory(16 * MiB);
    expect(() => loadImage(mem, Uint8Array.of(0xf4), { initrd: Uint8Array.of(1) })).toThrow(/need a Linux bzImage \(format linux\), this image is bin/);
  });
});
