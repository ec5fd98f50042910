// Bad input (issue 5): a guest that corrupts its tables, loads garbage selectors, writes its GDT while running from
// it, or reaches for the monitor's memory and entries gets what bare hardware gives it; the monitor never throws,
// never loses track of a register (lockstep compares every register after every instruction), and never lets the
// guest read or write its memory or entries.
import { describe, expect, it } from 'vitest';
import { describeDivergence, lockstep } from '../../../engine/monitor/lockstep';
import { encode, makeDescriptor, PROGRAM_BASE, programFromSlots, slotAddress, TABLES } from '../../../engine/monitor/random-program';
import { monitorSnapshot } from '../../../engine/monitor/inspect';
import { MONITOR_BYTES, VGDT_OFFSET } from '../../../engine/monitor/layout';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';

const LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
const DS = 3, ES = 0, FS = 4, GS = 5;
const P_DS = 0x3e, P_ES = 0x26, P_FS = 0x64;
const MEMORY_MB = 4;
const HIDDEN = MEMORY_MB * 1024 * 1024; // the hidden region starts right above guest RAM

function same(body: number[][], scratch: { a?: [number, number][] } = {}) {
  const r = lockstep(programFromSlots(body, scratch).image, { load: LOAD, memoryMB: MEMORY_MB, memoryEvery: 8, maxInstructions: 50_000 });
  if (r.divergence) throw new Error(describeDivergence(r.divergence));
  expect(r.monitor.counters.panics, r.monitor.lastPanic ?? '').toBe(0);
  return r;
}

