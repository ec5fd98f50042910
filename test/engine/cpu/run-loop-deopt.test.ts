// The run loop stays optimised when a boot first takes a block path it had not taken before (issue 13): the block
// entry, region dispatch and chaining live in jit/dispatch.ts runBlocks, called out of line (megamorphic.ts
// callOutOfLine), so a first region dispatch throws away runBlocks' optimised code, not the run loop's. Inlined into
// run(), each such first time ("insufficient type feedback" deopts) cost a TurboFan compile of the whole loop: 9 of
// them in GRUB's boot. Checked in a child node with V8's natives syntax, on a bundle of the engine's own modules.

import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble, HAS_NASM } from './move-fixtures';
import { runV8Probe } from './v8-probe';

const ROOT = resolve(__dirname, '../../..');
const ORG = 0x10000;

/**
 * A loop whose odd passes leave its first block through a side exit to `odd` and come back to it: the two blocks
 * lie in two pages (`apart`: the run loop chains them) or in one (a region: its dispatcher runs them).
 */
function program(apart: boolean): number[] {
  return Array.from(
    assemble(
      `
      mov ecx, 400
    top:
      inc eax
      test eax, 1
      jnz near odd
      dec ecx
      jnz near top
      hlt
      ${apart ? 'times 0x1000 - ($ - $$) nop' : 'align 16'}
    odd:
      dec ecx
      jnz near top
      hlt
    `,
      32,
      ORG,
    ),
  );
}

const probe = (apart: number[], together: number[]): string => `
import { Cpu } from ${JSON.stringify(join(ROOT, 'engine/cpu/cpu'))};
import { flat32 } from ${JSON.stringify(join(ROOT, 'test/engine/cpu/harness'))};

const prepare = new Function('f', '%PrepareFunctionForOptimization(f);');
const optimiseNext = new Function('f', '%OptimizeFunctionOnNextCall(f);');
const optimised = new Function('f', 'return (%GetOptimizationStatus(f) & 16) !== 0;');

function boot(code: number[]) {
  const m = flat32(code, ${ORG});
  m.cpu.hotThreshold = 2;
  m.cpu.run(100_000);
  return m.cpu;
}
const run = Cpu.prototype.run;
prepare(run);
// Every path of the run loop and of chaining between blocks of two pages, on fresh machines.
let chained = 0;
for (let k = 0; k < 20; k++) chained += boot(${JSON.stringify(apart)}).chainedBlockRuns;
optimiseNext(run);
boot(${JSON.stringify(apart)});
const before = optimised(run);
// Then, for the first time, two blocks of one page: the region's dispatcher runs them.
const cpu = boot(${JSON.stringify(together)});
console.log(JSON.stringify({ chained: chained > 0, regionRuns: cpu.regionBlockRuns > 0, halted: cpu.halted, before, after: optimised(run) }));
`;

describe.skipIf(!HAS_NASM)('the run loop under V8', () => {
  it('calls runBlocks out of line: TurboFan does not even consider inlining it into the run loop', () => {
    // Named at the call site, runBlocks was a constant to TurboFan once callOutOfLine was inlined, a candidate
    // whatever its call's feedback said, and inlined in GRUB's boot when the inlining budget allowed (the run loop
    // was then compiled four times instead of once); read from Cpu.runBlocksOutOfLine it is a value (megamorphic.ts).
    const { result, stderr, stdout } = runV8Probe(probe(program(true), program(false)), ['--trace-turbo-inlining']);
    expect(stderr).toBe('');
    expect(result).toMatchObject({ before: true });
    expect(stdout).toMatch(/Inlining .*<SharedFunctionInfo callOutOfLine>.* into .*<SharedFunctionInfo run>/);
    expect(stdout).not.toMatch(/Considering .*<SharedFunctionInfo runBlocks>} for inlining/);
  });

  it('stays optimised when the first region dispatch comes after it was optimised', () => {
    const { result, stderr } = runV8Probe(probe(program(true), program(false)));
    expect(stderr).toBe('');
    expect(result).toEqual({ chained: true, regionRuns: true, halted: true, before: true, after: true });
  });
});
