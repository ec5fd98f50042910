// The guest's IRET and the delivery of an external interrupt, by a deprivileged guest at CPL 0, are completed in place
// when they are ordinary transfers within its privilege level (engine/monitor/in-place-transfer.ts, monitor.ts
// iretInPlace and deliverInPlace): no monitor entry, the guest's state, events and consistency reports as bare. Every
// other one — a fault the guest's tables give (its rule and error code), a task gate or NT return, a return to V86
// mode or to an outer ring, an inner-ring handler, a descriptor whose accessed bit the load must set, a frame that
// meets a page outside the shadow — still enters the monitor. Each case runs in lockstep with a bare machine.
import { describe, expect, it } from 'vitest';
import { describeDivergence, lockstep } from '../../../engine/monitor/lockstep';
import { encode, PAGING_PROLOGUE, PROGRAM_BASE, programFromSlots, slotAddress } from '../../../engine/monitor/random-program';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor, type Monitor } from '../../../engine/monitor/monitor';
import { expectDoneInPlace, FAULT_COUNT, LAST_VECTOR, LOAD, runtimeImage, SCRATCH } from './in-place-runtime';
import type { EventMap } from '../../../engine/events';

const IRQ_COUNT = 0x103a0;
const { le32, le16 } = encode;

function check(image: Uint8Array, memoryEvery = 1) {
  const r = lockstep(image, { load: LOAD, memoryMB: 4, memoryEvery, maxInstructions: 200_000 });
  if (r.divergence) throw new Error(describeDivergence(r.divergence));
  expect(r.stop).toBe('exit');
  expect(r.monitor.counters.panics, r.monitor.lastPanic ?? '').toBe(0);
  return r;
}

const counts = (m: Monitor) => ({ iret: m.counters.inPlace.get('iret') ?? 0, interrupt: m.counters.inPlace.get('interrupt') ?? 0 });

// ---- IRET ----

/** push imm32 flags; push imm32 cs; push imm32 eip; iretd — 16 bytes, one slot (`next`: the following slot). */
const iretd = (flags: number, cs: number, eip: number): number[] => [0x68, ...le32(flags), 0x68, ...le32(cs), 0x68, ...le32(eip), 0xcf];
/** The same with 16-bit slots: push word flags; push word cs; push word ip; iret (o16). */
const iret16 = (flags: number, cs: number, ip: number): number[] => [0x66, 0x68, ...le16(flags), 0x66, 0x68, ...le16(cs), 0x66, 0x68, ...le16(ip), 0x66, 0xcf];

