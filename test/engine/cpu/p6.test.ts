// The P6 integer additions on pentium-pro (engine/cpu/ops/p6.ts, protect/sysenter.ts): CMOVcc with every
// condition, size and operand kind, its memory operand faulting when the condition is false; the hint-NOP space
// 0F 18–0F 1F with every ModRM byte; RDPMC's CR4.PCE and counter rules; SYSENTER/SYSEXIT paths and faults; UD2 on
// every model; the disassembler's names. Absent-model #UD: cpu-models.test.ts.

import { describe, expect, it } from 'vitest';
import {
  AR_DB, AR_G, AR_P, AR_S, CR0_PE, CS, DS, EAX, ECX, EDX, ESP, SS, type CpuModelName,
} from '../../../engine/cpu/cpu';
import { VEC_GP, VEC_UD } from '../../../engine/cpu/faults';
import { IF, VM } from '../../../engine/cpu/flags';
import { disassembleOne } from '../../../engine/cpu/decode/disassemble';
import type { SegmentLoadEvent } from '../../../engine/events';
import { flat32, realMode, SEL_DATA16 } from './harness';
import { stepBytes } from './step-bytes';

const CF = 0x1, PF = 0x4, ZF = 0x40, SF = 0x80, OF = 0x800;

/** The condition codes spelt out from SDM 2 App. B Table B-1, independently of Cpu.condition. */
function holds(cc: number, f: number): boolean {
  const c = (f & CF) !== 0, p = (f & PF) !== 0, z = (f & ZF) !== 0, s = (f & SF) !== 0, o = (f & OF) !== 0;
  const base = [o, c, z, c || z, s, p, s !== o, z || s !== o][cc >> 1];
  return (cc & 1) === 0 ? base : !base;
}

describe('CMOVcc', () => {
  it('every condition, 16- and 32-bit, register and memory source, over flag combinations', () => {
    const flagSets = [0, CF, ZF, SF, OF, PF, CF | ZF, SF | OF, ZF | SF, OF | ZF | CF | PF | SF];
    for (let cc = 0; cc < 16; cc++) {
      for (const os16 of [false, true]) {
        for (const memory of [false, true]) {
          for (const f of flagSets) {
            const prefix = os16 ? [0x66] : [];
            // cmovcc edx, ecx  |  cmovcc edx, [0x3000]
            const bytes = memory ? [...prefix, 0x0f, 0x40 + cc, 0x15, 0x00, 0x30, 0x00, 0x00] : [...prefix, 0x0f, 0x40 + cc, 0xd1];
            const m = flat32([]);
            m.mem.write32(0x3000, 0x8badf00d | 0);
            m.cpu.regs[ECX] = 0x8badf00d | 0;
            m.cpu.regs[EDX] = 0x11223344;
            m.cpu.setEflags(f | 2);
            expect(stepBytes(m, bytes)).toBeNull();
            const moved = os16 ? 0x1122f00d : 0x8badf00d;
            expect(m.cpu.regs[EDX] >>> 0, `cmov cc=${cc} os16=${os16} mem=${memory} flags=${f}`).toBe(holds(cc, f) ? moved : 0x11223344);
            expect(m.cpu.getEflags() & (CF | PF | ZF | SF | OF)).toBe(f); // flags untouched
          }
        }
      }
    }
  });

  it('a memory source is read even when the condition is false: beyond the DS limit → #GP(0), the destination unchanged', () => {
    for (const [cc, flags] of [[0x4, 0], [0x5, ZF]] as const) {
      // cmove/cmovne eax, [0x20000] with DS limited to 64 KiB: the condition is false in both cases
      const m = flat32([]);
      m.cpu.loadSegmentCache(DS, SEL_DATA16, 0, 0xffff, AR_P | AR_S | 0x3, true, 'loader');
      m.cpu.regs[EAX] = 0x1234;
      m.cpu.setEflags(flags | 2);
      expect(stepBytes(m, [0x0f, 0x40 + cc, 0x05, 0x00, 0x00, 0x02, 0x00])).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'access.limit' });
      expect(m.cpu.regs[EAX]).toBe(0x1234);
    }
    // and through SS: #SS(0)
    const s = flat32([]);
    s.cpu.loadSegmentCache(SS, SEL_DATA16, 0, 0xffff, AR_P | AR_S | 0x3, true, 'loader');
    s.cpu.regs[ESP] = 0xfffe;
    s.cpu.setEflags(2); // ZF = 0: cmove is false
    expect(stepBytes(s, [0x0f, 0x44, 0x04, 0x24])?.vector).toBe(12); // cmove eax, [esp]: 4 bytes at 0xFFFE
  });

  it('with a register destination only: a LOCK prefix is #UD', () => {
    const m = flat32([]);
    expect(stepBytes(m, [0xf0, 0x0f, 0x44, 0x05, 0x00, 0x30, 0x00, 0x00])).toEqual({ vector: VEC_UD, errorCode: -1, rule: 'decode.lock' });
  });
});

