// Paging as guests use it: #PF delivered with CR2 and the error code to a handler that maps on demand, INVLPG and
// MOV CR3 observable through a changed PTE, instruction fetch, descriptor-table reads and string instructions
// through the page tables, and code remapped under the same linear address.

import { describe, expect, it } from 'vitest';
import { DS, EAX, EBX, ECX, EDI } from '../../../engine/cpu/cpu';
import { HAS_NASM, recordExceptions } from './move-fixtures';
import { GDT_BASE, SEL_DATA32 } from './harness';
import { A, D, dword, enablePaging, guest, P, pte, RW, setPte, US } from './paging-fixtures';

const PF_LOG = 0x38800; // the #PF handler appends CR2 and the error code here
/** A #PF handler that logs CR2 and the error code, maps the page (identity, P | R/W) and restarts the access. */
const DEMAND_HANDLER = `
pf_demand:
        push eax
        push ebx
        mov ebx, [${PF_LOG}]
        mov eax, cr2
        mov [${PF_LOG + 4} + ebx * 8], eax
        mov eax, [esp + 8]
        mov [${PF_LOG + 8} + ebx * 8], eax
        inc dword [${PF_LOG}]
        mov eax, cr2
        shr eax, 12
        and eax, 0x3ff
        mov ebx, cr2
        and ebx, 0xfffff000
        or ebx, ${P | RW}
        mov [0x201000 + eax * 4], ebx
        pop ebx
        pop eax
        add esp, 4
        iret`;

function pfLog(m: ReturnType<typeof guest>): { cr2: number; error: number }[] {
  const n = dword(m, PF_LOG);
  return Array.from({ length: n }, (_, k) => ({ cr2: dword(m, PF_LOG + 4 + 8 * k), error: dword(m, PF_LOG + 8 + 8 * k) }));
}

function pagedGuest(body: string, tail = '') {
  const m = guest(`${body}\n        hlt\n${tail}\n${DEMAND_HANDLER}`, { 14: 'pf_demand' });
  enablePaging(m);
  return m;
}

describe.skipIf(!HAS_NASM)('#PF delivery', () => {
  it('demand paging: each not-present access faults once with CR2 and its error code, then restarts', () => {
    const m = pagedGuest(`
        mov dword [0x300010], 0x11111111
        mov eax, [0x301020]
        mov ebx, [0x300010]`);
    setPte(m, 0x300000, 0);
    setPte(m, 0x301000, 0);
    const exceptions = recordExceptions(m);
    m.cpu.run(1000);
    expect(m.cpu.halted).toBe(true);
    expect(pfLog(m)).toEqual([
      { cr2: 0x300010, error: 2 },
      { cr2: 0x301020, error: 0 },
    ]);
    expect(exceptions.map((e) => e.ruleId)).toEqual(['paging.pte-not-present', 'paging.pte-not-present']);
    expect(m.cpu.regs[EBX] >>> 0).toBe(0x11111111);
    expect(pte(m, 0x300000) & (A | D)).toBe(A | D);
    expect(pte(m, 0x301000) & (A | D)).toBe(A);
  });

  it('an instruction fetch from a not-present page faults with CR2 = EIP, error code 0, and runs once mapped', () => {
    const m = pagedGuest(`
        xor eax, eax
        mov edx, 0x302000
        call edx`);
    m.mem.load(0x302000, Uint8Array.of(0x40, 0xc3)); // inc eax; ret
    setPte(m, 0x302000, 0);
    m.cpu.run(1000);
    expect(m.cpu.halted).toBe(true);
    expect(pfLog(m)).toEqual([{ cr2: 0x302000, error: 0 }]);
    expect(m.cpu.regs[EAX]).toBe(1);
  });

  it('a store crossing into a not-present page faults before writing either page', () => {
    const m = pagedGuest(`
        mov dword [0x303ffe], 0xaabbccdd`);
    setPte(m, 0x304000, 0);
    m.cpu.run(1000);
    expect(pfLog(m)).toEqual([{ cr2: 0x304000, error: 2 }]);
    expect(dword(m, 0x303ffe)).toBe(0xaabbccdd);
  });

  it('REP MOVSD stops at the not-present page with ECX/EDI at the faulting element, then completes', () => {
    const m = pagedGuest(`
        mov esi, 0x20000
        mov edi, 0x305ff8
        mov ecx, 4
        cld
        rep movsd`);
    setPte(m, 0x306000, 0);
    let atFault: { ecx: number; edi: number } | null = null;
    m.cpu.events.on('cpu-exception', () => {
      atFault ??= { ecx: m.cpu.regs[ECX], edi: m.cpu.regs[EDI] >>> 0 };
    });
    m.cpu.run(1000);
    expect(atFault).toEqual({ ecx: 2, edi: 0x306000 });
    expect(m.cpu.regs[ECX]).toBe(0);
    expect(pfLog(m)).toEqual([{ cr2: 0x306000, error: 2 }]);
  });

  it('descriptor-table reads go through paging as supervisor accesses: a GDT page not present faults on MOV DS', () => {
    const m = pagedGuest(`
        mov ax, ${SEL_DATA32}
        mov ds, ax`);
    // Move the GDT so that entry 2 (the data selector) starts a page of its own; entry 1 (CS, needed to deliver
    // the #PF) stays on the page before it.
    const gdt = 0x35000 - 0x10;
    m.mem.load(gdt, m.mem.readBytes(GDT_BASE, 16 * 8));
    m.cpu.gdtrBase = gdt;
    setPte(m, 0x35000, 0);
    m.cpu.run(1000);
    expect(m.cpu.halted).toBe(true);
    expect(pfLog(m)).toEqual([{ cr2: 0x35000, error: 0 }]);
    expect(m.cpu.segSel[DS]).toBe(SEL_DATA32);
  });
});