/** Each IRET, with whether the guest's return is ordinary (completed in place). `at`: the slot it sits in. */
function iretCases(at: number): { slot: number[]; inPlace: boolean; what: string }[] {
  const next = slotAddress(at + 1);
  return [
    // The monitor engaged at the program's start with a baseline look, which records no inputs: the first IRET
    // enters (LookInputs.differs), and the entry's look records them.
    { slot: iretd(0x202, 0x08, next), inPlace: false, what: 'the first after engaging' },
    { slot: iretd(0x202, 0x08, next), inPlace: true, what: 'same ring, IF set' },
    { slot: iretd(0x002, 0x08, next), inPlace: true, what: 'IF clear' },
    { slot: iretd(0x3202, 0x08, next), inPlace: true, what: 'IOPL 3 (CPL 0 may change it)' },
    { slot: iretd(0x08d7, 0x08, next), inPlace: true, what: 'arithmetic flags' },
    { slot: iretd(0x40002, 0x08, next), inPlace: true, what: 'AC' },
    { slot: iretd(0x202, 0x38, next), inPlace: true, what: 'conforming code DPL 0' },
    { slot: iretd(0x202, 0x68, next - 0x10000), inPlace: true, what: 'code with another base' },
    { slot: iret16(0x202, 0x68, next - 0x10000), inPlace: true, what: '16-bit IRET (a 16-bit frame), within it' },
    { slot: iretd(0x202, 0x08, next), inPlace: true, what: 'back to the flat code' },
    { slot: iretd(0x202, 0x48, next), inPlace: false, what: 'accessed bit clear (the load sets it)' },
    { slot: iretd(0x202, 0x48, next), inPlace: true, what: 'the same, accessed now' },
    { slot: iretd(0x202, 0x08, next), inPlace: true, what: 'flat again' },
    { slot: iretd(0x202, 0x10, next), inPlace: false, what: 'data segment: #GP(0x10)' },
    { slot: iretd(0x202, 0x00, next), inPlace: false, what: 'null: #GP(0)' },
    { slot: iretd(0x202, 0x40, next), inPlace: false, what: 'not present: #NP(0x40)' },
    { slot: iretd(0x202, 0x50, next), inPlace: false, what: 'EIP beyond the limit: #GP(0)' },
    { slot: iretd(0x202, 0x58, next), inPlace: false, what: 'non-conforming DPL 1 ≠ RPL 0: #GP' },
    { slot: iretd(0x202, 0x60, next), inPlace: false, what: 'conforming DPL 1 > RPL 0: #GP' },
    { slot: iretd(0x202, 0x88, next), inPlace: false, what: 'beyond the GDT limit: #GP(0x88)' },
    { slot: iretd(0x202, 0x1c, next), inPlace: false, what: 'the LDT (TI = 1): DPL 3 ≠ RPL 0' },
    { slot: iretd(0x202, 0x0c, next), inPlace: false, what: 'the LDT, a data descriptor' },
    { slot: iretd(0x202, 0x39, next), inPlace: false, what: 'RPL 1 > CPL: an outer return' },
    { slot: [0x68, ...le32(0x4002), 0x9d], inPlace: false, what: 'pushfd imm; popfd: NT set (IF clear)' },
    { slot: iretd(0x202, 0x08, next), inPlace: false, what: 'NT: a task return (the back link is null: a fault)' },
    { slot: [0x68, ...le32(0x0002), 0x9d], inPlace: false, what: "NT clear again (the fault handler's IRET restored it)" },
    { slot: iretd(0x4202, 0x08, next), inPlace: true, what: 'NT in the popped image only: an ordinary return (NT set after it)' },
    { slot: [0x68, ...le32(0x0002), 0x9d], inPlace: false, what: 'NT clear again' },
  ];
}

describe('IRET completed in place', () => {
  for (const paging of [false, true]) {
    it(`ring 0${paging ? ' under paging' : ''}: ordinary returns without an entry, every other one emulated, as bare (lockstep)`, () => {
      const first = paging ? PAGING_PROLOGUE.length : 0;
      const cases = iretCases(0);
      const slots = cases.map((_, k) => iretCases(first + k)[k].slot);
      // The body's slots whose IRET was completed in place (the fault handlers' own IRETs lie outside the body).
      const done = new Set<number>();
      const r = lockstep(runtimeImage(slots, paging), {
        load: LOAD,
        memoryMB: 4,
        memoryEvery: 1,
        maxInstructions: 200_000,
        prepare: (_bare, monitored) => {
          const m = monitored.cpu.monitor as Monitor;
          const iretInPlace = m.iretInPlace.bind(m);
          m.iretInPlace = (os32: boolean): boolean => {
            const at = (monitored.cpu.segBase[1] + monitored.cpu.instrStart) >>> 0;
            const inPlace = iretInPlace(os32);
            if (inPlace && at >= slotAddress(first) && at < slotAddress(first + cases.length)) done.add((at - slotAddress(first)) >>> 4);
            return inPlace;
          };
        },
      });
      expectDoneInPlace(r, done, cases, 10);
    });
  }

  it('a frame beyond the stack limit or in a page the guest has not mapped faults as bare (the real read faults first)', () => {
    const next = (k: number) => slotAddress(PAGING_PROLOGUE.length + k + 1);
    const slots = [
      [0xbc, ...le32(0xff000)], // mov esp, 0xFF000: the page below 1 MiB…
      encode.storeSs(0x31000 + 0xff * 4, 0), // …not present in the guest's tables
      [0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8], // mov eax, cr3; mov cr3, eax
      [0xcf], // iretd: #PF reading the frame
      [0xbc, ...le32(0x90000)],
      iretd(0x202, 0x08, next(5)), // in place
    ];
    const r = check(runtimeImage(slots, true));
    expect(r.bare.mem.peek(LAST_VECTOR, 4)).toBe(14);
    expect(counts(r.monitor).iret).toBeGreaterThan(0);
  });

  it('a return to V86 mode (EFLAGS.VM in the frame at CPL 0) is not taken for a protected-mode one', () => {
    // V86 code at 0x1000: mov al, 0; out 0xF4, al (exit 0) with IOPL 3. CS 0x0008 in V86 mode is base 0x80; in
    // protected mode it would be the flat ring-0 code, and IP 0xF80 a return there.
    const slots = [
      [0x0f, 0x20, 0xc0], // mov eax, cr0: an entry, whose look records its inputs (the IRET is then tried in place)
      encode.storeSs(0x1000, 0xf4e600b0),
      encode.storeSs(0x1004, 0xf4f4f4f4),
      [0x68, ...le32(0), 0x68, ...le32(0), 0x68, ...le32(0)], // GS, FS, DS
      [0x68, ...le32(0), 0x68, ...le32(0x0100), 0x68, ...le32(0xff0)], // ES, SS, ESP
      [0x68, ...le32(0x23202), 0x68, ...le32(0x0008), 0x68, ...le32(0xf80)], // EFLAGS (VM, IOPL 3), CS, EIP
      [0xcf],
    ];
    const image = runtimeImage(slots);
    const r = lockstep(image, { load: LOAD, memoryMB: 4, memoryEvery: 1, maxInstructions: 50_000 });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.stop).toBe('exit');
    expect(r.monitored.exitCode).toBe(0);
  });
});

