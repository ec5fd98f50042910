// The guest's debug registers (SDM 3A ch. 17): instruction breakpoints are faults honouring RF, data breakpoints
// are traps after the access's instruction, DR6's B0–B3 and BD bits, LEN alignment, general detect, RF = 1 in the
// image of other faults, and the debugger's own breakpoints staying out of DR6.

import { describe, expect, it } from 'vitest';
import { EBX, ECX } from '../../../engine/cpu/cpu';
import { clearLocalBreakpoints } from '../../../engine/cpu/debug-registers';
import { flat32 } from './harness';
import { HAS_NASM } from './move-fixtures';
import {
  DATA,
  DB_RECORDER,
  debugRecords,
  dword,
  enablePaging,
  guest,
  label,
  LABELS,
  P,
  RECORD_RF_FROM,
  runDebugGuest,
  RW,
  setPte,
} from './paging-fixtures';

const DR6_BD = 0x2000;
const DR7_GD = 0x2000;
const VAR = DATA + 0x100;
/** DR7 bits: enable Ln, and R/W and LEN of breakpoint n. */
const L = (n: number) => 1 << (2 * n);
const RW_FIELD = (n: number, rw: number) => rw << (16 + 4 * n);
const LEN_FIELD = (n: number, len: number) => len << (18 + 4 * n);
const WRITE = 1, READ_WRITE = 3;
const LEN1 = 0, LEN2 = 1, LEN4 = 3;

function run(body: string, handlers: Record<number, string> = {}) {
  return runDebugGuest(body, handlers);
}

describe.skipIf(!HAS_NASM)('instruction breakpoints', () => {
  it('fault before the instruction: EIP = the breakpoint, DR6.B0, pushed RF = 0; the handler sets RF and it runs once', () => {
    const { m, exceptions, records } = run(`
        mov dword [${LABELS}], target
        mov eax, target
        mov dr0, eax
        mov eax, ${L(0)}
        mov dr7, eax
        xor ebx, ebx
target: inc ebx
        nop`);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ eip: label(m, 0), rf: false });
    expect(records[0].dr6 & 0xf).toBe(1);
    expect(m.cpu.regs[EBX]).toBe(1);
    expect(exceptions.map((e) => e.ruleId)).toEqual(['debug.instruction-breakpoint']);
  });

  it('without RF in the image the breakpoint hits again on return, until the handler sets RF', () => {
    const { m, records } = run(`
        mov dword [${RECORD_RF_FROM}], 3
        mov eax, target
        mov dr2, eax
        mov eax, ${L(2)}
        mov dr7, eax
        xor ebx, ebx
target: inc ebx`);
    expect(records.map((r) => r.dr6 & 0xf)).toEqual([4, 4, 4]);
    expect(m.cpu.regs[EBX]).toBe(1);
  });

  it('RF suppresses one instruction only: the same instruction hits again the next time round a loop', () => {
    const { m, records } = run(`
        mov eax, target
        mov dr1, eax
        mov eax, ${L(1)}
        mov dr7, eax
        xor ebx, ebx
        mov ecx, 3
target: inc ebx
        loop target`);
    expect(records).toHaveLength(3);
    expect(m.cpu.regs[EBX]).toBe(3);
  });

  it('a breakpoint that is not enabled, or whose R/W is not execute, does not hit an instruction', () => {
    const { m, records } = run(`
        mov eax, target
        mov dr0, eax
        mov dr1, eax
        mov eax, ${RW_FIELD(0, 0)} | ${L(1)} | ${RW_FIELD(1, WRITE)}
        mov dr7, eax
        xor ebx, ebx
target: inc ebx`);
    expect(records).toHaveLength(0);
    expect(m.cpu.regs[EBX]).toBe(1);
  });
});

