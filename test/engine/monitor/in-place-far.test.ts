// The guest's far JMP (EA ptr16:16/32) and far RET, by a deprivileged guest at CPL 0, are completed in place when
// they are ordinary transfers within its privilege level (engine/monitor/in-place-transfer.ts ordinaryFarJump and
// ordinarySameLevelReturn, in-place-completion.ts farJump and farReturn): no monitor entry, the guest's state,
// events and consistency reports as bare. Every other one — a fault the guest's tables give, a gate, a return to an
// outer ring, a descriptor whose accessed bit the load must set — still enters the monitor. Each case runs in
// lockstep with a bare machine, one instruction at a time; the cold-code workload's far JMPs run so.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeDivergence, lockstep } from '../../../engine/monitor/lockstep';
import { encode, PAGING_PROLOGUE, slotAddress, TABLES } from '../../../engine/monitor/random-program';
import { Machine } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';
import type { Monitor } from '../../../engine/monitor/monitor';
import { expectDoneInPlace, LOAD, runtimeImage } from './in-place-runtime';

const { le32, le16 } = encode;

/** jmp ptr16:32 (7 bytes) and its 16-bit form (o16 jmp ptr16:16). */
const jmpFar = (cs: number, eip: number): number[] => [0xea, ...le32(eip), ...le16(cs)];
const jmpFar16 = (cs: number, ip: number): number[] => [0x66, 0xea, ...le16(ip), ...le16(cs)];
/** push imm32 cs; push imm32 eip; retf (11 bytes); with `release`: push byte 0x55 first and retf imm16. */
const retf = (cs: number, eip: number, release = 0): number[] =>
  release === 0 ? [0x68, ...le32(cs), 0x68, ...le32(eip), 0xcb] : [0x6a, 0x55, 0x68, ...le32(cs), 0x68, ...le32(eip), 0xca, ...le16(release)];
/** The same with 16-bit slots: push word cs; push word ip; o16 retf. */
const retf16 = (cs: number, ip: number): number[] => [0x66, 0x68, ...le16(cs), 0x66, 0x68, ...le16(ip), 0x66, 0xcb];

type Case = { slot: number[]; inPlace: boolean; what: string };

/** Each transfer by `make(cs, eip)` to the next slot, with whether it is ordinary. `at`: the slot it sits in. */
function cases(at: number, make: (cs: number, eip: number) => number[], make16: (cs: number, ip: number) => number[]): Case[] {
  const next = slotAddress(at + 1);
  return [
    // The monitor engaged with a baseline look, which records no inputs: the first transfer enters, and the
    // entry's look records them.
    { slot: make(0x08, next), inPlace: false, what: 'the first after engaging' },
    { slot: make(0x08, next), inPlace: true, what: 'same code segment' },
    { slot: make(0x38, next), inPlace: true, what: 'conforming code DPL 0' },
    { slot: make(0x68, next - 0x10000), inPlace: true, what: 'code with another base' },
    { slot: make16(0x68, next - 0x10000), inPlace: true, what: '16-bit operand size, within it' },
    { slot: make(0x08, next), inPlace: true, what: 'back to the flat code' },
    { slot: make(0x48, next), inPlace: false, what: 'accessed bit clear (the load sets it)' },
    { slot: make(0x48, next), inPlace: true, what: 'the same, accessed now' },
    { slot: make(0x08, next), inPlace: true, what: 'flat again' },
    { slot: make(0x10, next), inPlace: false, what: 'data segment: #GP(0x10)' },
    { slot: make(0x00, next), inPlace: false, what: 'null: #GP(0)' },
    { slot: make(0x40, next), inPlace: false, what: 'not present: #NP(0x40)' },
    { slot: make(0x50, next), inPlace: false, what: 'EIP beyond the limit: #GP(0)' },
    { slot: make(0x58, next), inPlace: false, what: 'non-conforming DPL 1: #GP' },
    { slot: make(0x60, next), inPlace: false, what: 'conforming DPL 1 > CPL 0: #GP' },
    { slot: make(0x88, next), inPlace: false, what: 'beyond the GDT limit: #GP(0x88)' },
    { slot: make(0x1c, next), inPlace: false, what: 'the LDT (TI = 1)' },
    { slot: make(0x08, next), inPlace: true, what: 'flat once more' },
  ];
}

function run(kind: 'jmp' | 'retf', paging: boolean): void {
  const first = paging ? PAGING_PROLOGUE.length : 0;
  const make = kind === 'jmp' ? jmpFar : retf;
  const make16 = kind === 'jmp' ? jmpFar16 : retf16;
  const list = cases(0, make, make16);
  const extra: Case[] =
    kind === 'jmp'
      ? [
          { slot: jmpFar(0x39, slotAddress(first + list.length + 1)), inPlace: true, what: 'conforming, RPL 1: CS.RPL becomes CPL' },
          { slot: jmpFar(0x09, slotAddress(first + list.length + 2)), inPlace: false, what: 'non-conforming, RPL 1 > CPL: #GP' },
        ]
      : [
          { slot: retf(0x08, slotAddress(first + list.length + 1), 4), inPlace: true, what: 'RETF imm16' },
          { slot: retf(0x39, slotAddress(first + list.length + 2)), inPlace: false, what: 'RPL 1 > CPL: an outer return' },
        ];
  const all = [...cases(first, make, make16).map((c, k) => ({ ...c, slot: cases(first + k, make, make16)[k].slot })), ...extra];
  const done = new Set<number>();
  const r = lockstep(runtimeImage(all.map((c) => c.slot), paging), {
    load: LOAD,
    memoryMB: 4,
    memoryEvery: 1,
    maxInstructions: 200_000,
    prepare: (_bare, monitored) => {
      const m = monitored.cpu.monitor as Monitor;
      // Where the instruction is, read before the transfer moves CS.
      const where = (): number => (monitored.cpu.segBase[1] + monitored.cpu.instrStart) >>> 0;
      const note = (at: number, inPlace: boolean): boolean => {
        if (inPlace && at >= slotAddress(first) && at < slotAddress(first + all.length)) done.add((at - slotAddress(first)) >>> 4);
        return inPlace;
      };
      const farJump = m.farJumpInPlace.bind(m);
      const farReturn = m.farReturnInPlace.bind(m);
      m.farJumpInPlace = (selector, offset, os32) => note(where(), farJump(selector, offset, os32));
      m.farReturnInPlace = (os32, release) => note(where(), farReturn(os32, release));
    },
  });
  expectDoneInPlace(r, done, all, 8);
}