describe('bad input under the monitor', () => {
  it('garbage selectors: each load faults (or not) exactly as on bare hardware', () => {
    const body: number[][] = [];
    for (const sel of [0xffff, 0x1234, 0x7, 0x80, 0x88, 0xfff8, 0x2b, 0x33, 0x44, 0x0d]) {
      for (const sreg of [DS, ES, FS, GS]) body.push(encode.loadSreg(sreg, sel));
    }
    const r = same(body);
    expect(r.stop).toBe('exit');
    // Faults were delivered to the guest's handlers (its counter in memory matched bare, byte for byte).
    expect(r.monitored.mem.u8[0x10380]).toBeGreaterThan(10);
  });

  it("a guest corrupting its own tables: scratch entries, the LDT, then a table register at garbage", () => {
    const body: number[][] = [];
    for (let e = 0; e < 8; e++) {
      body.push(encode.storeSs(TABLES.GDT_A_SCRATCH + e * 8, 0xdeadbeef));
      body.push(encode.storeSs(TABLES.GDT_A_SCRATCH + e * 8 + 4, 0x00cf9200 ^ (e << 13)));
      body.push(encode.loadSreg(DS, 0x40 + e * 8));
      body.push(encode.loadEax(P_DS, 0x10));
    }
    body.push(encode.storeSs(TABLES.LDT + 8, 0xffffffff), encode.storeSs(TABLES.LDT + 12, 0xffffffff), encode.loadSreg(ES, 0x0f));
    // GDTR_B rewritten to point past the end of RAM (open bus: all 0xFF), loaded, and a load through it.
    body.push(encode.storeSs(TABLES.GDTR_B + 2, HIDDEN + VGDT_OFFSET), encode.lgdt(TABLES.GDTR_B), encode.loadSreg(FS, 0x10));
    body.push(encode.storeSs(TABLES.GDTR_B + 2, TABLES.GDT_B), encode.lgdt(TABLES.GDTR_A));
    same(body);
  });

  it('an LDT descriptor with a 4 GiB limit: the virtual LDT stays within its 64 KiB (selectors reach no further)', () => {
    const [lo, hi] = makeDescriptor(0x60000, 0xffffffff, 0x82);
    const body: number[][] = [
      encode.storeSs(TABLES.GDT_A_SCRATCH, lo),
      encode.storeSs(TABLES.GDT_A_SCRATCH + 4, hi),
      [0x66, 0xb8, 0x40, 0x00, 0x0f, 0x00, 0xd0], // mov ax, 0x40; lldt ax
      encode.loadSreg(DS, 0xfffc),
      encode.loadSreg(ES, 0x0c),
      [0x6a, 0x00, 0x6a, 0x00, 0x58, 0x58], // pushes land in pages the huge LDT covers
      encode.loadSreg(DS, 0x10),
      [0x66, 0xb8, 0x30, 0x00, 0x0f, 0x00, 0xd0], // back to the runtime's LDT
    ];
    const r = same(body);
    expect(r.stop).toBe('exit');
  });

  it('writing the GDT entry of the running CS and SS: stale caches keep running, as on bare hardware', () => {
    const body: number[][] = [
      // GDT[1] (CS 0x08) and GDT[2] (SS 0x10) get new bases: the running caches are now inconsistent.
      encode.storeSs(TABLES.GDT_A + 8 + 4, makeDescriptor(0x01000000, 0xffffffff, 0x9b)[1]),
      encode.storeSs(TABLES.GDT_A + 16 + 4, makeDescriptor(0x02000000, 0xffffffff, 0x93)[1]),
      encode.movEax(0x12345678),
      encode.storeEax(P_ES, 0x3000),
      [0x9c, 0x58], // pushfd; pop eax: SBE-emulated, uses the stale SS cache
      encode.storeSs(TABLES.GDT_A + 8 + 4, makeDescriptor(0, 0xffffffff, 0x9b)[1]),
      encode.storeSs(TABLES.GDT_A + 16 + 4, makeDescriptor(0, 0xffffffff, 0x93)[1]),
    ];
    const r = same(body);
    expect(r.stop).toBe('exit');
    // The returns wrote the stale caches at their own selectors: CS's at 0x08, and at 0x10 the one SS shares with DS
    // (written once, for DS, and loaded by both).
    expect(r.monitor.returns.some((x) => x.written.join() === 'DS,CS' && x.marked.join() === 'GDT[2],GDT[1]')).toBe(true);
  });

  it('CS and SS sharing one selector (one of them stale, as GRUB hands over to a multiboot kernel): emulated, no panic', () => {
    const scratch = TABLES.GDT_A_SCRATCH; // selector 0x40
    const [dataLo, dataHi] = makeDescriptor(0, 0xffffffff, 0x93);
    const [codeLo, codeHi] = makeDescriptor(0, 0xffffffff, 0x9b);
    const r = same([
      encode.storeSs(scratch, dataLo),
      encode.storeSs(scratch + 4, dataHi),
      encode.loadSreg(2, 0x40), // SS = 0x40: flat data
      encode.storeSs(scratch, codeLo),
      encode.storeSs(scratch + 4, codeHi),
      [0xea, ...encode.le32(slotAddress(6)), ...encode.le16(0x40)], // jmp 0x40:next: CS = 0x40, flat code; SS stale
      [0x9c, 0x58, 0x40, 0x48], // pushfd; pop eax; inc eax; dec eax: run emulated
      encode.loadSreg(2, 0x10), // SS = 0x10 again: the monitor engages
      [0xea, ...encode.le32(slotAddress(9)), ...encode.le16(0x08)], // jmp 0x08:next
    ]);
    expect(r.stop).toBe('exit');
    expect(r.monitor.counters.engagements).toBeGreaterThan(1);
  });

  it("the monitor's memory and entries stay out of reach", () => {
    const [lo, hi] = makeDescriptor(HIDDEN, 0xffff, 0x93);
    const body: number[][] = [
      // A data segment over the hidden region: reads give the open bus (0xFF…), writes vanish — as on bare hardware.
      encode.storeSs(TABLES.GDT_A_SCRATCH, lo),
      encode.storeSs(TABLES.GDT_A_SCRATCH + 4, hi),
      encode.loadSreg(FS, 0x40),
      encode.loadEax(P_FS, VGDT_OFFSET + 8),
      encode.storeEax(P_DS, 0x5000),
      encode.movEax(0),
      encode.storeEax(P_FS, VGDT_OFFSET + 8),
      encode.storeEax(P_FS, VGDT_OFFSET + 12),
      // The monitor's own GDT entries lie past the guest's limit (0x7F): loads of them fault as beyond the limit.
      encode.loadSreg(ES, 0x80),
      encode.loadSreg(ES, 0x88),
      encode.loadSreg(ES, 0x93),
      encode.toRing3(slotAddress(12)),
      encode.loadSreg(DS, 0x83),
      encode.loadSreg(GS, 0x8b),
      encode.toRing0(),
    ];
    const r = same(body);
    // The guest read the open bus through its segment over the hidden region.
    expect(r.monitored.mem.u8[0x5000]).toBe(0xff);
    // The virtual GDT still holds the guest's virtualized code entry at index 1, untouched by the guest's writes.
    const snap = monitorSnapshot(r.monitor);
    expect(snap.state).toBe('direct');
    const code = snap.virtualGdt[1];
    expect(code.virtual.kind).toMatch(/code/);
    expect(code.guest?.base).toBe(0);
    expect(snap.virtualGdt.slice(-3).map((e) => e.monitorEntry)).toEqual(['code', 'stack', 'tss']);
    expect(r.monitored.mem.hidden?.length).toBe(MONITOR_BYTES);
  });

  it('a GDT too large for the monitor entries: the guest runs emulated, still identical', () => {
    const body: number[][] = [
      encode.storeSs16(TABLES.GDTR_B, 0xffff), // limit 0xFFFF: 8192 entries leave no room past the limit
      encode.lgdt(TABLES.GDTR_B),
      encode.loadSreg(DS, 0x10),
      encode.loadSreg(ES, 0x7ff8),
      encode.lgdt(TABLES.GDTR_A),
      encode.loadSreg(DS, 0x10),
      encode.loadSreg(ES, 0x10), // ES held a selector past table A's limit: emulated until it is reloaded
    ];
    const r = same(body);
    expect(r.monitor.counters.disengagements).toBeGreaterThan(0);
    expect(r.monitor.state, r.monitor.emulatedBecause ?? '').toBe('direct');
  });
});

