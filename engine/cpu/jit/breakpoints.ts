// Debugger breakpoints and translated blocks (performance.md, "debugger cost only when asked"): a block runs while
// the debugger's breakpoints are armed as long as none of them lies inside it. The check is made once per block
// and breakpoint-set edit, not per instruction.

import type { CompiledBlock } from './block';

/**
 * The debugger's instruction breakpoints (linear addresses); `version` changes with every edit. While any is armed
 * the run loop asks `hits` before every interpreted instruction, so the set also keeps a bit per 4 KiB linear page
 * that holds one: most instructions are then answered by one typed-array load instead of a hash lookup (a logpoint
 * or breakpoints in code that is not running used to cost the interpreter half its speed on Linux's boot).
 */
export class BreakpointSet extends Set<number> {
  version = 0;
  /** Bit (page & 31) of word (page >>> 5): a breakpoint lies in linear page `page`. Made on the first add. */
  private pageBits: Uint32Array | null = null;
  /** Breakpoints per linear page, so a delete knows when its page's bit goes. */
  private readonly perPage = new Map<number, number>();

  override add(address: number): this {
    this.version++;
    if (!super.has(address)) {
      const page = address >>> 12;
      const n = this.perPage.get(page) ?? 0;
      this.perPage.set(page, n + 1);
      this.pageBits ??= new Uint32Array(1 << 15);
      this.pageBits[page >>> 5] |= 1 << (page & 31);
    }
    return super.add(address);
  }

  override delete(address: number): boolean {
    this.version++;
    if (super.has(address)) {
      const page = address >>> 12;
      const n = (this.perPage.get(page) ?? 1) - 1;
      if (n === 0) {
        this.perPage.delete(page);
        this.pageBits![page >>> 5] &= ~(1 << (page & 31));
      } else this.perPage.set(page, n);
    }
    return super.delete(address);
  }

  override clear(): void {
    this.version++;
    this.perPage.clear();
    this.pageBits?.fill(0);
    super.clear();
  }

  /** Whether a breakpoint is armed at linear address `lin` (an unsigned 32-bit number). */
  hits(lin: number): boolean {
    const bits = this.pageBits;
    if (bits === null || (bits[lin >>> 17] & (1 << ((lin >>> 12) & 31))) === 0) return false;
    return super.has(lin);
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
