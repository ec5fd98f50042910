// What V8 makes of the engine's hottest call sites and fields (issue 13): checked in a child node with V8's natives
// syntax, on a bundle of the engine's own modules. A call into a block or an interpreter handler must stay a plain
// call once optimised (jit/megamorphic.ts: no inlined target, so a new target costs no deoptimisation), and the
// Cpu's unsigned lazy-flag fields must not change the Cpu's hidden class when a value ≥ 2^31 first arrives.

import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runV8Probe } from './v8-probe';

const ROOT = resolve(__dirname, '../../..');

const PROBE = `
import { Cpu } from ${JSON.stringify(join(ROOT, 'engine/cpu/cpu'))};
import { PhysicalMemory } from ${JSON.stringify(join(ROOT, 'engine/bus/memory'))};
import { IoBus } from ${JSON.stringify(join(ROOT, 'engine/bus/io-bus'))};
import { callHandler, runBlock } from ${JSON.stringify(join(ROOT, 'engine/cpu/jit/megamorphic'))};

const prepare = new Function('f', '%PrepareFunctionForOptimization(f);');
const optimiseNext = new Function('f', '%OptimizeFunctionOnNextCall(f);');
const optimised = new Function('f', 'return (%GetOptimizationStatus(f) & 16) !== 0;');
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b);');

const cpu = new Cpu(new PhysicalMemory(1 << 20), new IoBus());
const other = new Cpu(new PhysicalMemory(1 << 20), new IoBus());

/** Optimises \`call\` after many calls with one target, then calls it with another: still optimised? */
function afterNewTarget(f: Function, call: (target: Function) => void): [boolean, boolean] {
  const one = function one() { return 1; };
  const two = function two() { return 2; };
  prepare(f);
  for (let k = 0; k < 100; k++) call(one);
  optimiseNext(f);
  call(one);
  const before = optimised(f);
  call(two);
  return [before, optimised(f)];
}

const blocks = afterNewTarget(runBlock, (t) => runBlock({ run: t } as never, cpu, 0));
const handlers = afterNewTarget(callHandler, (t) => callHandler(t as never, cpu, null as never));
cpu.setLazyFlags(1, 0x80000000, 0x80000001, 0xfffffffe, 4, 0);
console.log(JSON.stringify({ blocks, handlers, lazySameMap: sameMap(cpu, other) }));
`;

describe('V8 feedback of the run loop and blocks', () => {
  it('block and handler calls stay optimised when a new target comes; lazy-flag values ≥ 2^31 keep the Cpu map', () => {
    const { result, stderr } = runV8Probe(PROBE);
    expect(stderr).toBe('');
    expect(result).toEqual({ blocks: [true, true], handlers: [true, true], lazySameMap: true });
  });
});