describe.skipIf(!HAS_NASM)('data breakpoints', () => {
  it('a write breakpoint traps after the instruction: the store is done, EIP is the next instruction, DR6.B1', () => {
    const { m, exceptions, records } = run(`
        mov dword [${LABELS}], after
        mov eax, ${VAR}
        mov dr1, eax
        mov eax, ${L(1) | RW_FIELD(1, WRITE) | LEN_FIELD(1, LEN4)}
        mov dr7, eax
        mov eax, [${VAR}]
        mov byte [${VAR + 2}], 7
after:  nop
        xor eax, eax
        mov dr7, eax
        mov byte [${VAR + 2}], 8`);
    expect(records).toHaveLength(1);
    expect(records[0].eip).toBe(label(m, 0));
    expect(records[0].dr6 & 0xf).toBe(2);
    expect(exceptions.map((e) => e.ruleId)).toEqual(['debug.trap']);
    expect(m.mem.peek(VAR + 2, 1)).toBe(8);
  });

  it('a read/write breakpoint traps on reads of its bytes only', () => {
    const { records } = run(`
        mov eax, ${VAR}
        mov dr0, eax
        mov eax, ${L(0) | RW_FIELD(0, READ_WRITE) | LEN_FIELD(0, LEN1)}
        mov dr7, eax
        mov al, [${VAR + 1}]
        mov al, [${VAR - 1}]
        mov al, [${VAR}]
        nop`);
    expect(records).toHaveLength(1);
  });

  it('LEN masks the low address bits; an access hits when any of its bytes falls in the range', () => {
    const { records } = run(`
        mov eax, ${VAR + 1}
        mov dr3, eax
        mov eax, ${L(3) | RW_FIELD(3, WRITE) | LEN_FIELD(3, LEN2)}
        mov dr7, eax
        mov byte [${VAR + 2}], 1
        mov word [${VAR - 1}], 2
        mov dword [${VAR - 3}], 3
        mov dword [${VAR - 4}], 3
        nop`);
    // VAR+1 with LEN 2 covers VAR..VAR+1: the word at VAR−1 and the dword at VAR−3 touch VAR.
    expect(records).toHaveLength(2);
    expect(records.every((r) => (r.dr6 & 0xf) === 8)).toBe(true);
  });

  it('one access hitting two breakpoints sets both B bits in one #DB', () => {
    const { records } = run(`
        mov eax, ${VAR}
        mov dr0, eax
        add eax, 2
        mov dr2, eax
        mov eax, ${L(0) | RW_FIELD(0, WRITE) | L(2) | RW_FIELD(2, WRITE)}
        mov dr7, eax
        mov dword [${VAR}], 0
        nop`);
    expect(records.map((r) => r.dr6 & 0xf)).toEqual([5]);
  });

  it('REP STOSB traps after the iteration that hit, with EIP on the instruction, and then completes', () => {
    const m = guest(
      `
        mov dword [${LABELS}], rep_insn
        mov eax, ${VAR + 3}
        mov dr0, eax
        mov eax, ${L(0) | RW_FIELD(0, WRITE) | LEN_FIELD(0, LEN1)}
        mov dr7, eax
        mov edi, ${VAR}
        mov ecx, 8
        mov al, 0x77
        cld
rep_insn:
        rep stosb
        hlt
${DB_RECORDER}`,
      { 1: 'db_record' },
    );
    let ecxAtTrap = -1;
    m.cpu.events.on('cpu-exception', () => {
      ecxAtTrap = m.cpu.regs[ECX];
    });
    m.cpu.run(10_000);
    const records = debugRecords(m);
    expect(records.map((r) => r.eip)).toEqual([label(m, 0)]);
    expect(ecxAtTrap).toBe(4); // bytes 0–3 stored, the fourth hit
    expect(m.cpu.regs[ECX]).toBe(0);
    expect(m.mem.peek(VAR + 4, 4)).toBe(0x77777777);
  });

  it('a fault in the instruction discards its data-breakpoint trap; the restarted instruction traps', () => {
    // BOUND reads both bounds (a hit), then raises #BR; its handler fixes EAX and the BOUND runs again.
    const { exceptions, records, m } = run(
      `
        mov dword [${VAR}], 10
        mov dword [${VAR + 4}], 20
        mov eax, ${VAR}
        mov dr0, eax
        mov eax, ${L(0) | RW_FIELD(0, READ_WRITE) | LEN_FIELD(0, LEN4)}
        mov dr7, eax
        mov eax, 30
        bound eax, [${VAR}]
        nop
        hlt
br_handler:
        mov ebx, [esp + 8]
        mov [${LABELS}], ebx
        mov eax, 15
        iret`,
      { 5: 'br_handler' },
    );
    expect(exceptions.map((e) => e.vector)).toEqual([5, 1]);
    expect(records).toHaveLength(1);
    // The #BR handler saw RF = 1 in its image: every fault other than an instruction breakpoint pushes RF = 1.
    expect(label(m, 0) & 0x10000).toBe(0x10000);
  });

  it('data breakpoints compare linear addresses: under paging, the physical alias does not hit', () => {
    const m = guest(
      `
        mov eax, 0x300000
        mov dr0, eax
        mov eax, ${L(0) | RW_FIELD(0, WRITE) | LEN_FIELD(0, LEN4)}
        mov dr7, eax
        mov dword [0x155000], 1
        mov dword [0x300000], 2
        nop
        hlt
${DB_RECORDER}`,
      { 1: 'db_record' },
    );
    enablePaging(m);
    setPte(m, 0x300000, 0x155000 | P | RW);
    m.cpu.run(1000);
    expect(debugRecords(m)).toHaveLength(1);
    expect(dword(m, 0x155000)).toBe(2);
  });
});