/** Length of a ModRM operand's bytes (ModRM, SIB, displacement) by SDM 2 Tables 2-1 to 2-3, written out here. */
function modrmLength(modrm: number, sib: number, as32: boolean): number {
  const mod = modrm >> 6, rm = modrm & 7;
  if (mod === 3) return 1;
  if (!as32) return 1 + (mod === 1 ? 1 : mod === 2 ? 2 : rm === 6 ? 2 : 0);
  let n = 1;
  if (rm === 4) {
    n++;
    if (mod === 0 && (sib & 7) === 5) n += 4;
  }
  if (mod === 0 && rm === 5) n += 4;
  return n + (mod === 1 ? 1 : mod === 2 ? 4 : 0);
}

describe('the hint-NOP space 0F 18–0F 1F', () => {
  it('every opcode × every ModRM byte × 16/32-bit code and address size: nothing changes but EIP, no memory is touched', () => {
    let checked = 0;
    const m = flat32([], 0x10000, 1 << 20);
    // DS and SS limited to 16 bytes: any access through the operand would fault; registers point far away.
    m.cpu.loadSegmentCache(DS, SEL_DATA16, 0, 0xf, AR_P | AR_S | 0x3, true, 'loader');
    m.cpu.loadSegmentCache(SS, SEL_DATA16, 0, 0xf, AR_P | AR_S | 0x3, true, 'loader');
    for (let op = 0x18; op <= 0x1f; op++) {
      for (let modrm = 0; modrm < 256; modrm++) {
        for (const [as32, prefix] of [[true, []], [false, [0x67]]] as const) {
          for (const sib of [0x00, 0x25]) {
            if ((modrm & 7) !== 4 && sib !== 0) continue;
            m.cpu.eip = 0x10000;
            for (let r = 0; r < 8; r++) m.cpu.regs[r] = 0x7fff0000 + r * 0x100;
            const before = Array.from(m.cpu.regs);
            const flags = m.cpu.getEflags();
            const bytes = [...prefix, 0x0f, op, modrm, sib, 0xaa, 0xbb, 0xcc, 0xdd, 0xee];
            const raised = stepBytes(m, bytes);
            if (raised !== null) expect.fail(`0f ${op.toString(16)} ${modrm.toString(16)} raised ${raised.rule}`);
            if (m.cpu.eip - 0x10000 !== prefix.length + 2 + modrmLength(modrm, sib, as32)) expect.fail(`0f ${op.toString(16)} ${modrm.toString(16)}: length ${m.cpu.eip - 0x10000}`);
            expect(Array.from(m.cpu.regs)).toEqual(before);
            expect(m.cpu.getEflags()).toBe(flags);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(8 * (256 + 32) * 2); // 32 ModRM bytes have rm = 4 and get a second SIB
  });

  it('in 16-bit code too, with operand-size and REP prefixes (ENDBR32 = F3 0F 1E FB; 0F 1F /0 = NOP r/m)', () => {
    for (const bytes of [[0xf3, 0x0f, 0x1e, 0xfb], [0x0f, 0x1f, 0x00], [0x66, 0x0f, 0x1f, 0x44, 0x00], [0x0f, 0x1f, 0x80, 0x00, 0x00], [0x67, 0x0f, 0x1f, 0x44, 0x00, 0x00]]) {
      const m = realMode([]);
      const ip = m.cpu.eip;
      expect(stepBytes(m, bytes)).toBeNull();
      expect(m.cpu.eip - ip).toBe(bytes.length);
    }
  });

  it('the disassembler names them as NASM does', () => {
    const dis = (bytes: number[], d32 = true) => disassembleOne((o) => (o < bytes.length ? bytes[o] : -1), 0, d32).text;
    expect(dis([0xf3, 0x0f, 0x1e, 0xfb])).toBe('endbr32');
    expect(dis([0x0f, 0x1f, 0x44, 0x00, 0x00])).toBe('nop dword [eax+eax]');
    expect(dis([0x0f, 0x1f, 0x00])).toBe('nop dword [eax]');
    expect(dis([0x0f, 0x1e, 0xfb])).toBe('nop ebx, edi');
    expect(dis([0x0f, 0x44, 0xc1])).toBe('cmove eax, ecx');
    expect(dis([0x66, 0x0f, 0x4f, 0x06], true)).toBe('cmovg ax, [esi]');
    expect(dis([0x0f, 0x34])).toBe('sysenter');
    expect(dis([0x0f, 0x35])).toBe('sysexit');
    expect(dis([0x0f, 0x33])).toBe('rdpmc');
    expect(dis([0x0f, 0x0b])).toBe('ud2');
  });
});

describe('RDPMC', () => {
  it('CPL 0 reads counters 0 and 1; ECX ≥ 2 → #GP(0); CPL 3 needs CR4.PCE', () => {
    const m = flat32([]);
    m.cpu.regs[ECX] = 1;
    m.cpu.regs[EAX] = m.cpu.regs[EDX] = -1;
    expect(stepBytes(m, [0x0f, 0x33])).toBeNull();
    expect([m.cpu.regs[EAX], m.cpu.regs[EDX]]).toEqual([0, 0]);
    const bad = flat32([]);
    bad.cpu.regs[ECX] = 2;
    expect(stepBytes(bad, [0x0f, 0x33])).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'rdpmc.counter' });
    const user = flat32([]);
    user.cpu.cpl = 3;
    user.cpu.regs[ECX] = 0;
    expect(stepBytes(user, [0x0f, 0x33])).toEqual({ vector: VEC_GP, errorCode: 0, rule: 'rdpmc.pce' });
    const allowed = flat32([]);
    allowed.cpu.cpl = 3;
    allowed.cpu.cr4 = 0x100; // PCE
    allowed.cpu.regs[ECX] = 0;
    expect(stepBytes(allowed, [0x0f, 0x33])).toBeNull();
    // the PCE check comes first: CPL 3, PCE = 0, a bad counter → rdpmc.pce
    const order = flat32([]);
    order.cpu.cpl = 3;
    order.cpu.regs[ECX] = 7;
    expect(stepBytes(order, [0x0f, 0x33])?.rule).toBe('rdpmc.pce');
    // real mode is CPL 0
    const real = realMode([]);
    real.cpu.regs[ECX] = 0;
    expect(stepBytes(real, [0x0f, 0x33])).toBeNull();
  });
});

describe('SYSENTER and SYSEXIT', () => {
  const codeAr = (dpl: number) => AR_P | AR_S | 0xb | (dpl << 5) | AR_DB | AR_G;
  const dataAr = (dpl: number) => AR_P | AR_S | 0x3 | (dpl << 5) | AR_DB | AR_G;

  function withMsrs(cs = 0x08) {
    const m = flat32([]);
    m.cpu.sysenterCs = cs;
    m.cpu.sysenterEsp = 0x9000;
    m.cpu.sysenterEip = 0x20000;
    return m;
  }

  it('SYSEXIT to ring 3 and SYSENTER back: selectors from IA32_SYSENTER_CS, fixed flat caches, CPL, ESP, EIP, IF', () => {
    const m = withMsrs(0x0b); // RPL bits in the MSR: SYSENTER clears them; SYSEXIT adds 16/24 to the raw value, then ORs 3
    const loads: SegmentLoadEvent[] = [];
    m.cpu.events.on('segment-load', (e) => void loads.push(e));
    m.cpu.regs[ECX] = 0x7000;
    m.cpu.regs[EDX] = 0x30000;
    m.cpu.setEflags(IF | 2);
    expect(stepBytes(m, [0x0f, 0x35])).toBeNull(); // sysexit
    expect([m.cpu.segSel[CS], m.cpu.segSel[SS], m.cpu.cpl, m.cpu.regs[ESP], m.cpu.eip]).toEqual([0x1b, 0x23, 3, 0x7000, 0x30000]);
    expect([m.cpu.segBase[CS], m.cpu.segLimit[CS], m.cpu.segAr[CS]]).toEqual([0, 0xffffffff, codeAr(3)]);
    expect([m.cpu.segBase[SS], m.cpu.segLimit[SS], m.cpu.segAr[SS]]).toEqual([0, 0xffffffff, dataAr(3)]);
    expect(m.cpu.getEflags() & IF).toBe(IF); // SYSEXIT leaves EFLAGS alone
    expect(loads.map((e) => [e.reg, e.newSelector, e.cause])).toEqual([[CS, 0x1b, 'sysexit'], [SS, 0x23, 'sysexit']]);

    loads.length = 0;
    expect(stepBytes(m, [0x0f, 0x34])).toBeNull(); // sysenter, at CPL 3
    expect([m.cpu.segSel[CS], m.cpu.segSel[SS], m.cpu.cpl, m.cpu.regs[ESP], m.cpu.eip]).toEqual([0x08, 0x10, 0, 0x9000, 0x20000]);
    expect([m.cpu.segAr[CS], m.cpu.segAr[SS]]).toEqual([codeAr(0), dataAr(0)]);
    expect(m.cpu.getEflags() & IF).toBe(0);
    expect(loads.map((e) => [e.reg, e.newSelector, e.cause])).toEqual([[CS, 0x08, 'sysenter'], [SS, 0x10, 'sysenter']]);
  });

  it('SYSENTER from virtual-8086 mode clears VM and enters protected mode at CPL 0', () => {
    const m = withMsrs();
    m.cpu.setEflags(VM | IF | 2);
    m.cpu.setSegmentReal(CS, 0x1000);
    m.cpu.eip = 0;
    const modes: string[] = [];
    m.cpu.events.on('mode-change', (e) => void modes.push(`${e.from}->${e.to}`));
    expect(m.cpu.mode).toBe('v86');
    expect(stepBytes(m, [0x0f, 0x34])).toBeNull();
    expect([m.cpu.mode, m.cpu.cpl, m.cpu.getEflags() & (VM | IF), m.cpu.eip]).toEqual(['protected', 0, 0, 0x20000]);
    expect(modes).toEqual(['v86->protected']);
  });

  it('the #GP(0) cases, each with its rule; nothing changes', () => {
    const cases: [string, () => ReturnType<typeof withMsrs>, number[], string][] = [
      ['SYSENTER_CS = 0', () => withMsrs(0), [0x0f, 0x34], 'sysenter.cs-null'],
      ['SYSENTER_CS = 3 (index and TI zero)', () => withMsrs(3), [0x0f, 0x34], 'sysenter.cs-null'],
      ['SYSEXIT with SYSENTER_CS = 0', () => withMsrs(0), [0x0f, 0x35], 'sysexit.cs-null'],
      ['SYSEXIT at CPL 3', () => { const m = withMsrs(); m.cpu.cpl = 3; return m; }, [0x0f, 0x35], 'sysexit.cpl-not-0'],
      ['SYSEXIT in V86 mode', () => { const m = withMsrs(); m.cpu.setEflags(VM | 2); m.cpu.setSegmentReal(CS, 0x1000); m.cpu.eip = 0; return m; }, [0x0f, 0x35], 'sysexit.cpl-not-0'],
    ];
    for (const [what, make, bytes, ruleId] of cases) {
      const m = make();
      const cs = m.cpu.segSel[CS];
      expect(stepBytes(m, bytes), what).toEqual({ vector: VEC_GP, errorCode: 0, rule: ruleId });
      expect(m.cpu.segSel[CS], what).toBe(cs);
    }
    for (const bytes of [[0x0f, 0x34], [0x0f, 0x35]]) {
      const r = realMode([]);
      r.cpu.sysenterCs = 0x08;
      expect(stepBytes(r, bytes)?.rule).toBe(bytes[1] === 0x34 ? 'sysenter.real-mode' : 'sysexit.real-mode');
      expect(r.cpu.cr0 & CR0_PE).toBe(0);
    }
  });
});

describe('UD2', () => {
  it('raises #UD with its own rule on every model', () => {
    for (const model of ['386', '486sx', '486dx', 'pentium', 'pentium-pro'] as CpuModelName[]) {
      const m = flat32([], 0x10000, 4 << 20, model);
      expect(stepBytes(m, [0x0f, 0x0b]), model).toEqual({ vector: VEC_UD, errorCode: -1, rule: 'ud2' });
    }
  });
});