describe.skipIf(!HAS_NASM)('TLB flushes by instruction', () => {
  // Page 0x300000 maps frame 0x150000 (holding 1) and then, in memory only, frame 0x151000 (holding 2).
  const setup = `
        mov dword [0x150000], 1
        mov dword [0x151000], 2
        mov dword [0x201000 + 0x300 * 4], 0x150000 | ${P | RW}
        mov eax, [0x300000]                 ; caches the translation
        mov dword [0x201000 + 0x300 * 4], 0x151000 | ${P | RW}
        mov ebx, [0x300000]                 ; stale: still frame 0x150000`;

  it('without INVLPG the old translation is used; INVLPG makes the new one visible', () => {
    const m = pagedGuest(`${setup}
        invlpg [0x300abc]
        mov ecx, [0x300000]`);
    m.cpu.run(1000);
    expect([m.cpu.regs[EAX], m.cpu.regs[EBX], m.cpu.regs[ECX]]).toEqual([1, 1, 2]);
  });

  it('MOV CR3 (same value) flushes too', () => {
    const m = pagedGuest(`${setup}
        mov edx, cr3
        mov cr3, edx
        mov ecx, [0x300000]`);
    m.cpu.run(1000);
    expect([m.cpu.regs[EAX], m.cpu.regs[EBX], m.cpu.regs[ECX]]).toEqual([1, 1, 2]);
  });

  it('code remapped under the same linear address runs the new bytes after INVLPG (decode cache is physical)', () => {
    const m = pagedGuest(`
        mov byte [0x150000], 0x40          ; frame A: inc eax; ret
        mov byte [0x150001], 0xc3
        mov byte [0x151000], 0x43          ; frame B: inc ebx; ret
        mov byte [0x151001], 0xc3
        xor eax, eax
        xor ebx, ebx
        mov dword [0x201000 + 0x300 * 4], 0x150000 | ${P | RW}
        mov edx, 0x300000
        call edx
        call edx
        mov dword [0x201000 + 0x300 * 4], 0x151000 | ${P | RW}
        invlpg [0x300000]
        call edx`);
    m.cpu.run(1000);
    expect(m.cpu.halted).toBe(true);
    expect([m.cpu.regs[EAX], m.cpu.regs[EBX]]).toEqual([2, 1]);
  });

  it('CR0.WP set by MOV CR0 applies to a page cached writable before', () => {
    const m = pagedGuest(`
        mov dword [0x201000 + 0x300 * 4], 0x150000 | ${P | US}   ; read-only
        mov dword [0x300000], 1             ; WP = 0: a supervisor write passes (and caches the page)
        mov eax, cr0
        or eax, 0x10000
        mov cr0, eax
        mov dword [0x300000], 2             ; faults: protection, write`);
    m.cpu.run(1000);
    expect(pfLog(m)).toEqual([{ cr2: 0x300000, error: 3 }]);
    // The handler remapped the page writable (identity) and the store restarted there.
    expect([dword(m, 0x150000), dword(m, 0x300000)]).toEqual([1, 2]);
  });
});