describe('far JMP and far RET completed in place', () => {
  for (const paging of [false, true]) {
    it(`far JMP in ring 0${paging ? ' under paging' : ''}: ordinary jumps without an entry, every other one emulated, as bare (lockstep)`, () => run('jmp', paging));
    it(`far RET in ring 0${paging ? ' under paging' : ''}: ordinary returns without an entry, every other one emulated, as bare (lockstep)`, () => run('retf', paging));
  }
});

describe('the cold-code workload (bench/cold-code.asm) under the monitor', () => {
  it('runs in lockstep with its far JMPs completed in place', () => {
    // 30 passes instead of 20 000: the immediate of `mov ebp, PASSES` patched in the boot floppy.
    const bin = readFileSync(join(__dirname, '../../../bench/cold-code.bin'));
    const image = new Uint8Array(1_474_560);
    image.set(bin);
    const at = Buffer.from(image).indexOf(Buffer.from([0x66, 0xbd, 0x20, 0x4e, 0x00, 0x00]));
    expect(at).toBeGreaterThan(0);
    image[at + 2] = 30;
    image[at + 3] = 0;
    const r = lockstep(image, { load: { format: 'boot' }, memoryMB: 16, memoryEvery: 4096, maxInstructions: 5_000_000 });
    if (r.divergence) throw new Error(describeDivergence(r.divergence));
    expect(r.stop).toBe('exit');
    // (Its end check expects 20 000 passes' results: both sides report the same mismatch.)
    expect(r.monitored.exitCode).toBe(r.bare.exitCode);
    const c = r.monitor.counters;
    expect(c.panics, r.monitor.lastPanic ?? '').toBe(0);
    // Two far JMPs a pass (the first after each engagement enters: the look has no inputs yet).
    expect(c.inPlace.get('jmpFar') ?? 0).toBeGreaterThanOrEqual(30);
    // The gate's RETF is the first transfer after each engagement (the call through the call gate runs directly on
    // the real CPU): the look has no inputs yet, so it enters, as the first IRET after engaging does.
    expect(c.inPlace.get('retFar') ?? 0).toBe(0);
  }, 120_000);
});

describe('far JMP in place: what a debugger sees', () => {
  it('segment-load events and consistency reports as bare; a jump from an inconsistent CS enters', () => {
    const s = (k: number) => slotAddress(k);
    const slots = [
      jmpFar(0x48, s(1)), // the first after engaging: enters (and sets 0x48's accessed bit)
      jmpFar(0x48, s(2)), // in place
      jmpFar(0x08, s(3)), // in place
      jmpFar(0x48, s(4)), // in place
      // 0x48's limit rewritten while CS holds it (a watched store): CS's cache is inconsistent now.
      encode.storeSs(TABLES.GDT_A_SCRATCH + 8, 0x0000fffe),
      jmpFar(0x48, s(6)), // from an inconsistent CS (its slot holds the cache the return wrote): enters, reported consistent
      jmpFar(0x48, s(7)), // in place again
      jmpFar(0x08, s(8)),
    ];
    const image = runtimeImage(slots);
    const bare = new Machine({ memoryMB: 4 });
    const monitored = new Machine({ memoryMB: 4 });
    const monitor = attachMonitor(monitored);
    const record = (hub: Machine['cpu']['events'], into: string[]) => {
      hub.on('segment-load', (e) => into.push(`load ${e.reg} ${e.newSelector.toString(16)} ${e.cause}`));
      hub.on('cache-inconsistent', (e) => into.push(`inconsistent ${e.reg} ${e.differs.join(',')} ${e.cause} ${e.cs.toString(16)}:${e.eip.toString(16)}`));
      hub.on('cache-consistent', (e) => into.push(`consistent ${e.reg} ${e.cause} ${e.cs.toString(16)}:${e.eip.toString(16)}`));
    };
    const seenBare: string[] = [];
    const seenMon: string[] = [];
    record(bare.cpu.events, seenBare);
    record(monitor.guestEvents, seenMon);
    bare.load(image, LOAD);
    monitored.load(image, LOAD);
    expect(monitored.run(100_000).reason).toBe(bare.run(100_000).reason);
    expect(monitored.cpu.icount).toBe(bare.cpu.icount);
    expect(seenMon).toEqual(seenBare);
    expect(seenBare.some((e) => e.startsWith('consistent 1 '))).toBe(true);
    expect(monitor.counters.inPlace.get('jmpFar') ?? 0).toBe(5); // all but the first and the one from the inconsistent CS
  });
});