// ---- interrupt delivery ----

/** The runtime's IDT base (its IDTR follows GDTR A and B) and the IRQ 0 handler its gate 0x50 names. */
function runtimeIdt(image: Uint8Array): { idt: number; irq0: number } {
  const at = 0x1087a - PROGRAM_BASE;
  const idt = image[at] | (image[at + 1] << 8) | (image[at + 2] << 16) | (image[at + 3] << 24);
  const g = idt + 0x50 * 8 - PROGRAM_BASE;
  const irq0 = image[g] | (image[g + 1] << 8) | (image[g + 6] << 16) | (image[g + 7] << 24);
  return { idt, irq0 };
}

/** A gate's two dwords. */
const gate = (selector: number, offset: number, access: number): [number, number] => [((selector << 16) | (offset & 0xffff)) >>> 0, ((offset & 0xffff0000) | (access << 8)) >>> 0];

/** Slot 1 of a timer program: an IRQ 0 handler ending in a 16-bit IRET (for 16-bit gates). */
const HANDLER16 = [0x50, 0x36, 0xff, 0x05, ...le32(IRQ_COUNT), 0xb0, 0x20, 0xe6, 0x20, 0x58, 0x66, 0xcf];

/**
 * IRQ 0 from the PIT every `period` ticks, through gate 0x50 as `edit` sets it, while a loop of `iterations` runs in
 * ring 0 (or ring 3: `ring3`). Slot 0 jumps over slot 1 (HANDLER16).
 */
