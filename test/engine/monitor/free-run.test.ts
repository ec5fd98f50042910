// Free running against stepping (engine/monitor/free-run.ts): every example and generated programs, bare and
// monitored, give the same machine whether run in slices with translation or one instruction per step; the
// comparison finds a planted difference and names it; issue 17's reproducer is compared clean.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FREE_RUN_LABELS, freeRunCompare, type FreeRunOptions } from '../../../engine/monitor/free-run';
import { describeDivergence } from '../../../engine/monitor/lockstep';
import { PROGRAM_BASE, randomProgram } from '../../../engine/monitor/random-program';
import { pageCrossSmc } from '../cpu/page-cross-programs';

const EXAMPLES = join(__dirname, '../../../examples');
const RANDOM_LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
const images = readdirSync(EXAMPLES)
  .map((d) => join(EXAMPLES, d, `${d}.bin`))
  .filter((f) => existsSync(f));

function clean(image: Uint8Array, options: FreeRunOptions): ReturnType<typeof freeRunCompare> {
  const r = freeRunCompare(image, options);
  if (r.divergence) throw new Error(describeDivergence(r.divergence, FREE_RUN_LABELS));
  return r;
}

describe('free running and stepping give the same machine', () => {
  for (const image of images) {
    for (const monitored of [false, true]) {
      it(`example ${image.split('/').pop()} (${monitored ? 'monitored' : 'bare'})`, () => {
        const bench = image.includes('bench-loop');
        const r = clean(readFileSync(image), { monitored, maxInstructions: bench ? 200_000 : 1_000_000, memoryMB: image.includes('paging') ? 16 : 4 });
        expect(r.stop).toBe(bench ? 'limit' : 'exit');
        // Compared after every instruction that printed (a REP OUTSB prints many bytes in one), and at slice ends.
        expect(r.comparisons).toBeGreaterThan(1);
        if (!bench) expect(r.outputBytes).toBeGreaterThan(0);
      }, 60_000);
    }
  }

  for (const name of ['bios-services', 'bios-extras']) {
    it(`boot image ${name} through the built-in firmware and the ATA disk, bare and monitored`, () => {
      const image = readFileSync(join(__dirname, '../../fixtures/boot', `${name}.bin`));
      for (const monitored of [false, true]) {
        expect(clean(image, { monitored, memoryMB: 16 }).stop).toBe('exit');
      }
    }, 60_000);
  }

  it('generated protected-mode programs, bare and monitored, in slices of varying length', () => {
    let compared = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const p = randomProgram(seed, 300, { paging: seed % 2 === 0 });
      for (const monitored of [false, true]) {
        // Slices from 1 to about 5000 instructions: budgets end inside translated blocks and REP batches.
        const r = clean(p.image, { load: RANDOM_LOAD, monitored, maxInstructions: 20_000, slice: (k) => 1 + ((k * 2654435761) % 4999) });
        compared += r.instructions;
      }
    }
    expect(compared).toBeGreaterThan(20_000);
  }, 120_000);

  it('issue 17\'s page-crossing self-modifying code compares clean, 16- and 32-bit, bare and monitored', () => {
    for (const bits of [16, 32] as const) {
      for (const monitored of [false, true]) {
        const r = clean(pageCrossSmc(bits), { monitored, load: { format: 'bin', mode: bits === 32 ? 'protected' : 'real' } });
        expect([r.stop, r.free.exitCode]).toEqual(['exit', 0x22]);
      }
    }
  });
});

describe('the free-run comparison reports what differs', () => {
  it('a planted register difference, with both states', () => {
    const r = freeRunCompare(readFileSync(join(EXAMPLES, 'hello', 'hello.bin')), { prepare: (free) => void (free.cpu.regs[5] = 0x1234) });
    expect(r.divergence?.field).toBe('EBP');
    const text = describeDivergence(r.divergence!, FREE_RUN_LABELS);
    expect(text).toMatch(/stepped:[\s\S]*free:[\s\S]*EBP=00001234.*<-- differs/);
  });

  it('a planted memory byte the guest never reads, found at the next memory comparison', () => {
    const r = freeRunCompare(readFileSync(join(EXAMPLES, 'hello', 'hello.bin')), { prepare: (free) => void (free.mem.u8[0x300000] = 1) });
    expect(r.divergence?.field).toBe('memory[0x300000]');
  });

  it('a planted change to what the guest prints, at the first byte it prints', () => {
    // descriptor-cache prints with REP OUTSB: no register sees the bytes, so the output is what differs first. Each
    // REP iteration is an instruction of guest time (interfaces.md), so the first differing byte is caught alone.
    const image = readFileSync(join(EXAMPLES, 'descriptor-cache', 'descriptor-cache.bin'));
    const text = image.indexOf(Buffer.from('descriptor-cache: segment registers'));
    expect(text).toBeGreaterThan(0);
    const r = freeRunCompare(image, { prepare: (free) => void (free.mem.u8[0x7c00 + text] = 0x44) });
    expect(r.divergence?.field).toBe('console output');
    expect(describeDivergence(r.divergence!, FREE_RUN_LABELS)).toMatch(/stepped: +"d"\n *free: +"D"/);
  });
});
