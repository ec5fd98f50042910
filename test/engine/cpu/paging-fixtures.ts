// Fixtures for the paging, debug-register and single-step tests: a flat 32-bit guest assembled with an IDT whose
// gates the test names, identity-mapped page tables the test then edits, and readers for the guest's results.

import { expect } from 'vitest';
import { CR0_PG } from '../../../engine/cpu/cpu';
import { flat32, type TestMachine } from './harness';
import { assemble, recordExceptions } from './move-fixtures';

export const CODE = 0x10000;
/** Page directory and the page table for 0–4 MiB (identity, P | R/W | U/S). */
export const PAGE_DIRECTORY = 0x200000;
export const PAGE_TABLE_0 = 0x201000;
/** A spare page table the tests may point directory entries at. */
export const PAGE_TABLE_1 = 0x202000;
/** Free RAM for guest data (identity-mapped). */
export const DATA = 0x30000;

export const P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;

/**
 * Assembles a 32-bit guest at CODE: an IDT for vectors 0–31 whose gate v points at label `handlers[v]` (others at
 * `unexpected`, which halts with EAX = 0xDEAD), loaded before `body` runs. The body ends in HLT.
 */
export function guest(body: string, handlers: Record<number, string> = {}, memBytes = 4 << 20): TestMachine {
  const gates: string[] = [];
  for (let v = 0; v < 32; v++) {
    const target = handlers[v] ?? 'unexpected';
    gates.push(
      `dw (${target} - $$ + ${CODE}) & 0xffff, 0x08\ndb 0, 0x8e\ndw (${target} - $$ + ${CODE}) >> 16`,
    );
  }
  const source = `
        jmp near start
        align 8
idt:
${gates.join('\n')}
idt_end:
idtr:   dw idt_end - idt - 1
        dd idt - $$ + ${CODE}
unexpected:
        mov eax, 0xdead
        hlt
start:
        lidt [idtr]
${body}
        hlt`;
  return flat32(assemble(source, 32, CODE), CODE, memBytes);
}

/** Builds identity page tables for 0–4 MiB (every PTE P | R/W | U/S) and turns paging on (CR3, CR0.PG). */
export function enablePaging(m: TestMachine, pdeFlags = P | RW | US, pteFlags = P | RW | US): void {
  const { mem, cpu } = m;
  for (let k = 0; k < 1024; k++) {
    mem.i32[(PAGE_DIRECTORY >>> 2) + k] = 0;
    mem.i32[(PAGE_TABLE_0 >>> 2) + k] = (k << 12) | pteFlags;
  }
  mem.i32[PAGE_DIRECTORY >>> 2] = PAGE_TABLE_0 | pdeFlags;
  cpu.cr3 = PAGE_DIRECTORY;
  cpu.cr0 |= CR0_PG;
  cpu.modeChanged();
}

/** The page-table entry of `linear` in PAGE_TABLE_0 (linear < 4 MiB). */
export function pte(m: TestMachine, linear: number): number {
  return m.mem.i32[(PAGE_TABLE_0 >>> 2) + (linear >>> 12)] >>> 0;
}

export function setPte(m: TestMachine, linear: number, value: number): void {
  m.mem.i32[(PAGE_TABLE_0 >>> 2) + (linear >>> 12)] = value;
}

export function pde(m: TestMachine, linear: number): number {
  return m.mem.i32[(PAGE_DIRECTORY >>> 2) + (linear >>> 22)] >>> 0;
}

export function setPde(m: TestMachine, linear: number, value: number): void {
  m.mem.i32[(PAGE_DIRECTORY >>> 2) + (linear >>> 22)] = value;
}

/** A dword of guest memory (physical). */
export function dword(m: TestMachine, addr: number): number {
  return m.mem.peek(addr, 4);
}

// ---- a #DB handler that records each debug exception ----

export const RECORD_COUNT = 0x38000;
/** db_record sets RF in the EFLAGS image from this many recorded exceptions on (default 0: always). */
export const RECORD_RF_FROM = 0x38004;
const RECORD_DR6 = 0x38100;
const RECORD_EIP = 0x38200;
const RECORD_EFLAGS = 0x38300;
const RF_BIT = 0x10000;

/**
 * Guest source for `db_record`, a #DB handler that stores DR6 and the pushed EIP and EFLAGS of each #DB, clears
 * DR6, sets RF in the EFLAGS image once RECORD_RF_FROM exceptions were recorded (so the instruction it returns
 * to skips its instruction breakpoint) and returns. Append it after a guest's body.
 */
export const DB_RECORDER = `
db_record:
        push eax
        push ebx
        mov ebx, [${RECORD_COUNT}]
        mov eax, dr6
        mov [${RECORD_DR6} + ebx * 4], eax
        mov eax, [esp + 8]
        mov [${RECORD_EIP} + ebx * 4], eax
        mov eax, [esp + 16]
        mov [${RECORD_EFLAGS} + ebx * 4], eax
        inc ebx
        mov [${RECORD_COUNT}], ebx
        cmp ebx, [${RECORD_RF_FROM}]
        jb .keep_rf
        or dword [esp + 16], ${RF_BIT}
.keep_rf:
        xor eax, eax
        mov dr6, eax
        pop ebx
        pop eax
        iret`;

export interface DebugRecord {
  dr6: number;
  eip: number;
  rf: boolean;
  tf: boolean;
}

/** The #DB exceptions `db_record` saw, in order, with the EFLAGS bits the CPU pushed. */
export function debugRecords(m: TestMachine): DebugRecord[] {
  const out: DebugRecord[] = [];
  const n = m.mem.peek(RECORD_COUNT, 4);
  for (let k = 0; k < n && k < 64; k++) {
    const eflags = m.mem.peek(RECORD_EFLAGS + k * 4, 4);
    out.push({
      dr6: m.mem.peek(RECORD_DR6 + k * 4, 4),
      eip: m.mem.peek(RECORD_EIP + k * 4, 4),
      rf: (eflags & RF_BIT) !== 0,
      tf: (eflags & 0x100) !== 0,
    });
  }
  return out;
}

/** Guests store label addresses here (`mov dword [LABELS + 4 * k], name`) for the test to read back. */
export const LABELS = 0x38400;

export function label(m: TestMachine, k: number): number {
  return m.mem.peek(LABELS + 4 * k, 4);
}

/**
 * Runs a guest whose #DB handler is `db_record` (other vectors from `handlers`) until its HLT; returns the machine,
 * the `cpu-exception` events and the #DB records. `source` ends before the HLT; `tail` holds extra handlers.
 */
export function runDebugGuest(source: string, handlers: Record<number, string> = {}, tail = '') {
  const m = guest(`${source}\n        hlt\n${tail}\n${DB_RECORDER}`, { 1: 'db_record', ...handlers });
  const exceptions = recordExceptions(m);
  m.cpu.run(10_000);
  expect(m.cpu.halted).toBe(true);
  expect(m.cpu.regs[0] >>> 0, 'reached an unexpected vector').not.toBe(0xdead);
  return { m, exceptions, records: debugRecords(m) };
}