describe.skipIf(!HAS_NASM)('general detect', () => {
  it('with DR7.GD a MOV from DRn faults before running: DR6.BD, EIP = the MOV, GD cleared for the handler', () => {
    const { m, records, exceptions } = run(`
        mov dword [${LABELS}], access
        mov eax, ${DR7_GD}
        mov dr7, eax
        mov ecx, 0x1234
access: mov ecx, dr0`);
    expect(records).toHaveLength(1);
    expect(records[0].eip).toBe(label(m, 0));
    expect(records[0].dr6 & DR6_BD).toBe(DR6_BD);
    expect(records[0].rf).toBe(true); // a fault-class #DB other than an instruction breakpoint
    expect(exceptions.map((e) => e.ruleId)).toEqual(['debug.general-detect']);
    expect(m.cpu.dr[7] & DR7_GD).toBe(0);
    expect(m.cpu.regs[ECX]).toBe(0); // the MOV ran after the handler returned: DR0 = 0
  });
});

describe.skipIf(!HAS_NASM)("the debugger's own breakpoints", () => {
  it('stop the run loop without touching DR6 or raising #DB', () => {
    const m = guest(`
        mov dword [${LABELS}], target
        nop
target: nop
        hlt
${DB_RECORDER}`, { 1: 'db_record' });
    m.cpu.run(3); // the jump over the IDT, LIDT and the store of the label
    m.cpu.breakpoints.add(label(m, 0));
    m.cpu.updateAttention(); // as the debug adapter does after changing the set
    m.cpu.run(100);
    expect(m.cpu.hitBreakpoint).toBe(true);
    expect(m.cpu.eip).toBe(label(m, 0));
    expect(m.cpu.dr[6] >>> 0).toBe(0xffff0ff0);
    expect(debugRecords(m)).toHaveLength(0);
  });
});

