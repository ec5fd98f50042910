// The committed firmware must be what its source assembles to, and the embedded copy must be the committed file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIOS_SIZE, biosImage, configOffset, rawBiosImage, tablesOffset } from '../../../../engine/machine/firmware';
import { pcMemoryMap } from '../../../../engine/machine/loaders';

const FIRMWARE = join(__dirname, '..', '..', '..', '..', 'engine', 'machine', 'firmware');
const committed = new Uint8Array(readFileSync(join(FIRMWARE, 'bios.bin')));

function nasmAvailable(): boolean {
  try {
    execFileSync('nasm', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('firmware image', () => {
  it('embeds exactly bios.bin (run build-bios.mjs after editing bios.asm)', () => {
    expect(committed.length).toBe(BIOS_SIZE);
    expect(Buffer.from(rawBiosImage()).equals(Buffer.from(committed))).toBe(true);
  });

  const nasm = nasmAvailable();
  if (!nasm) console.warn('firmware image test: nasm is not installed, so bios.bin was NOT checked against bios.asm');
  it.runIf(nasm)('bios.bin is what nasm makes of bios.asm', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringside-bios-'));
    try {
      const out = join(dir, 'bios.bin');
      execFileSync('nasm', ['-f', 'bin', '-o', out, join(FIRMWARE, 'bios.asm')]);
      expect(Buffer.from(readFileSync(out)).equals(Buffer.from(committed))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fills the configuration block (memory size, E820 map) and the table area, nothing else', () => {
    const patched = biosImage({ memorySize: 0x0123_4000 });
    const o = configOffset(patched);
    const view = new DataView(patched.buffer);
    expect(view.getUint32(o + 4, true)).toBe(0x0123_4000);
    const map = pcMemoryMap(0x0123_4000);
    expect(view.getUint16(o + 8, true)).toBe(map.length);
    map.forEach((r, i) => {
      expect(view.getUint32(o + 10 + i * 20, true)).toBe(r.base);
      expect(view.getUint32(o + 10 + i * 20 + 8, true)).toBe(r.length);
      expect(view.getUint32(o + 10 + i * 20 + 16, true)).toBe(r.type);
    });
    const t = tablesOffset(patched);
    const diff = [...patched].flatMap((b, i) => (b !== committed[i] ? [i] : []));
    expect(diff.every((i) => (i >= o + 4 && i < o + 10 + 16 * 20) || (i >= t + 16 && i < t + 1024))).toBe(true);
    expect(diff.some((i) => i >= t + 16)).toBe(true);
  });
});
