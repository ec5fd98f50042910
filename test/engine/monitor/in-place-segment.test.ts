// MOV Sreg and POP Sreg of DS, ES, FS and GS by a deprivileged guest at CPL 0 are completed in place when the guest's
// load is an ordinary one (engine/monitor/in-place-segment.ts, monitor.ts loadSegmentInPlace): no monitor entry, the
// guest's state, events and consistency reports as bare. Every other load — one the guest's table refuses (its fault
// and error code), a null or LDT selector, a descriptor whose accessed bit the load must set, a table page the guest's
// TLB lacks or translates elsewhere than its tables — still enters the monitor.
import { describe, expect, it } from 'vitest';
import { describeDivergence, lockstep } from '../../../engine/monitor/lockstep';
import { encode, makeDescriptor, PAGING_PROLOGUE, PROGRAM_BASE, programFromSlots, slotAddress, TABLES, withPageTables } from '../../../engine/monitor/random-program';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor, type Monitor } from '../../../engine/monitor/monitor';
import type { EventMap } from '../../../engine/events';

const LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
const FAULT_COUNT = 0x10380;
const { PAGE_TABLE } = TABLES;
const ES = 0;
const DS = 3;
const FS = 4;
const GS = 5;

const mov = (sreg: number, sel: number): number[] => encode.loadSreg(sreg, sel);
const POP = [[0x07], [], [], [0x1f], [0x0f, 0xa1], [0x0f, 0xa9]];
/** push imm32; pop sreg */
const pop = (sreg: number, sel: number): number[] => [0x68, ...encode.le32(sel), ...POP[sreg]];
const invlpg = (addr: number): number[] => [0x36, 0x0f, 0x01, 0x3d, ...encode.le32(addr)];

/** GDT A's scratch entries (selectors 0x40–0x78). */
const SCRATCH: [number, number][] = [
  makeDescriptor(0x40000, 0xffff, 0x13), // 0x40 not present
  makeDescriptor(0x41000, 0xfff, 0x92), // 0x48 accessed bit clear
  makeDescriptor(0, 0xfffff, 0x99), // 0x50 execute-only code
  makeDescriptor(0x48000, 0x1fff, 0xb3), // 0x58 DPL 1 data
  makeDescriptor(0, 0xfffff, 0x9f), // 0x60 conforming readable code, DPL 0
  makeDescriptor(0x50000, 0x7ff, 0x97), // 0x68 expand-down data
  makeDescriptor(0x60000, 0xfff, 0x82), // 0x70 an LDT descriptor
  makeDescriptor(0x7f000, 0xfff, 0x93), // 0x78 data
];

/** Each load, with whether the guest's load is ordinary (done in place) and whether it faults in the guest. */
const LOADS: { sel: number; inPlace: boolean; faults: boolean }[] = [
  { sel: 0x10, inPlace: true, faults: false }, // ring-0 data
  { sel: 0x20, inPlace: true, faults: false }, // ring-3 data, RPL 0
  { sel: 0x23, inPlace: true, faults: false }, // ring-3 data, RPL 3
  { sel: 0x08, inPlace: true, faults: false }, // readable code
  { sel: 0x38, inPlace: true, faults: false }, // conforming readable code
  { sel: 0x59, inPlace: true, faults: false }, // DPL 1 data, RPL 1
  { sel: 0x63, inPlace: true, faults: false }, // conforming readable code: no privilege check, RPL 3
  { sel: 0x68, inPlace: true, faults: false }, // expand-down data
  { sel: 0x13, inPlace: false, faults: true }, // RPL 3 > DPL 0: #GP(0x10), segment-load.data.dpl
  { sel: 0x5a, inPlace: false, faults: true }, // RPL 2 > DPL 1
  { sel: 0x6b, inPlace: false, faults: true }, // expand-down data, RPL 3 > DPL 0
  { sel: 0x28, inPlace: false, faults: true }, // the TSS: #GP, segment-load.data.type
  { sel: 0x30, inPlace: false, faults: true }, // the LDT descriptor
  { sel: 0x70, inPlace: false, faults: true }, // an LDT descriptor among the scratch entries
  { sel: 0x50, inPlace: false, faults: true }, // execute-only code
  { sel: 0x40, inPlace: false, faults: true }, // not present: #NP(0x40)
  { sel: 0x80, inPlace: false, faults: true }, // past GDT A's limit (the monitor's own entries follow): #GP(0x80)
  { sel: 0xfff8, inPlace: false, faults: true }, // far past it
  { sel: 0x14, inPlace: false, faults: false }, // the LDT's ring-0 data (TI = 1)
  { sel: 0x0c, inPlace: false, faults: false }, // the LDT's ring-3 data, RPL 0
  { sel: 0x00, inPlace: false, faults: false }, // null
  { sel: 0x03, inPlace: false, faults: false }, // null, RPL 3
  { sel: 0x10, inPlace: true, faults: false },
];

