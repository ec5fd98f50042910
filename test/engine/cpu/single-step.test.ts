// Single-step through EFLAGS.TF (SDM 3A §17.3.1.4): a #DB trap with DR6.BS after every instruction that began
// with TF = 1 — not after the POPF that sets TF, still after the one that clears it — none inside a software
// interrupt's handler, none after a faulting instruction, deferred past the instruction after MOV SS, and one per
// iteration of a repeated string instruction.

import { describe, expect, it } from 'vitest';
import { ESI } from '../../../engine/cpu/cpu';
import { assemble, HAS_NASM } from './move-fixtures';
import { realMode } from './harness';
import { label, LABELS, runDebugGuest } from './paging-fixtures';

const DR6_BS = 0x4000;
const TF_ON = `
        pushfd
        or dword [esp], 0x100
        popfd`;
const TF_OFF = `
        pushfd
        and dword [esp], ~0x100
        popfd`;

/** Stores labels l0, l1, … (those present in the body) at LABELS + 4k. */
function storeLabels(body: string): string {
  const names = [...body.matchAll(/^(l\d+):/gm)].map((x) => x[1]);
  return names.map((n) => `        mov dword [${LABELS} + 4 * ${n.slice(1)}], ${n}`).join('\n');
}

function run(body: string, handlers: Record<number, string> = {}, tail = '') {
  const r = runDebugGuest(`${storeLabels(body)}\n${body}`, handlers, tail);
  return { ...r, labels: (ks: number[]) => ks.map((k) => label(r.m, k)) };
}

describe.skipIf(!HAS_NASM)('TF single-step', () => {
  it('traps after each instruction that began with TF = 1: not after the POPF setting TF, after the POPF clearing it', () => {
    const { records, labels } = run(`${TF_ON}
l0:     nop
l1:     mov eax, 5
l2:     pushfd
l3:     and dword [esp], ~0x100
l4:     popfd
l5:     nop
l6:     nop`);
    expect(records.map((r) => r.eip)).toEqual(labels([1, 2, 3, 4, 5]));
    expect(records.every((r) => (r.dr6 & DR6_BS) !== 0 && (r.dr6 & 0xf) === 0)).toBe(true);
    // The pushed image has TF = 1, except after the POPF that cleared it.
    expect(records.map((r) => r.tf)).toEqual([true, true, true, true, false]);
  });

  it('INT n clears TF for its handler: no trap inside it or after its IRET; the next instruction traps', () => {
    const { m, records, labels } = run(
      `${TF_ON}
l0:     nop
l1:     int 0x10
l2:     nop
l3:     ${TF_OFF}`,
      { 0x10: 'soft' },
      `soft:   inc esi
        inc esi
        iret`,
    );
    expect(m.cpu.regs[ESI]).toBe(2);
    const eips = records.map((r) => r.eip);
    expect(eips.slice(0, 2)).toEqual(labels([1, 3]));
  });

  it('a faulting instruction is not followed by a single-step trap; its handler runs untraced', () => {
    const { exceptions, records, labels } = run(
      `${TF_ON}
l0:     ud2
l1:     nop
l2:     ${TF_OFF}`,
      { 6: 'skip_ud2' },
      `skip_ud2:
        add dword [esp], 2
        iret`,
    );
    expect(exceptions.slice(0, 2).map((e) => e.vector)).toEqual([6, 1]);
    expect(records[0].eip).toBe(labels([2])[0]);
  });

  it('MOV SS inhibits the trap until after the next instruction (one trap for both)', () => {
    const { records, labels } = run(`${TF_ON}
l0:     mov ax, ss
l1:     mov ss, ax
l2:     nop
l3:     ${TF_OFF}`);
    expect(records.slice(0, 2).map((r) => r.eip)).toEqual(labels([1, 3]));
  });

  it('REP STOSB traps after every iteration, with EIP on the instruction until the count runs out', () => {
    const { records, labels, m } = run(`
        mov edi, 0x31000
        mov ecx, 3
        mov al, 0x5a
        cld
${TF_ON}
l0:     rep stosb
l1:     ${TF_OFF}`);
    expect(records.slice(0, 3).map((r) => r.eip)).toEqual(labels([0, 0, 1]));
    expect(m.mem.peek(0x31000, 4)).toBe(0x5a5a5a);
  });
});

describe.skipIf(!HAS_NASM)('TF single-step in real mode', () => {
  it('traps through the IVT after each instruction until TF is cleared', () => {
    const code = assemble(
      `
        mov word [4], handler
        mov word [6], 0
        pushf
        mov bp, sp
        or word [bp], 0x100
        popf
        nop
        nop
        nop
        pushf
        mov bp, sp
        and word [bp], ~0x100
        popf
        hlt
handler:
        inc word [0x7000]
        iret`,
      16,
      0x1000,
    );
    const m = realMode(code);
    m.cpu.run(1000);
    expect(m.cpu.halted).toBe(true);
    // nop ×3, pushf, mov bp, and, popf: seven instructions began with TF = 1.
    expect(m.mem.peek(0x7000, 2)).toBe(7);
    expect(m.cpu.dr[6] & DR6_BS).toBe(DR6_BS);
  });
});