describe('SBE conditions', () => {
  it('an inconsistent SS keeps SBE on in ring 3; consistency turns it off', () => {
    const body: number[][] = [
      encode.toRing3(slotAddress(1)),
      [0x90], // ring 3, everything consistent and DPL 3: SBE goes off
      encode.storeSs(TABLES.GDT_A + 32 + 4, makeDescriptor(0x01000000, 0xffffffff, 0xf3)[1]), // SS 0x23's entry rewritten
      [0x90],
      encode.storeSs(TABLES.GDT_A + 32 + 4, makeDescriptor(0, 0xffffffff, 0xf3)[1]), // and back
      [0x90],
      encode.toRing0(),
    ];
    const r = lockstep(programFromSlots(body).image, { load: LOAD, memoryMB: MEMORY_MB });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    const changes: string[] = [];
    // Re-run monitored alone to watch the SBE changes as the guest sees them.
    const m = new Machine({ memoryMB: MEMORY_MB });
    attachMonitor(m);
    m.cpu.events.on('sbe-change', (e) => changes.push(`${e.on ? 'on' : 'off'}: ${e.condition}`));
    m.load(programFromSlots(body).image, LOAD);
    m.run(100_000);
    expect(changes[0]).toMatch(/^off: all selectors RPL 3/);
    expect(changes[1]).toMatch(/^on: SS cache inconsistent \(base\)/);
    expect(changes[2]).toMatch(/^off: /);
    expect(changes[3]).toMatch(/^on: guest CPL 0/);
  });
});

describe('guest paging', () => {
  it('paging on: the guest keeps running deprivileged on shadow tables (identical); paging off again: linear = physical', () => {
    const body: number[][] = [
      encode.storeSs(0x70000, 0x00000087), // PDE 0: a 4 MiB page at 0, present, writable, user
      [0xb8, 0x00, 0x00, 0x07, 0x00, 0x0f, 0x22, 0xd8], // mov eax, 0x70000; mov cr3, eax
      [0x0f, 0x20, 0xe0, 0x0c, 0x10, 0x0f, 0x22, 0xe0], // mov eax, cr4; or al, 0x10 (PSE); mov cr4, eax
      [0x0f, 0x20, 0xc0, 0x0f, 0xba, 0xe8, 0x1f, 0x0f, 0x22, 0xc0], // mov eax, cr0; bts eax, 31; mov cr0, eax
      encode.loadSreg(DS, 0x10),
      encode.toRing3(slotAddress(6)),
      encode.loadSreg(DS, 0x23),
      encode.toRing0(),
      [0x0f, 0x20, 0xc0, 0x0f, 0xba, 0xf0, 0x1f, 0x0f, 0x22, 0xc0], // mov eax, cr0; btr eax, 31; mov cr0, eax
      encode.loadSreg(DS, 0x10),
      encode.loadSreg(ES, 0x10),
    ];
    const r = same(body);
    expect(r.stop).toBe('exit');
    expect(r.monitor.counters.disengagements).toBe(0);
    expect(r.monitor.shadow.counters.fills).toBeGreaterThan(0);
    expect(r.monitor.state).toBe('direct');
    expect(r.monitor.hidden.linear).toBe(r.monitor.hidden.base);
  });
});
