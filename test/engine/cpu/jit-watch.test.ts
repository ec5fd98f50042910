// Data watches and translated blocks (issue 16): a watch no longer turns translation off. Watched pages carry a
// page flag that the blocks' inline loads and stores test, so exactly the accesses to those pages leave the block
// for the Cpu's own accessors, which tell the watch. Every test here runs the same guest translated and
// interpreted, bare and under the monitor, and requires the same hits at the same guest time with the same
// architectural state — at the hit (inside the instruction, as a debugger's condition sees it) and at the stop
// after it — and that some hits came from inside a translated block (what failed before: blocks stayed off).
import { describe, expect, it } from 'vitest';
import { PF_READ_WATCH, PF_WATCH } from '../../../engine/bus/memory';
import { Machine, type StopReason } from '../../../engine/machine/machine';
import { attachMonitor } from '../../../engine/monitor/monitor';
import { MemoryWatch, type WatchHit, type WatchRange } from '../../../engine/cpu/watch';
import { assemble, HAS_NASM } from './move-fixtures';
import { setDefaultWasmBlocks } from '../../../engine/cpu/jit/wasm/block';

// These tests look inside the JS tier's blocks (their source, hoisting, trace shape): its heads are not wasm blocks.
setDefaultWasmBlocks(false);

const ORG = 0x7c00;

/**
 * A hot loop of loads, stores and a read-modify-write on watched words, a dword load that crosses into a watched
 * page, then REP MOVSB from a read-watched source and REP STOSD onto a write-watched one. With `paging`, the same
 * under an identity map of the first 4 MiB (the blocks' TLB path; no REP block copies).
 */
function program(paging: boolean): Uint8Array {
  const enablePaging = `
        mov edi, 0x21000
        mov eax, 0x3
        mov ecx, 1024
.map:   mov [edi], eax
        add eax, 0x1000
        add edi, 4
        dec ecx
        jnz .map
        mov dword [0x20000], 0x21003
        mov eax, 0x20000
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        jmp .paged
.paged:`;
  // Flat segments from a GDT of its own: the monitor deprivileges a guest whose descriptors it can shadow.
  return assemble(
    `
        cli
        lgdt [gdtr]
        jmp 0x08:.flat
.flat:  mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        ${paging ? enablePaging : ''}
        mov ebx, 0x40000
        mov ecx, 300
        xor eax, eax
        xor edx, edx
        jmp top
        times 0x100 - ($ - $$) db 0xcc
top:
        add eax, ecx
        mov [ebx], eax              ; write watch (1)
        xor edx, eax
        mov esi, [ebx + 8]          ; read watch (2)
        lea edi, [esi + edx * 2 + 8]
        mov [ebx + 8], edi          ; a store the read watch does not report
        add [ebx + 12], edx         ; read and write watch (3): a load and a store
        mov ebp, [ebx + 0xffe]      ; crosses into the page of watch 4
        rol eax, 3
        dec ecx
        jnz top
        mov esi, 0x40000
        mov edi, 0x50000
        mov ecx, 32
        cld
        rep movsb                   ; loads watches 2 and 3 element by element
        mov edi, 0x40000 - 8
        mov ecx, 6
        rep stosd                   ; stores onto watches 1 and 3
        hlt
        align 8
gdt:    dq 0, 0x00cf9a000000ffff, 0x00cf92000000ffff
gdtr:   dw 23
        dd gdt
`,
    32,
    ORG,
  );
}

const RANGES: WatchRange[] = [
  { id: 1, phys: 0x40000, length: 4, access: 'write' },
  { id: 2, phys: 0x40008, length: 4, access: 'read' },
  { id: 3, phys: 0x4000c, length: 4, access: 'readWrite' },
  { id: 4, phys: 0x41000, length: 2, access: 'read' },
];

const TOP = ORG + 0x100;

interface Variant {
  jit: boolean;
  monitor: boolean;
  paging: boolean;
}

/** What a hit saw: the access, the guest time, and the state a condition evaluated there reads. */
interface SeenHit extends WatchHit {
  time: number;
  /**
   * Instructions a translated block had retired in this run before the access (Cpu.jitRetired; always 0 in the
   * interpreter): more than 0 only for a hit from inside a block. Not compared between runs.
   */
  pending: number;
  instrStart: number;
  eip: number;
  regs: number[];
  eflags: number;
}

function boot(v: Variant): Machine {
  const m = new Machine({ memoryMB: 4 });
  if (v.monitor) attachMonitor(m, { sbe: 'auto' });
  m.load(program(v.paging), { mode: 'protected' });
  m.cpu.jit = v.jit;
  return m;
}

function watch(m: Machine, seen: SeenHit[], stop: boolean): MemoryWatch {
  const w = new MemoryWatch(m.mem);
  const cpu = m.cpu;
  w.onHit = (h) => {
    // Guest time inside a block: the instructions it retired before this one are in jitRetired (slow.ts).
    seen.push({
      ...h,
      time: cpu.icount + cpu.jitRetired,
      pending: cpu.jitRetired,
      instrStart: cpu.instrStart,
      eip: cpu.eip,
      regs: [...cpu.regs],
      eflags: cpu.getEflags(),
    });
    if (stop) m.requestStop();
  };
  return w;
}

/** A stop after a hit: where the debugger shows the guest. */
interface Stop {
  icount: number;
  eip: number;
  regs: number[];
  eflags: number;
}