function run(slots: number[][], paging = false) {
  const program = programFromSlots(paging ? [...PAGING_PROLOGUE, ...slots] : slots, { a: SCRATCH });
  const image = paging ? withPageTables(program).image : program.image;
  const r = lockstep(image, { load: LOAD, memoryMB: 4, memoryEvery: 1, maxInstructions: 50_000 });
  if (r.divergence) throw new Error(describeDivergence(r.divergence));
  expect(r.stop).toBe('exit');
  expect(r.monitor.counters.panics, r.monitor.lastPanic ?? '').toBe(0);
  return r;
}

function inPlace(m: Monitor): { mov: number; pop: number } {
  return { mov: m.counters.inPlace.get('movSE') ?? 0, pop: m.counters.inPlace.get('popSeg') ?? 0 };
}

/** Every load of LOADS into each data register, by MOV and by POP, in ring 0. */
function allLoads(): { slots: number[][]; mov: number; pop: number; faults: number } {
  const slots: number[][] = [];
  let movs = 0;
  let pops = 0;
  let faults = 0;
  // A descriptor whose accessed bit is clear: the first load sets it in the table (emulated), the next are ordinary.
  slots.push(mov(DS, 0x48), mov(ES, 0x48), pop(FS, 0x48), mov(DS, 0x10), mov(ES, 0x10), mov(FS, 0x10));
  movs += 4;
  pops += 1;
  for (const sreg of [DS, ES, FS, GS]) {
    for (const l of LOADS) {
      slots.push(mov(sreg, l.sel), pop(sreg, l.sel));
      if (l.inPlace) {
        movs++;
        pops++;
      }
      if (l.faults) faults += 2;
    }
  }
  return { slots, mov: movs, pop: pops, faults };
}

describe('segment loads completed in place', () => {
  for (const paging of [false, true]) {
    it(`ring 0${paging ? ' under paging' : ''}: ordinary loads without an entry, every other one emulated, as bare (lockstep)`, () => {
      const { slots, mov: movs, pop: pops, faults } = allLoads();
      // Under paging the first load after paging is turned on finds the GDT's page outside the guest's TLB.
      const r = run(paging ? [mov(DS, 0x10), ...slots] : slots, paging);
      const base = run(paging ? [mov(DS, 0x10), ...slots.map(() => [0x90])] : slots.map(() => [0x90]), paging);
      expect(r.bare.mem.peek(FAULT_COUNT, 4) - base.bare.mem.peek(FAULT_COUNT, 4)).toBe(faults);
      const c = inPlace(r.monitor);
      const b = inPlace(base.monitor);
      expect(c.mov - b.mov).toBe(movs);
      expect(c.pop - b.pop).toBe(pops);
    });
  }

  it('POP from a 16-bit stack moves SP only, as bare', () => {
    const stack16: [number, number][] = [...SCRATCH.slice(0, 7), makeDescriptor(0x80000, 0xffff, 0x93, false)];
    const slots = [
      [0xbc, ...encode.le32(0x1234fff0)], // mov esp, 0x1234FFF0: SP 0xFFF0 under a 16-bit SS
      mov(2, 0x78), // mov ss, 0x78: base 0x80000, B = 0 (emulated)
      pop(DS, 0x20), // push imm32; pop ds: SP only
      [0x66, 0x6a, 0x10, 0x66, 0x0f, 0xa1], // push word 0x10; pop fs (16-bit operands)
      pop(GS, 0x10),
      mov(2, 0x10),
      [0xbc, ...encode.le32(0x90000)],
    ];
    const image = programFromSlots(slots, { a: stack16 }).image;
    const r = lockstep(image, { load: LOAD, memoryMB: 4, memoryEvery: 1, maxInstructions: 50_000 });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.stop).toBe('exit');
    const base = lockstep(programFromSlots(slots.map(() => [0x90]), { a: stack16 }).image, { load: LOAD, memoryMB: 4, maxInstructions: 50_000 });
    expect(inPlace(r.monitor).pop - inPlace(base.monitor).pop).toBe(3);
  });

  it('under paging, a table page missing from the guest TLB is walked by the emulation (accessed bits set as bare)', () => {
    const gdtPte = PAGE_TABLE + 0x10 * 4;
    const r = run(
      [
        mov(DS, 0x10),
        mov(ES, 0x10), // in place
        invlpg(0x10400),
        encode.storeSs(gdtPte, 0x10007), // the GDT page's entry without its accessed bit
        mov(FS, 0x10), // the walk sets it again: emulated
        mov(GS, 0x10), // in place
        [0x36, 0xa1, ...encode.le32(gdtPte)], // mov eax, [ss:pte]
        [0x36, 0xa3, ...encode.le32(0x20000)],
      ],
      true,
    );
    expect(r.bare.mem.peek(0x20000, 4) & 0x20).toBe(0x20);
    expect(inPlace(r.monitor).mov).toBeGreaterThanOrEqual(2);
  });
});

