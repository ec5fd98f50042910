// Threaded blocks (jit/threaded.ts): the interpreter's handlers run from a recorded trace by one shared runner.
// Each test runs a program with threaded blocks only (warm threshold 2, no translated blocks) and with the
// interpreter, with the same sequence of budgets (so runs end inside lines), and expects the same state and guest
// time after every run: at taken branches mid-line, faults mid-line, REP mid-line, stores into the line (SMC),
// breakpoints inside a line and interrupts raised by an OUT mid-line.

import { describe, expect, it } from 'vitest';
import { AR_DB, AR_P, AR_S, DS, type Cpu } from '../../../engine/cpu/cpu';
import { flat32, type TestMachine } from './harness';
import { assemble, HAS_NASM } from './move-fixtures';

const ORG = 0x10000;
const IDT = 0x800;

function machine(source: string, threaded: boolean): TestMachine {
  const m = flat32(assemble(source, 32, ORG), ORG);
  m.cpu.jit = threaded;
  m.cpu.warmThreshold = 2;
  m.cpu.hotThreshold = 1e9;
  return m;
}

/** An interrupt gate for `vector` to `handler` (code selector 8). */
function gate(m: TestMachine, vector: number, handler: number): void {
  m.cpu.idtrBase = IDT;
  m.cpu.idtrLimit = 0x7ff;
  m.mem.write32(IDT + vector * 8, (0x08 << 16) | (handler & 0xffff));
  m.mem.write32(IDT + vector * 8 + 4, (handler & 0xffff0000) | 0x8e00);
}

function state(cpu: Cpu): unknown {
  return { regs: Array.from(cpu.regs), eip: cpu.eip, eflags: cpu.getEflags(), icount: cpu.icount, halted: cpu.halted, hit: cpu.hitBreakpoint };
}

/** Runs both machines with the same budgets until both halt; expects equal state after every run. */
function lockstep(thr: TestMachine, ref: TestMachine, budgets: number[], max = 200_000): void {
  let k = 0;
  while (!ref.cpu.halted && ref.cpu.icount < max) {
    const b = budgets[k++ % budgets.length];
    expect(thr.cpu.run(b)).toBe(ref.cpu.run(b));
    expect(state(thr.cpu)).toEqual(state(ref.cpu));
  }
  expect(thr.cpu.halted).toBe(true);
}

/** The threaded block at `eip` (fetched in the machine's current mode). */
function blockAt(m: TestMachine, eip: number): ReturnType<Cpu['fetchInstr']>['block'] {
  return m.cpu.fetchInstr(eip).block;
}

/** Whether `b` is a threaded block (jit/threaded.ts: a block with a `thread`). */
function isThreaded(b: ReturnType<Cpu['fetchInstr']>['block']): boolean {
  return b !== null && b.thread !== null;
}

const BUDGETS = [1, 7, 3, 50, 13, 2, 500];