function timerProgram(options: { edit?: (irq0: number, handler16: number) => [number, number]; iterations?: number; period?: number; ring3?: boolean; paging?: boolean; cs68?: boolean }): Uint8Array {
  const probe = programFromSlots([], { a: SCRATCH }).image;
  const { idt, irq0 } = runtimeIdt(probe);
  const prologue = options.paging ? PAGING_PROLOGUE.length : 0;
  const s = (k: number) => slotAddress(prologue + k);
  const period = options.period ?? 0x10;
  const slots: number[][] = [
    [0xe9, ...le32(s(2) - (s(0) + 5))], // jmp over the handler
    HANDLER16,
  ];
  const g = options.edit ? options.edit(irq0, s(1)) : null;
  if (g) slots.push(encode.storeSs(idt + 0x50 * 8, g[0]), encode.storeSs(idt + 0x50 * 8 + 4, g[1]));
  slots.push(
    [0xb0, 0x34, 0xe6, 0x43, 0xb0, period & 0xff, 0xe6, 0x40, 0xb0, period >> 8, 0xe6, 0x40], // PIT channel 0, mode 2
    [0xb0, 0xfe, 0xe6, 0x21], // unmask IRQ 0
  );
  slots.push([0xfb, 0xb9, ...le32(options.iterations ?? 20_000)]); // sti; mov ecx, n
  if (options.ring3) slots.push(encode.toRing3(s(slots.length + 1)));
  // The loop in CS 0x68 (base 0x10000): its offsets fit a 16-bit gate's frame.
  if (options.cs68) slots.push([0xea, ...le32(s(slots.length + 1) - 0x10000), ...le16(0x68)]);
  const loop = s(slots.length);
  slots.push([0x40, 0x49, 0x0f, 0x85, ...le32(loop - (loop + 8))]); // inc eax; dec ecx; jnz loop
  if (options.cs68) slots.push([0xea, ...le32(s(slots.length + 1)), ...le16(0x08)]); // back to the flat code
  slots.push([0xfa]); // cli
  return runtimeImage(slots, options.paging);
}

/** Each gate for IRQ 0, with whether its delivery is ordinary (in place). */
const GATES: { what: string; edit?: (irq0: number, handler16: number) => [number, number]; inPlace: boolean; faults?: boolean; cs68?: boolean }[] = [
  { what: "the runtime's 32-bit interrupt gate", inPlace: true },
  { what: 'a trap gate', edit: (h) => gate(0x08, h, 0x8f), inPlace: true },
  { what: 'conforming code DPL 0', edit: (h) => gate(0x38, h, 0x8e), inPlace: true },
  { what: 'a 16-bit interrupt gate (16-bit frame) to CS 0x68', edit: (_h, h16) => gate(0x68, h16 - 0x10000, 0x86), inPlace: true, cs68: true },
  { what: 'a 32-bit interrupt gate to CS 0x68 from it', edit: (h) => gate(0x68, h - 0x10000, 0x8e), inPlace: true, cs68: true },
  { what: 'accessed bit clear (the first delivery sets it)', edit: (h) => gate(0x48, h, 0x8e), inPlace: true },
  { what: 'gate DPL 3 (no check for an external interrupt)', edit: (h) => gate(0x08, h, 0xee), inPlace: true },
  { what: 'gate not present: #NP', edit: (h) => gate(0x08, h, 0x0e), inPlace: false, faults: true },
  { what: 'a call gate: #GP', edit: (h) => gate(0x08, h, 0x8c), inPlace: false, faults: true },
  { what: 'a task gate', edit: () => gate(0x28, 0, 0x85), inPlace: false },
  { what: 'a data selector: #GP', edit: (h) => gate(0x10, h, 0x8e), inPlace: false, faults: true },
  { what: 'a null selector: #GP', edit: (h) => gate(0x00, h, 0x8e), inPlace: false, faults: true },
  { what: 'code DPL 3 > CPL 0: #GP', edit: (h) => gate(0x18, h, 0x8e), inPlace: false, faults: true },
  { what: 'code not present: #NP', edit: (h) => gate(0x40, h, 0x8e), inPlace: false, faults: true },
  { what: 'offset beyond the limit: #GP', edit: (h) => gate(0x50, h, 0x8e), inPlace: false, faults: true },
  { what: 'beyond the GDT limit: #GP', edit: (h) => gate(0x88, h, 0x8e), inPlace: false, faults: true },
  { what: 'the LDT (TI = 1)', edit: (h) => gate(0x1c, h, 0x8e), inPlace: false, faults: true },
  { what: 'conforming code DPL 1 > CPL 0: #GP', edit: (h) => gate(0x60, h, 0x8e), inPlace: false, faults: true },
];