type Recorded = { loads: EventMap['segment-load'][]; consistency: string[] };

/** Listens as a debugger does: every segment load in full, every consistency report. */
function listen(m: Machine, hub = m.cpu.events, from = 0): Recorded {
  const rec: Recorded = { loads: [], consistency: [] };
  hub.on('segment-load', (e) => rec.loads.push(structuredClone(e)));
  hub.on('cache-inconsistent', (e) => {
    if (e.eip >= from) rec.consistency.push(`inconsistent ${e.reg} ${e.differs.join(',')} ${e.cause} ${e.cs.toString(16)}:${e.eip.toString(16)}`);
  });
  hub.on('cache-consistent', (e) => {
    if (e.eip >= from) rec.consistency.push(`consistent ${e.reg} ${e.cause} ${e.cs.toString(16)}:${e.eip.toString(16)}`);
  });
  return rec;
}

/** A bare and a monitored machine on the same image, each with a debugger's listeners. */
function pair(image: Uint8Array) {
  const bare = new Machine({ memoryMB: 4 });
  const monitored = new Machine({ memoryMB: 4 });
  const monitor = attachMonitor(monitored);
  const recBare = listen(bare);
  const recMon = listen(monitored, monitor.guestEvents);
  bare.load(image, LOAD);
  monitored.load(image, LOAD);
  return { bare, monitored, monitor, recBare, recMon };
}

/** A loop of segment loads, long enough for the run loop to translate it (blocks call the in-place handlers). */
function loadLoop(iterations: number): Uint8Array {
  const slots = [
    encode.movEax(0), // slot 0
    [0xb9, ...encode.le32(iterations)], // mov ecx, n
    mov(DS, 0x23), // slot 2: the loop
    pop(ES, 0x10),
    mov(FS, 0x58),
    pop(GS, 0x20),
    mov(DS, 0x10),
    pop(FS, 0x38),
    [0x40, 0x49, 0x0f, 0x85, ...encode.le32(slotAddress(2) - (slotAddress(8) + 8))], // inc eax; dec ecx; jnz slot 2
  ];
  return programFromSlots(slots, { a: SCRATCH }).image;
}

