// A shadow miss resolved in place (monitor.ts shadowMissInPlace, shadow-paging.ts fillMiss): a real #PF on a page
// whose translation the guest's TLB already holds with the access's right makes the shadow entry and runs the
// instruction again on the real CPU, without a monitor entry. The guest's TLB keeps its entries when the shadow is
// dropped for a change of the guest's CPL class (ring 3 and back), so the pages the guest used before are such
// misses afterwards. Every scenario runs in lockstep with a bare machine (one instruction at a time: registers,
// flags, the instruction count, memory), and again as whole runs with translated blocks.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { describeDivergence, firstDifference, lockstep, visibleState } from '../../../engine/monitor/lockstep';
import { encode, PAGING_PROLOGUE, PROGRAM_BASE, programFromSlots, slotAddress, withPageTables } from '../../../engine/monitor/random-program';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';

const LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
const MEMORY_MB = 4;
const RESULTS = 0x20000;
const STACK3_PAGE = 0x12000 + 16 * 7;

const load = (addr: number): number[] => [0x36, 0xa1, ...encode.le32(addr)];
const store = (addr: number): number[] => [0x36, 0xa3, ...encode.le32(addr)];

/** Ring 0 touches its pages, goes to ring 3 and back (the shadow dropped twice), then uses them again. */
function program(): Uint8Array {
  return withPageTables(
    programFromSlots([
      ...PAGING_PROLOGUE,
      encode.storeSs(0x40000, 0x11111111), // a write: the walk sets A and D, the TLB entry allows writes
      load(0x41000), // a read only: the entry does not allow writes until a walk sets D
      load(0x42000),
      encode.toRing3(STACK3_PAGE),
      load(0x43000),
      encode.toRing0(),
      load(0x40000), // a miss the guest's TLB answers: in place
      store(RESULTS),
      load(0x42000), // again
      store(RESULTS + 4),
      encode.storeSs(0x40000, 0x22222222), // the entry made above allows the write: no fault at all
      encode.storeSs(0x41000, 0x33333333), // a write to a clean page: the guest must walk (D), an entry
      load(0x41000),
      store(RESULTS + 8),
    ]),
  ).image;
}

/**
 * STI with IRQ 0 pending, then a load that misses in the shadow: a bare CPU runs the load in STI's interrupt shadow
 * and takes the interrupt after it; the restart boundary must not take it before the load (attention is set: the
 * miss enters, and the entry's emulation runs the load first).
 */
function interruptShadowProgram(): Uint8Array {
  const body: number[][] = [encode.storeSs(0x40000, 0x11111111)];
  body.push(
    [0xb0, 0x34, 0xe6, 0x43, 0xb0, 0x10, 0xe6, 0x40, 0xb0, 0x00, 0xe6, 0x40], // PIT channel 0, mode 2, period 16
    [0xb0, 0xfe, 0xe6, 0x21], // unmask IRQ 0 (IF is clear)
  );
  for (let k = 0; k < 4; k++) {
    const at = PAGING_PROLOGUE.length + body.length;
    body.push(
      encode.toRing3(slotAddress(at + 1)), // the shadow dropped (ring 3), and again back in ring 0
      encode.toRing0(),
      [0xb9, ...encode.le32(2000), 0xe2, 0xfe], // mov ecx, 2000; loop $: IRQ 0 pending behind IF = 0
      [0xfb, 0x36, 0xa1, ...encode.le32(0x40000), 0xfa], // sti; mov eax, [0x40000] (a miss); cli
      store(RESULTS + 4 * k),
    );
  }
  return withPageTables(programFromSlots([...PAGING_PROLOGUE, ...body])).image;
}

describe('a shadow miss the guest TLB answers is resolved in place', () => {
  it('but not when the boundary before the restart would take something (an interrupt after STI), as bare', () => {
    const r = lockstep(interruptShadowProgram(), { load: LOAD, memoryMB: MEMORY_MB, memoryEvery: 1, maxInstructions: 200_000 });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.stop).toBe('exit');
    expect(r.monitor.counters.panics, r.monitor.lastPanic ?? '').toBe(0);
    expect(r.monitored.mem.peek(RESULTS + 12, 4) >>> 0).toBe(0x11111111);
  });

  it('fills the shadow without an entry and runs the instruction again, as bare runs it once', () => {
    const r = lockstep(program(), { load: LOAD, memoryMB: MEMORY_MB, memoryEvery: 1, maxInstructions: 50_000 });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.stop).toBe('exit');
    const c = r.monitor.counters;
    expect(c.panics, r.monitor.lastPanic ?? '').toBe(0);
    expect(r.monitored.mem.peek(RESULTS, 4) >>> 0).toBe(0x11111111);
    expect(r.monitored.mem.peek(RESULTS + 8, 4) >>> 0).toBe(0x33333333);
    // The loads of 0x40000 and 0x42000 (and the code and stack pages ring 0 used before) after the return to ring 0.
    expect(c.inPlace.get('shadow-miss') ?? 0).toBeGreaterThanOrEqual(2);
    // The write to the clean page still enters: the guest's walk sets its dirty bit.
    expect(c.traps.get('pf') ?? 0).toBeGreaterThan(0);
  });

  it('whole runs (translated blocks included) end in the same state bare and monitored', () => {
    const image = program();
    const bare = new Machine({ memoryMB: MEMORY_MB });
    const mon = new Machine({ memoryMB: MEMORY_MB });
    const monitor = attachMonitor(mon);
    bare.load(image, LOAD);
    mon.load(image, LOAD);
    const a = bare.run(1_000_000);
    const b = mon.run(1_000_000);
    expect(b.reason).toBe(a.reason);
    expect(b.instructions).toBe(a.instructions);
    expect(firstDifference(visibleState(bare, null), visibleState(mon, monitor))).toBeNull();
    expect(Buffer.compare(Buffer.from(bare.mem.u8), Buffer.from(mon.mem.u8))).toBe(0);
    expect(monitor.counters.inPlace.get('shadow-miss') ?? 0).toBeGreaterThanOrEqual(2);
  });
});