describe('external interrupts delivered in place', () => {
  for (const paging of [false, true]) {
    for (const g of GATES) {
      it(`${g.what}${paging ? ', under paging' : ''}: as bare (lockstep)`, () => {
        const r = check(timerProgram({ edit: g.edit, paging, iterations: 25_000, cs68: g.cs68 }), 64);
        const c = counts(r.monitor);
        if (g.inPlace) {
          // Every IRQ but the first after paging begins (the stack's page not yet in the shadow) and the first through
          // a descriptor whose accessed bit is clear.
          expect(r.bare.mem.peek(IRQ_COUNT, 4)).toBeGreaterThan(4);
          expect(c.interrupt).toBeGreaterThanOrEqual(r.bare.mem.peek(IRQ_COUNT, 4) - 2);
          expect(c.iret).toBeGreaterThanOrEqual(c.interrupt);
        } else {
          expect(c.interrupt).toBe(0);
        }
        if (g.faults) expect(r.bare.mem.peek(FAULT_COUNT, 4)).toBeGreaterThan(0);
      });
    }
  }

  it('from ring 3 (an inner-ring handler, its stack from the TSS): delivered by the monitor, as bare', () => {
    const r = check(timerProgram({ ring3: true, iterations: 25_000 }), 64);
    expect(r.bare.mem.peek(IRQ_COUNT, 4)).toBeGreaterThan(4);
    expect(counts(r.monitor).interrupt).toBe(0);
  });

  it('a frame beyond the stack limit: the monitor delivers the #SS as bare (then #DF and the triple fault)', () => {
    // SS ← 0x78 (data, byte limit 0xFFFFF) with ESP just above the limit: the frame's pushes fault.
    const slots = [
      encode.loadSreg(2, 0x78),
      [0xbc, ...le32(0x100004)],
      [0xb0, 0x34, 0xe6, 0x43, 0xb0, 0x10, 0xe6, 0x40, 0xb0, 0x00, 0xe6, 0x40],
      [0xb0, 0xfe, 0xe6, 0x21],
      [0xfb, 0xb9, ...le32(30_000)],
      [0x40, 0x49, 0x0f, 0x85, ...le32(-8)],
    ];
    const r = lockstep(runtimeImage(slots), { load: LOAD, memoryMB: 4, memoryEvery: 64, maxInstructions: 200_000 });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.bare.cpu.shutdown).toBe(true);
    expect(counts(r.monitor).interrupt).toBe(0);
  });

  it('a vector beyond the IDT limit: the monitor delivers the #GP as bare', () => {
    // IRQs through the full IDT first (in place), then IDTR limit 0x27F: vectors 0x00–0x4F only, and IRQ 0 (0x50)
    // raises #GP(0x50 × 8 + 2 + EXT), delivered through vector 13 (whose handler sends no EOI: the last IRQ).
    const probe = programFromSlots([], { a: SCRATCH }).image;
    const { idt } = runtimeIdt(probe);
    const slots = [
      encode.storeSs16(0x20000, 0x27f),
      encode.storeSs(0x20002, idt),
      [0xb0, 0x34, 0xe6, 0x43, 0xb0, 0x10, 0xe6, 0x40, 0xb0, 0x00, 0xe6, 0x40],
      [0xb0, 0xfe, 0xe6, 0x21],
      [0xfb, 0xb9, ...le32(30_000)],
      [0x40, 0x49, 0x0f, 0x85, ...le32(-8)],
      [0xfa, 0x36, 0x0f, 0x01, 0x1d, ...le32(0x20000)], // cli; lidt [ss:0x20000]
      // mov eax, cr0: an entry whose look records the inputs LIDT's rebuild of the watch moved (the next
      // interrupt is then one the monitor would deliver in place, but for the limit).
      [0x0f, 0x20, 0xc0],
      [0xfb, 0xb9, ...le32(30_000)],
      [0x40, 0x49, 0x0f, 0x85, ...le32(-8)],
    ];
    const r = check(runtimeImage(slots), 64);
    const irqs = r.bare.mem.peek(IRQ_COUNT, 4);
    expect(irqs).toBeGreaterThan(4);
    expect(r.bare.mem.peek(LAST_VECTOR, 4)).toBe(13);
    expect(r.bare.mem.peek(LAST_VECTOR + 4, 4)).toBe(0x50 * 8 + 3);
    expect(counts(r.monitor).interrupt).toBeLessThanOrEqual(irqs);
  });
});

