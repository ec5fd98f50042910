// Shadow paging (engine/monitor/shadow-paging.ts): a paging guest runs deprivileged on shadow tables that hold only
// what its own TLB holds, the monitor's window moves when the guest maps its slot, frames beyond guest RAM are never
// mapped, and a guest that maps all of linear space runs emulated. Every scenario is also run in lockstep with a
// bare machine: the guest cannot tell.
import { describe, expect, it } from 'vitest';
import { describeDivergence, lockstep } from '../../../engine/monitor/lockstep';
import { encode, PAGING_PROLOGUE, PROGRAM_BASE, programFromSlots, TABLES, withPageTables } from '../../../engine/monitor/random-program';
import { VGDT_OFFSET } from '../../../engine/monitor/layout';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';

const LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
const MEMORY_MB = 4;
const RAM = MEMORY_MB << 20;
const RESULTS = 0x20000;
const { PAGE_DIR, PAGE_TABLE } = TABLES;

const load = (addr: number): number[] => [0x36, 0xa1, ...encode.le32(addr)];
const store = (addr: number): number[] => [0x36, 0xa3, ...encode.le32(addr)];
const invlpg = (addr: number): number[] => [0x36, 0x0f, 0x01, 0x3d, ...encode.le32(addr)];
const reloadCr3 = [0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8];

function paged(body: number[][], edit?: Parameters<typeof withPageTables>[1]) {
  const image = withPageTables(programFromSlots([...PAGING_PROLOGUE, ...body]), edit).image;
  const r = lockstep(image, { load: LOAD, memoryMB: MEMORY_MB, memoryEvery: 1, maxInstructions: 50_000 });
  if (r.divergence) throw new Error(describeDivergence(r.divergence));
  expect(r.stop).toBe('exit');
  expect(r.monitor.counters.panics, r.monitor.lastPanic ?? '').toBe(0);
  return r;
}

const result = (r: ReturnType<typeof paged>, k: number): number => r.monitored.mem.peek(RESULTS + 4 * k, 4) >>> 0;