describe('debug-register state', () => {
  it('a task switch clears the local enables L0–L3 and keeps the global ones', () => {
    const m = flat32([0xf4]);
    m.cpu.dr[7] = 0x400 | 0xff | (WRITE << 16);
    m.cpu.modeChanged();
    expect(m.cpu.dataBreakpoints).toBe(true);
    clearLocalBreakpoints(m.cpu);
    expect(m.cpu.dr[7] & 0xff).toBe(0xaa);
    m.cpu.dr[7] = 0x400 | L(0) | (WRITE << 16);
    clearLocalBreakpoints(m.cpu);
    expect(m.cpu.dataBreakpoints).toBe(false);
    expect(m.cpu.checkLinear).toBe(false);
  });

  it('reset disarms everything: DR7 = 0x400, DR6 = 0xFFFF0FF0, no pending trap, no checked translation', () => {
    const m = flat32([0xf4]);
    m.cpu.dr[7] = 0x400 | L(1) | RW_FIELD(1, READ_WRITE);
    m.cpu.modeChanged();
    m.cpu.pendingDebugTraps = 2;
    m.cpu.reset();
    expect([m.cpu.dr[7], m.cpu.dr[6] >>> 0, m.cpu.pendingDebugTraps]).toEqual([0x400, 0xffff0ff0, 0]);
    expect(m.cpu.dataBreakpoints || m.cpu.checkLinear).toBe(false);
  });
});

describe.skipIf(!HAS_NASM)('I/O breakpoints (CR4.DE, R/W = 10)', () => {
  const IO = 2;
  const enableDe = `
        mov eax, cr4
        or eax, 8
        mov cr4, eax`;

  it('with CR4.DE an IN/OUT touching the port range traps after the instruction (LEN aligns the range)', () => {
    const { m, exceptions, records } = run(`
        ${enableDe}
        mov dword [${LABELS}], after_out
        mov dword [${LABELS} + 4], after_wide
        mov eax, 0x81
        mov dr2, eax
        mov eax, ${L(2) | RW_FIELD(2, IO) | LEN_FIELD(2, LEN2)}
        mov dr7, eax
        in al, 0x82
        out 0x81, al
after_out:
        nop
        mov dx, 0x7f
        out dx, ax
after_wide:
        nop
        xor eax, eax
        mov dr7, eax
        out 0x80, al`);
    expect(records.map((r) => r.eip)).toEqual([label(m, 0), label(m, 1)]);
    expect(records.map((r) => r.dr6 & 0xf)).toEqual([4, 4]);
    expect(exceptions.map((e) => e.ruleId)).toEqual(['debug.trap', 'debug.trap']);
  });

  it('without CR4.DE R/W = 10 matches nothing, and DR4/DR5 read and write DR6/DR7', () => {
    const { m, records } = run(`
        mov eax, 0x80
        mov dr0, eax
        mov eax, ${L(0) | RW_FIELD(0, IO)}
        mov dr7, eax
        out 0x80, al
        mov ecx, dr5
        xor eax, eax
        mov dr7, eax`);
    expect(records).toHaveLength(0);
    expect(m.cpu.regs[ECX] & 0xffff).toBe((L(0) | RW_FIELD(0, IO) | 0x400) & 0xffff);
  });

  it('with CR4.DE a reference to DR4 or DR5 raises #UD', () => {
    const { m, exceptions } = runDebugGuest(
      `
        ${enableDe}
        mov eax, dr4`,
      { 6: 'ud_seen' },
      `ud_seen:
        mov ebx, 0x600d
        hlt`,
    );
    expect(exceptions.map((e) => e.ruleId)).toEqual(['mov-dr.dr4-dr5-with-de']);
    expect(m.cpu.regs[EBX]).toBe(0x600d);
  });

  it('REP OUTSB traps after the iteration that hit, and then completes', () => {
    const { m, records } = run(`
        ${enableDe}
        mov dword [${LABELS}], rep_out
        mov dword [${LABELS} + 4], after_rep
        mov eax, 0xe9
        mov dr3, eax
        mov eax, ${L(3) | RW_FIELD(3, IO)}
        mov dr7, eax
        mov esi, ${VAR}
        mov ecx, 3
        mov dx, 0xe9
rep_out:
        rep outsb
after_rep:
        xor eax, eax
        mov dr7, eax`);
    // Every iteration writes port 0xE9: a trap after each, EIP on the REP OUTSB until the last one completes it.
    expect(records.map((r) => r.eip)).toEqual([label(m, 0), label(m, 0), label(m, 1)]);
    expect(m.cpu.regs[ECX]).toBe(0);
  });
});
