// Debugger breakpoints and translated blocks (performance.md, "debugger cost only when asked"): a block runs while
// the debugger's breakpoints are armed as long as none of them lies inside it. The check is made once per block
// and breakpoint-set edit, not per instruction.

import type { CompiledBlock } from './block';

/** The debugger's instruction breakpoints (linear addresses); `version` changes with every edit. */
export class BreakpointSet extends Set<number> {
  version = 0;

  override add(address: number): this {
    this.version++;
    return super.add(address);
  }

  override delete(address: number): boolean {
    this.version++;
    return super.delete(address);
  }

  override clear(): void {
    this.version++;
    super.clear();
  }
}

/** What a block remembers of its last breakpoint check. */
interface CheckedBlock {
  bpVersion: number;
  bpBase: number;
  bpClear: boolean;
}

const checks = new WeakMap<CompiledBlock, CheckedBlock>();

/** Whether no breakpoint lies within the block's bytes at CS base `base` (cached until the set or base changes). */
export function blockClearOfBreakpoints(block: CompiledBlock, breakpoints: BreakpointSet, base: number): boolean {
  let c = checks.get(block);
  if (c === undefined) {
    c = { bpVersion: -1, bpBase: 0, bpClear: false };
    checks.set(block, c);
  }
  if (c.bpVersion !== breakpoints.version || c.bpBase !== base) {
    const lo = (base + block.firstByte) >>> 0;
    const hi = (base + block.lastCodeByte) >>> 0;
    let clear = hi >= lo;
    if (clear) {
      for (const address of breakpoints) {
        if (address >= lo && address <= hi) {
          clear = false;
          break;
        }
      }
    }
    c.bpVersion = breakpoints.version;
    c.bpBase = base;
    c.bpClear = clear;
  }
  return c.bpClear;
}