describe('shadow paging under the monitor', () => {
  it('runs a paging guest deprivileged: shadow misses trap and are filled, in both rings', () => {
    const r = paged([
      encode.storeSs(0x40000, 0x11111111),
      load(0x40000),
      store(RESULTS),
      encode.toRing3(0x12000 + 16 * 7),
      load(0x41000),
      encode.toRing0(),
      load(0x42000),
    ]);
    expect(result(r, 0)).toBe(0x11111111);
    expect(r.monitor.counters.disengagements).toBe(0);
    expect(r.monitor.counters.traps.get('pf') ?? 0).toBeGreaterThan(3);
    expect(r.monitor.shadow.counters.fills).toBeGreaterThan(3);
    // The CPL class changed twice (ring 3 and back): the shadow was rebuilt for each.
    expect(r.monitor.shadow.counters.flushes).toBeGreaterThanOrEqual(3);
  });

  it('keeps a stale translation until INVLPG, as the guest TLB does on bare hardware (SDM 3A §4.10.4)', () => {
    const r = paged([
      encode.storeSs(0x40000, 0xaaaaaaaa),
      encode.storeSs(0x41000, 0xbbbbbbbb),
      load(0x40000), // fills the TLB (and the shadow) with page 0x40 → frame 0x40000
      encode.storeSs(PAGE_TABLE + 0x40 * 4, 0x41007), // remap to frame 0x41000, no flush
      load(0x40000),
      store(RESULTS),
      invlpg(0x40000),
      load(0x40000),
      store(RESULTS + 4),
    ]);
    expect(result(r, 0)).toBe(0xaaaaaaaa);
    expect(result(r, 1)).toBe(0xbbbbbbbb);
    expect(r.monitor.shadow.counters.drops).toBeGreaterThan(0);
  });

  it('never maps a frame of the hidden region: it stays out of reach through the page tables', () => {
    const r = paged(
      [
        encode.movEax(0x12345678),
        store(0x40000 + VGDT_OFFSET + 8), // into the monitor's virtual GDT, if it were mapped: the open bus
        store(0x400000 + VGDT_OFFSET + 16), // through the 4 MiB page at physical 4 MiB: the open bus again
        load(0x40000 + VGDT_OFFSET + 8),
        store(RESULTS),
        load(0x400000 + VGDT_OFFSET + 16),
        store(RESULTS + 4),
      ],
      (put32) => {
        put32(PAGE_TABLE + 0x40 * 4, RAM | 7); // page 0x40 → the hidden region's first frame
        put32(PAGE_DIR + 4, RAM | 0x87); // 4 MiB page at the hidden region
      },
    );
    expect(result(r, 0)).toBe(0xffffffff);
    expect(result(r, 1)).toBe(0xffffffff);
    // Those accesses were emulated each time: no shadow entry names a frame of the hidden region.
    const mapped = r.monitor.shadow.mappings();
    expect(mapped.length).toBeGreaterThan(3);
    expect(mapped.filter((m) => m.frame >= RAM && m.frame < RAM + r.monitored.mem.hidden!.length)).toEqual([]);
    const hidden = r.monitored.mem.hidden!;
    expect(Array.from(hidden.subarray(VGDT_OFFSET + 8, VGDT_OFFSET + 24))).not.toContain(0x78);
  });

  it('maps other frames beyond RAM (the local APIC, the open bus): the guest reaches them without an entry, as bare', () => {
    const apic = 0xfee00000;
    const accesses = [
      load(0x40030), // the APIC's version register
      encode.movEax(0x20),
      store(0x40080), // its task-priority register
      load(0x40080),
      store(RESULTS),
      load(0x41000), // the open bus
      store(RESULTS + 4),
      store(0x41000), // dropped
      load(0x41000),
      store(RESULTS + 8),
    ];
    const r = paged([...accesses, ...accesses], (put32) => {
      put32(PAGE_TABLE + 0x40 * 4, apic | 7);
      put32(PAGE_TABLE + 0x41 * 4, 0x500000 | 7);
    });
    expect(result(r, 0)).toBe(0x20);
    expect(result(r, 1)).toBe(0xffffffff);
    expect(result(r, 2)).toBe(0xffffffff);
    const mapped = r.monitor.shadow.mappings();
    expect(mapped.filter((m) => m.frame === apic || m.frame === 0x500000).length).toBe(2);
    // The second round's accesses ran directly: the entries are those of the first (a miss, a first write each).
    const once = paged(accesses, (put32) => {
      put32(PAGE_TABLE + 0x40 * 4, apic | 7);
      put32(PAGE_TABLE + 0x41 * 4, 0x500000 | 7);
    });
    expect(r.monitor.counters.traps.get('pf')).toBe(once.monitor.counters.traps.get('pf'));
  });

  it("moves the monitor's window when the guest maps its slot, and the guest sees its own memory there", () => {
    const r = paged([
      load(0xffc10380), // the top slot is unmapped: the guest's own #PF (its handler counts it)
      encode.storeSs(PAGE_DIR + 1023 * 4, PAGE_TABLE | 7), // map the top slot onto the low table
      encode.storeSs(0x10390, 0x5a5a5a5a),
      load(0xffc10390), // now the guest's alias of 0x10390
      store(RESULTS),
    ]);
    expect(result(r, 0)).toBe(0x5a5a5a5a);
    expect(r.monitor.shadow.counters.relocations).toBeGreaterThanOrEqual(2);
    expect(r.monitor.shadow.windowSlot).not.toBe(1023);
    expect(r.monitor.state).toBe('direct');
  });

  it("moves the window off a slot the guest's TLB translates though its directory entry is clear again", () => {
    // One MOVSD reads through the top slot (the guest's walk fills its TLB there) and clears the slot's directory
    // entry: afterwards only the TLB says the guest uses the slot. The monitor does not search the TLB for the
    // window's slot at every entry; it relies on the TLB reporting that fill (shadow-paging.ts windowStillFree).
    const r = paged([
      encode.storeSs(PAGE_DIR + 1000 * 4, 0), // the directory's page written once (no entry at the next store)
      encode.storeSs(0x10390, 0),
      encode.storeSs(PAGE_DIR + 1023 * 4, PAGE_TABLE | 7), // map the top slot, where the window is
      [0xbe, ...encode.le32(0xffc10390), 0xbf, ...encode.le32(PAGE_DIR + 1023 * 4)], // mov esi, …; mov edi, PDE 1023
      [0xa5], // movsd: reads 0 through the top slot, stores it into its directory entry
      load(0xffc10390), // the stale translation, as bare
      store(RESULTS),
    ]);
    expect(r.monitor.shadow.windowSlot).not.toBe(1023);
    expect(r.monitor.shadow.counters.relocations).toBeGreaterThanOrEqual(2);
    expect(r.monitor.state).toBe('direct');
  });

  it('runs emulated, and says why, while the guest maps all 4 GiB; engages again once a slot is free', () => {
    const image = withPageTables(
      programFromSlots([
        ...PAGING_PROLOGUE,
        [0x90],
        [0x90],
        encode.storeSs(PAGE_DIR + 700 * 4, 0), // free one slot
        reloadCr3,
        load(0x40000),
        store(RESULTS),
      ]),
      (put32) => {
        for (let k = 1; k < 1024; k++) put32(PAGE_DIR + k * 4, ((k << 22) | 0x87) >>> 0);
      },
    ).image;
    const m = new Machine({ memoryMB: MEMORY_MB });
    const monitor = attachMonitor(m);
    m.load(image, LOAD);
    for (let k = 0; k < 500 && (monitor.currentGuest().cr0 & 0x80000000) === 0; k++) m.step(); // to paging on
    for (let k = 0; k < 5; k++) m.step();
    expect(monitor.state).toBe('emulated');
    expect(monitor.emulatedBecause).toMatch(/maps every 4 MiB of linear space/);
    const r = lockstep(image, { load: LOAD, memoryMB: MEMORY_MB, memoryEvery: 1, maxInstructions: 50_000 });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.stop).toBe('exit');
    expect(r.monitor.counters.disengagements).toBeGreaterThanOrEqual(1);
    expect(r.monitor.counters.engagements).toBeGreaterThanOrEqual(2);
    expect(r.monitor.state).toBe('direct');
    expect(r.monitor.shadow.windowSlot).toBe(700);
  });
});
