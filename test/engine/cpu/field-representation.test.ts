// The Cpu's hot fields keep their V8 representation through a boot (issue 13). A block's trace computed each
// instruction's next EIP as `end % 2^32`; 2^32 is no small integer, so the result was a heap number even for small
// EIPs, and the wasm tier's wrapper stored it into Cpu.eip when a block left to interpret a form it lacks. V8 then
// widened the field from small integer to double for every Cpu: the optimised code of every function that reads a
// Cpu field was thrown away (37 "wrong map" deopts and about 30 more TurboFan compiles in GRUB's boot). Checked
// in a child node with V8's natives syntax, on a bundle of the engine's own modules.

import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble, HAS_NASM } from './move-fixtures';
import { runV8Probe } from './v8-probe';

const ROOT = resolve(__dirname, '../../..');
const ORG = 0x10000;

/** A loop the wasm tier takes in, with a 16-bit IMUL (a form it leaves to the interpreter) in its middle. */
const LOOP = `
      mov esi, 300
    top:
      add ebx, esi
      imul ax, bx
      add edx, ebx
      dec esi
      jnz top
      hlt
`;

const probe = (code: number[]): string => `
import { flat32 } from ${JSON.stringify(join(ROOT, 'test/engine/cpu/harness'))};
import { collectBlock } from ${JSON.stringify(join(ROOT, 'engine/cpu/jit/compile'))};

const isSmi = new Function('v', 'return %IsSmi(v);');
const prepare = new Function('f', '%PrepareFunctionForOptimization(f);');
const optimiseNext = new Function('f', '%OptimizeFunctionOnNextCall(f);');
const optimised = new Function('f', 'return (%GetOptimizationStatus(f) & 16) !== 0;');

// The trace of the loop: each entry's EIP and next EIP are small integers, as the EIPs are.
const m = flat32(${JSON.stringify(code)}, ${ORG});
const trace = collectBlock(m.cpu, m.cpu.fetchInstr(${ORG}), ${ORG});
const smis = trace.length > 0 && trace.every((e) => isSmi(e.eip) && isSmi(e.next));

// A reader of Cpu.eip, optimised for the field as it is, stays optimised while wasm blocks leave to the interpreter
// (a Cpu whose map the widening replaced would deopt it: "wrong map").
function readEip(c) {
  return c.eip + 1;
}
const probeCpu = flat32([0xf4], ${ORG}).cpu;
prepare(readEip);
readEip(probeCpu);
readEip(probeCpu);
optimiseNext(readEip);
readEip(probeCpu);
const before = optimised(readEip);
const run = flat32(${JSON.stringify(code)}, ${ORG});
run.cpu.wasmHotThreshold = 2;
run.cpu.run(100_000);
readEip(run.cpu);
console.log(JSON.stringify({ smis, halted: run.cpu.halted, wasm: run.cpu.wasmBlocks, before, after: optimised(readEip) }));
`;

describe.skipIf(!HAS_NASM)('Cpu field representations under V8', () => {
  it("keep Cpu.eip a small integer field when a wasm block's exit interprets an instruction", () => {
    const { result, stderr } = runV8Probe(probe(Array.from(assemble(LOOP, 32, ORG))));
    expect(stderr).toBe('');
    expect(result).toEqual({ smis: true, halted: true, wasm: true, before: true, after: true });
  });
});