describe.skipIf(!HAS_NASM)('threaded blocks', () => {
  it('leave where a branch goes the other way, with the interpreter state and time (budgets ending mid-line)', () => {
    const src = `
      mov ecx, 300
    top:
      mov eax, ecx
      and eax, 3
      jz skip          ; taken one time in four: a side exit mid-line
      add ebx, eax
      inc edx
    skip:
      imul esi, ecx, 3
      dec ecx
      jnz top
      hlt`;
    const thr = machine(src, true);
    lockstep(thr, machine(src, false), BUDGETS);
    expect(isThreaded(blockAt(thr, ORG + 5))).toBe(true);
  });

  it('a fault mid-line leaves the retired count, EIP and the state of the interpreter', () => {
    // ESI walks towards a page that is not present: the load faults (#PF off, so a #GP from the DS limit instead).
    const src = `
      mov ecx, 100
      xor esi, esi
    top:
      inc ebx
      mov eax, [esi + 0x7ff00]
      add esi, 0x40
      inc edx
      dec ecx
      jnz top
      hlt
    times 0x100 - ($ - $$) nop
    handler:
      mov edi, [esp + 4]   ; the faulting EIP (above the error code)
      hlt`;
    const pair = [machine(src, true), machine(src, false)];
    for (const m of pair) {
      gate(m, 13, ORG + 0x100);
      m.cpu.loadSegmentCache(DS, 0x10, 0, 0x7ffff, AR_P | AR_S | 0x3 | AR_DB, true, 'loader'); // DS limit 0x7FFFF
    }
    lockstep(pair[0], pair[1], BUDGETS);
    expect(pair[0].cpu.regs[7]).toBe(ORG + 8); // EDI: the MOV's address
  });

  it('a REP string instruction mid-trace counts each iteration as the interpreter does', () => {
    const src = `
      mov edx, 40
    top:
      mov edi, 0x40000
      mov ecx, 37
      mov eax, edx
      rep stosd
      inc ebx
      dec edx
      jnz top
      hlt`;
    const thr = machine(src, true);
    lockstep(thr, machine(src, false), [5, 11, 64, 3, 100]);
  });

  it('a store into the line drops it at once (self-modifying code)', () => {
    // Every pass stores a byte; on the pass with ECX = 20 the store goes to the immediate of the ADD two
    // instructions on, inside the same (long since threaded) line, which must then add 7, not 1.
    const src = `
      mov ecx, 50
      mov esi, patch + 2
    top:
      mov edi, 0x40000
      cmp ecx, 20
      cmove edi, esi
      mov byte [edi], 7
      inc edx
    patch:
      add ebx, 1
      dec ecx
      jnz top
      hlt`;
    const thr = machine(src, true);
    lockstep(thr, machine(src, false), BUDGETS);
    expect(thr.cpu.regs[3]).toBe(30 + 20 * 7);
  });

  it('a breakpoint inside a line stops at it, as the interpreter does', () => {
    const src = `
      mov ecx, 100
    top:
      inc eax
      inc ebx
    mark:
      inc edx
      dec ecx
      jnz top
      hlt`;
    const thr = machine(src, true);
    const ref = machine(src, false);
    thr.cpu.run(60); // threaded blocks built and running
    ref.cpu.run(60);
    expect(isThreaded(blockAt(thr, ORG + 5))).toBe(true);
    const mark = ORG + 7;
    for (const m of [thr, ref]) {
      m.cpu.breakpoints.add(mark);
      m.cpu.updateAttention();
    }
    thr.cpu.run(1000);
    ref.cpu.run(1000);
    expect(thr.cpu.hitBreakpoint).toBe(true);
    expect(state(thr.cpu)).toEqual(state(ref.cpu));
    expect(thr.cpu.eip).toBe(mark);
  });

  it('an interrupt raised by an OUT mid-line is delivered before the next instruction', () => {
    // The device raises INTR when AL reaches 32 and 48: the first time inside the line that starts at `top`
    // (built long before), the OUT its second instruction. After the handler's IRET, the line that starts where it
    // returned ends with the OUT instead, so the second interrupt comes at a line's end.
    const src = `
      mov ecx, 60
    top:
      inc eax
      out 0x80, al
      inc esi
      inc edi
      dec ecx
      jnz top
      hlt
    times 0x100 - ($ - $$) nop
      inc ebx
      mov [0x50000 + ebx * 4], esi   ; where the handler found the interrupted code
      out 0x81, al
      iretd`;
    const pair = [machine(src, true), machine(src, false)];
    for (const m of pair) {
      gate(m, 0x20, ORG + 0x100);
      m.cpu.acknowledgeInterrupt = () => 0x20;
      m.io.register(0x80, 2, { portIn: () => 0xff, portOut: (port, value) => m.cpu.setIntrLine(port === 0x80 && (value === 32 || value === 48)) });
      m.cpu.setEflags(0x202);
    }
    const thr = pair[0];
    thr.cpu.run(100);
    pair[1].cpu.run(100);
    const line = blockAt(thr, ORG + 5);
    expect(isThreaded(line)).toBe(true);
    lockstep(thr, pair[1], BUDGETS);
    expect(thr.cpu.regs[3]).toBe(2);
    expect([thr.mem.read32(0x50004), thr.mem.read32(0x50008)]).toEqual([31, 47]); // before the pass's INC ESI
  });

  it('a head gets its translated block once its arrivals reach the block threshold', () => {
    const src = `
      mov ecx, 200
    top:
      inc eax
      dec ecx
      jnz top
      hlt`;
    const m = machine(src, true);
    m.cpu.hotThreshold = 50;
    m.cpu.run(30);
    expect(isThreaded(blockAt(m, ORG + 5))).toBe(true);
    m.cpu.run(10_000);
    const b = blockAt(m, ORG + 5);
    expect(b).not.toBeNull();
    expect(isThreaded(b)).toBe(false);
    expect(m.cpu.regs[0]).toBe(200);
  });
});