describe('segment loads completed in place: what a debugger sees', () => {
  it('segment-load events (selectors, caches, cause, CS:EIP) and consistency reports as on bare hardware, in translated code', () => {
    const { bare, monitored, monitor, recBare, recMon } = pair(loadLoop(3000));
    bare.run(200_000);
    monitored.run(200_000);
    expect(monitored.cpu.icount).toBe(bare.cpu.icount);
    expect(inPlace(monitor).mov).toBeGreaterThan(8000);
    expect(inPlace(monitor).pop).toBeGreaterThan(8000);
    expect(recMon.loads.length).toBe(recBare.loads.length);
    expect(recMon.loads).toEqual(recBare.loads);
    expect(recMon.consistency).toEqual(recBare.consistency);
  });

  it('a stop requested by a segment-load listener (a breakpoint on segment loads) stops at the same instruction', () => {
    for (const nth of [7, 1000, 12345]) {
      const { bare, monitored, monitor } = pair(loadLoop(3000));
      const stopAt = (m: Machine, hub = m.cpu.events) => {
        let n = 0;
        hub.on('segment-load', () => {
          if (++n === nth) m.requestStop();
        });
      };
      stopAt(bare);
      stopAt(monitored, monitor.guestEvents);
      bare.run(200_000);
      monitored.run(200_000);
      expect(monitored.cpu.icount, `stop at load ${nth}`).toBe(bare.cpu.icount);
      expect(monitor.currentGuest().eip).toBe(bare.cpu.eip);
      expect(monitored.cpu.regs[0]).toBe(bare.cpu.regs[0]);
    }
  });

  it('under paging, a descriptor whose page the tables map elsewhere than the TLB is loaded by the emulation (its inconsistency reported as bare)', () => {
    // GDT A copied to 0x40F88 and loaded: entry 15 (0x78) is the first of page 0x41, every other entry lies in page
    // 0x40. Page 0x41's entry is then rewritten without INVLPG: the TLB keeps the old frame (the load reads it),
    // the tables name another (the consistency look reads that), and no other register's descriptor moved.
    const copy = 0x40f88;
    const image = withPageTables(
      programFromSlots(
        [
          ...PAGING_PROLOGUE,
          [0xbe, ...encode.le32(TABLES.GDT_A), 0xbf, ...encode.le32(copy)], // mov esi, GDT A; mov edi, copy
          [0xb9, ...encode.le32(32), 0xf3, 0xa5], // mov ecx, 32; rep movsd
          encode.storeSs(0x20000, 0x007f0000), // pseudo-descriptor at 0x20002: limit 0x7F…
          encode.storeSs(0x20004, copy), // …base
          encode.lgdt(0x20002),
          mov(DS, 0x78), // emulated: the copy's page 0x41 is new to the TLB
          mov(DS, 0x78), // in place
          // Stores before the remapping, each page written once already, so that no monitor entry (whose look walks
          // the tables) comes between the remapping and the load: a bare CPU's tracker looks at loads only.
          encode.storeSs(0x42000, 0x1234ffff), // another data descriptor in the frame the tables will name
          encode.storeSs(0x42004, 0x00cf9300),
          encode.storeSs(PAGE_TABLE + 0x7f * 4, 0x7f007), // the page table's page written once
          encode.storeSs(PAGE_TABLE + 0x41 * 4, 0x42007), // page 0x41 → frame 0x42000 in the tables, not the TLB
          mov(DS, 0x78), // loads the TLB's descriptor; the tables' one differs: DS inconsistent
          mov(DS, 0x78),
          invlpg(0x41000),
          mov(DS, 0x78), // the tables' descriptor now: consistent again
          mov(DS, 0x78), // in place
          // Page 0x40 (every other register's descriptor) remapped in the tables only: DS's own load is ordinary,
          // but the look after it finds CS, SS, ES, FS, GS, LDTR and TR inconsistent (zeros at frame 0x43000).
          encode.storeSs(PAGE_TABLE + 0x40 * 4, 0x43007),
          mov(DS, 0x78),
        ],
        { a: SCRATCH },
      ),
    ).image;
    const { bare, monitored, monitor, recBare, recMon } = pair(image);
    bare.run(50_000);
    monitored.run(50_000);
    expect(monitored.cpu.icount).toBe(bare.cpu.icount);
    expect(monitor.counters.panics).toBe(0);
    expect(recBare.consistency.some((x) => x.startsWith(`inconsistent ${DS}`))).toBe(true);
    expect(recBare.consistency.some((x) => x.startsWith(`inconsistent ${GS}`))).toBe(true);
    expect(inPlace(monitor).mov).toBeGreaterThanOrEqual(2);
    expect(recMon.loads).toEqual(recBare.loads);
    expect(recMon.consistency).toEqual(recBare.consistency);
  });
});
