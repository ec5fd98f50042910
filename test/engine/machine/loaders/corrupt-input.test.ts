// Corrupt images must end in an ImageError with a message, never in another exception: flip bytes of real
// images (deterministically) and truncate them at every length class, then load each result.
import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../../../engine/bus/memory';
import { ImageError, loadImage } from '../../../../engine/machine/loaders';
import type { ImageFormat } from '../../../../engine/machine/loaders';
import { fixture } from './fixtures';

/** xorshift32: the same sequence on every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const mem = new PhysicalMemory(4 * 0x100000); // shared: what earlier attempts left in it does not matter

function tryLoad(bytes: Uint8Array, format?: ImageFormat): 'ok' | 'error' {
  try {
    loadImage(mem, bytes, { format });
    return 'ok';
  } catch (e) {
    if (!(e instanceof ImageError)) throw new Error(`not an ImageError: ${String(e)}`);
    expect(e.message).not.toMatch(/\n/);
    expect(e.message.length).toBeGreaterThan(10);
    return 'error';
  }
}

describe('corrupt images', () => {
  for (const [file, format] of [
    ['hello.elf', 'elf'],
    ['lines-dwarf5.elf', 'elf'],
    ['multiboot.elf', 'multiboot'],
    ['multiboot-aout.bin', 'multiboot'],
  ] as const) {
    it(`${file}: every truncation and 400 random corruptions give a result or an ImageError`, () => {
      const original = fixture('elf', file);
      const outcomes = { ok: 0, error: 0 };
      for (let len = 0; len < original.length; len += Math.max(1, Math.floor(original.length / 300))) {
        outcomes[tryLoad(original.subarray(0, len), format)]++;
      }
      const next = prng(original.length);
      for (let round = 0; round < 400; round++) {
        const bytes = original.slice();
        const flips = 1 + (next() % 8);
        for (let i = 0; i < flips; i++) bytes[next() % bytes.length] = next() & 0xff;
        outcomes[tryLoad(bytes, format)]++;
      }
      expect(outcomes.error).toBeGreaterThan(0);
      expect(outcomes.ok).toBeGreaterThan(0);
    });
  }
});