/** Runs to HLT, stopping at every hit as the debugger does, then running on. */
function runStoppingAtHits(v: Variant): { hits: SeenHit[]; stops: Stop[]; end: StopReason } {
  const m = boot(v);
  const hits: SeenHit[] = [];
  watch(m, hits, true).set(RANGES);
  const stops: Stop[] = [];
  for (let k = 0; k < 100_000; k++) {
    const r = m.runSlice(1 << 20).reason;
    if (r !== 'stopped') return { hits, stops, end: r ?? 'limit' };
    stops.push({ icount: m.cpu.icount, eip: m.cpu.eip, regs: [...m.cpu.regs], eflags: m.cpu.getEflags() });
  }
  throw new Error('the guest did not halt');
}

/** A hit as compared between runs: everything it saw but where it came from. */
function compared(h: SeenHit): unknown {
  const { pending, ...rest } = h;
  void pending;
  return rest;
}

/** A run as compared translated against interpreted on the same machine: the whole state, EFLAGS included. */
function whole(r: ReturnType<typeof runStoppingAtHits>): unknown {
  return { ...r, hits: r.hits.map(compared) };
}

/** The part of a run that bare and monitored runs share (the monitor's real EFLAGS differ from the guest's). */
function guestView(r: ReturnType<typeof runStoppingAtHits>): unknown {
  return {
    end: r.end,
    hits: r.hits.map((h) => [h.id, h.access, h.addr, h.size, h.oldValue, h.newValue, h.time, h.instrStart, h.eip, h.regs]),
    stops: r.stops.map((s) => [s.icount, s.eip, s.regs]),
  };
}

/** Hits reported from inside a translated block. */
function inBlock(hits: SeenHit[]): number {
  return hits.filter((h) => h.pending > 0).length;
}

describe.skipIf(!HAS_NASM)('data watches inside translated blocks', () => {
  for (const paging of [false, true]) {
    it(`read, write and access watches hit at the same instruction, time and state translated and interpreted, bare and monitored${paging ? ', paging on' : ''}`, () => {
      const reference = runStoppingAtHits({ jit: false, monitor: false, paging });
      expect(reference.end).toBe('halt');
      // 300 passes: a store (1), a load (2), a load and a store (3), two byte loads of the crossing dword (4); then
      // REP MOVSB's loads of 8 watched bytes and REP STOSD's stores onto 2 watched dwords.
      const count = (id: number, access: string): number => reference.hits.filter((h) => h.id === id && h.access === access).length;
      expect([count(1, 'write'), count(2, 'read'), count(3, 'read'), count(3, 'write'), count(4, 'read')]).toEqual([
        300 + 1,
        300 + 4,
        300 + 4,
        300 + 1,
        2 * 300,
      ]);
      expect(reference.hits.filter((h) => h.id === 4).every((h) => h.size === 1)).toBe(true);
      expect(reference.stops.length).toBe(new Set(reference.hits.map((h) => h.time)).size);
      for (const monitor of [false, true]) {
        const interpreted = monitor ? runStoppingAtHits({ jit: false, monitor, paging }) : reference;
        const translated = runStoppingAtHits({ jit: true, monitor, paging });
        expect(whole(translated)).toEqual(whole(interpreted));
        expect(guestView(translated)).toEqual(guestView(reference));
        expect(inBlock(interpreted.hits)).toBe(0);
        // Once the loop is hot (40 arrivals at its head), each pass's first hit comes from the block: the store at
        // its second instruction. The stop ends the block there and the pass goes on in the interpreter (a stop's
        // next instruction is no block head), as do the REP instructions.
        expect(inBlock(translated.hits)).toBeGreaterThanOrEqual(250);
      }
    });
  }

  it('arming, disarming and changing watches while the loop is a cached block: the block stays and sees exactly the armed ones', () => {
    const phases = (jit: boolean): { hits: SeenHit[][]; blocks: unknown[] } => {
      const m = boot({ jit, monitor: false, paging: false });
      const seen: SeenHit[] = [];
      const w = watch(m, seen, false);
      const hits: SeenHit[][] = [];
      const runFor = (n: number): void => {
        m.runSlice(n);
        hits.push(seen.splice(0));
      };
      runFor(1000); // the loop runs hot and is translated, with no watch armed
      const blocks = [m.cpu.fetchInstr(TOP).block];
      w.set([RANGES[1]]);
      runFor(600);
      w.set([]);
      expect(m.mem.pageFlags[0x40] & (PF_READ_WATCH | PF_WATCH)).toBe(0);
      runFor(600);
      w.set([RANGES[0], RANGES[2]]);
      runFor(1000);
      blocks.push(m.cpu.fetchInstr(TOP).block);
      return { hits, blocks };
    };
    const translated = phases(true);
    const interpreted = phases(false);
    expect(translated.hits.map((p) => p.map(compared))).toEqual(interpreted.hits.map((p) => p.map(compared)));
    const [before, read, none, writes] = translated.hits;
    expect([before.length, none.length]).toEqual([0, 0]);
    // 600 instructions are 54 or 55 passes of the 11-instruction loop: one load each; 1000 are 90 or 91 passes:
    // a store (1), and a load and a store (3) each.
    expect(read.length).toBeGreaterThanOrEqual(54);
    expect(writes.length).toBeGreaterThanOrEqual(3 * 90);
    // The block built before any watch is the one that ran, and reported, under each watch.
    expect(translated.blocks[0]).not.toBeNull();
    expect(translated.blocks[1]).toBe(translated.blocks[0]);
    // Each phase's first pass starts where the last slice ended, in the interpreter; the rest run in the block.
    expect(inBlock(read)).toBeGreaterThanOrEqual(read.length - 1);
    expect(inBlock(writes)).toBeGreaterThanOrEqual(writes.length - 3);
  });
});