type Recorded = { loads: EventMap['segment-load'][]; consistency: string[] };

function listen(hub: Machine['cpu']['events']): Recorded {
  const rec: Recorded = { loads: [], consistency: [] };
  hub.on('segment-load', (e) => rec.loads.push(structuredClone(e)));
  hub.on('cache-inconsistent', (e) => rec.consistency.push(`inconsistent ${e.reg} ${e.differs.join(',')} ${e.cause} ${e.cs.toString(16)}:${e.eip.toString(16)}`));
  hub.on('cache-consistent', (e) => rec.consistency.push(`consistent ${e.reg} ${e.cause} ${e.cs.toString(16)}:${e.eip.toString(16)}`));
  return rec;
}

function pair(image: Uint8Array) {
  const bare = new Machine({ memoryMB: 4 });
  const monitored = new Machine({ memoryMB: 4 });
  const monitor = attachMonitor(monitored);
  const recBare = listen(bare.cpu.events);
  const recMon = listen(monitor.guestEvents);
  bare.load(image, LOAD);
  monitored.load(image, LOAD);
  return { bare, monitored, monitor, recBare, recMon };
}

describe('interrupts and IRETs in place: what a debugger sees', () => {
  it('segment-load events (cause interrupt and iret) and consistency reports as on bare hardware, in translated code', () => {
    for (const paging of [false, true]) {
      const { bare, monitored, monitor, recBare, recMon } = pair(timerProgram({ iterations: 60_000, period: 0x80, paging }));
      bare.run(400_000);
      monitored.run(400_000);
      expect(monitored.cpu.icount).toBe(bare.cpu.icount);
      expect(monitored.mem.peek(IRQ_COUNT, 4)).toBe(bare.mem.peek(IRQ_COUNT, 4));
      expect(counts(monitor).interrupt).toBeGreaterThan(150);
      expect(recMon.loads.filter((e) => e.cause === 'iret').length).toBeGreaterThan(150);
      expect(recMon.loads).toEqual(recBare.loads);
      expect(recMon.consistency).toEqual(recBare.consistency);
    }
  });

  it('a stop requested by a segment-load listener stops at the same instruction', () => {
    for (const nth of [5, 100, 333, 334]) stopsAtTheSameInstruction(nth, false);
  });

  // KNOWN DIFFERENCE, pinned until it is mended (README, issue 13's "Left to do"): from ring 3 the delivery (to a
  // ring-0 handler, its stack from the TSS) is the monitor's entry, not in place, and a stop a listener requests
  // during it is taken as the entry ends, before the handler's first instruction (Cpu.betweenInstructions takes it
  // after monitor.boundary()), where bare delivery takes it after that instruction. The guest cannot tell; a
  // debugger stops one instruction apart. This test fails while the difference stands (`it.fails`), and vitest
  // reports it when the two paths agree, so that the marker goes with the fix.
  it.fails('a stop requested during a delivery the monitor emulates stops at the same instruction (known difference)', () => {
    for (const nth of [3, 4, 5, 100, 333, 334]) stopsAtTheSameInstruction(nth, true);
  });
});

/** Runs the timer program bare and monitored, each stopped by its `nth` segment-load event: both stop at the same instruction. */
function stopsAtTheSameInstruction(nth: number, ring3: boolean): void {
  const { bare, monitored, monitor } = pair(timerProgram({ iterations: 60_000, period: 0x80, ring3 }));
  const stopAt = (m: Machine, hub: Machine['cpu']['events']) => {
    let n = 0;
    hub.on('segment-load', () => {
      if (++n === nth) m.requestStop();
    });
  };
  stopAt(bare, bare.cpu.events);
  stopAt(monitored, monitor.guestEvents);
  bare.run(400_000);
  monitored.run(400_000);
  expect(monitored.cpu.icount, `stop at load ${nth}`).toBe(bare.cpu.icount);
  expect(monitor.currentGuest().eip, `stop at load ${nth}`).toBe(bare.cpu.eip);
  expect(monitored.cpu.regs[1]).toBe(bare.cpu.regs[1]);
}
