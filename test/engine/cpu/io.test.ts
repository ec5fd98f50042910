// IN/OUT, INS/OUTS, the I/O permission check (IOPL and the TSS bit map), CLI/STI privilege and the STI interrupt
// shadow (SDM vol. 2 IN, OUT, INS, OUTS, CLI, STI; vol. 1 §19.5).

import { describe, expect, it } from 'vitest';
import { AR_P, CR0_PE, TR } from '../../../engine/cpu/cpu';
import { IF, IOPL, VM } from '../../../engine/cpu/flags';
import { checkIoPermission } from '../../../engine/cpu/protect/io-permission';
import { flat32, realMode, type TestMachine } from './harness';
import { assemble, HAS_NASM, haltingVectors, recordExceptions, runAllowingUnbuiltDelivery, VECTOR_STUBS } from './move-fixtures';

const EAX = 0, ECX = 1, EDI = 7;

/** A port device that remembers every access and answers reads with a pattern. */
function recorder(m: TestMachine, port: number, count: number): { log: string[] } {
  const log: string[] = [];
  m.io.register(port, count, {
    wide: true,
    portIn: (p, size) => {
      log.push(`in ${p.toString(16)}/${size}`);
      return size === 4 ? 0x89abcdef : size === 2 ? 0xcdef : 0xef;
    },
    portOut: (p, v, size) => void log.push(`out ${p.toString(16)}/${size}=${v.toString(16)}`),
  });
  return { log };
}

const TSS_BASE = 0x30000;
const IO_MAP = 0x68;

/** Loads TR with a 32-bit TSS whose I/O map denies `denied` ports and ends at `limit`. */
function loadTss(m: TestMachine, denied: number[], limit = IO_MAP + 0x2000 / 8 + 1, type = 0xb): void {
  const map = new Uint8Array(0x2002);
  for (const p of denied) map[p >> 3] |= 1 << (p & 7);
  m.mem.load(TSS_BASE + IO_MAP, map);
  m.mem.load(TSS_BASE + 0x66, Uint8Array.from([IO_MAP, 0]));
  m.cpu.loadSegmentCache(TR, 0x28, TSS_BASE, limit, AR_P | type, true, 'loader');
}

function protectedAt(code: number[], cpl: number, iopl: number): TestMachine {
  const m = flat32(code);
  m.cpu.setEflags(0x2 | (iopl << 12));
  m.cpu.cpl = cpl;
  return m;
}

describe('IN and OUT', () => {
  it('immediate and DX port forms in every size', () => {
    const m = realMode([
      0xe4, 0x60, // in al, 0x60
      0x88, 0xc3, // mov bl, al
      0xba, 0x61, 0x00, // mov dx, 0x61
      0xed, // in ax, dx
      0x66, 0xe7, 0x62, // out 0x62, eax
      0xee, // out dx, al
      0x66, 0xed, // in eax, dx
      0xf4,
    ]);
    const { log } = recorder(m, 0x60, 4);
    m.cpu.regs[EAX] = 0x11223344;
    m.cpu.run(20);
    expect(log).toEqual(['in 60/1', 'in 61/2', 'out 62/4=1122cdef', 'out 61/1=ef', 'in 61/4']);
    expect(m.cpu.regs[3] & 0xff).toBe(0xef);
    expect(m.cpu.regs[EAX] >>> 0).toBe(0x89abcdef);
  });

  it('protected mode with CPL ≤ IOPL needs no TSS', () => {
    const m = protectedAt([0xe4, 0x60, 0xf4], 3, 3);
    const { log } = recorder(m, 0x60, 1);
    m.cpu.loadSegmentCache(TR, 0, 0, 0, 0, false, 'loader');
    m.cpu.run(5);
    expect(log).toEqual(['in 60/1']);
  });
});

describe('the I/O permission bit map (SDM 1 §19.5.2)', () => {
  // One instruction only: the HLT after it would itself fault at CPL 3.
  function attempt(code: number[], setup: (m: TestMachine) => void, cpl = 3, iopl = 0) {
    const m = protectedAt(code, cpl, iopl);
    const { log } = recorder(m, 0x80, 4);
    setup(m);
    const ex = recordExceptions(m);
    runAllowingUnbuiltDelivery(m, 1);
    return { m, log, ex };
  }
  const IN_AL_80 = [0xe4, 0x80, 0xf4];
  const IN_AX_80 = [0x66, 0xe5, 0x80, 0xf4];

  it('a clear bit allows the access at CPL > IOPL', () => {
    const { log, ex } = attempt(IN_AL_80, (m) => loadTss(m, [0x81]));
    expect(ex).toEqual([]);
    expect(log).toEqual(['in 80/1']);
  });

  it('a set bit for any byte of the access raises #GP(0) before the port is touched', () => {
    const { log, ex, m } = attempt(IN_AX_80, (m) => loadTss(m, [0x81]));
    expect(ex[0]).toMatchObject({ vector: 13, errorCode: 0, ruleId: 'io.bitmap.denied', eip: 0x10000 });
    expect(log).toEqual([]);
    expect(m.cpu.regs[EAX]).toBe(0);
  });

  it('map bytes beyond the TSS limit deny the access (two bytes are always read)', () => {
    // the map byte for port 0x80 is IO_MAP + 0x10; its pair ends at IO_MAP + 0x11
    expect(attempt(IN_AL_80, (m) => loadTss(m, [], IO_MAP + 0x10)).ex[0]?.ruleId).toBe('io.bitmap.beyond-limit');
    expect(attempt(IN_AL_80, (m) => loadTss(m, [], IO_MAP + 0x11)).ex).toEqual([]);
  });

  it('TR holding a 16-bit TSS denies the access', () => {
    expect(attempt(IN_AL_80, (m) => loadTss(m, [], undefined, 0x3)).ex[0]?.ruleId).toBe('io.bitmap.no-tss32');
  });

  it('virtual-8086 mode consults the map even with IOPL 3', () => {
    const m = realMode([0xe4, 0x80, 0xe4, 0x81, 0xf4]);
    const { log } = recorder(m, 0x80, 2);
    loadTss(m, [0x81]);
    m.cpu.cr0 |= CR0_PE;
    m.cpu.setEflags(VM | IOPL | 0x2);
    const ex = recordExceptions(m);
    runAllowingUnbuiltDelivery(m);
    expect(log).toEqual(['in 80/1']);
    expect(ex[0]).toMatchObject({ vector: 13, ruleId: 'io.bitmap.denied', eip: 0x1002 });
  });

  it('real mode never checks', () => {
    const m = realMode([]);
    m.cpu.loadSegmentCache(TR, 0, 0, 0, 0, false, 'loader');
    expect(() => checkIoPermission(m.cpu, 0x80, 4)).not.toThrow();
  });

  it('INS and OUTS are checked per port too, and a denied REP OUTSB moves nothing', () => {
    const m = protectedAt([0xba, 0x81, 0, 0, 0, 0xb9, 4, 0, 0, 0, 0xf3, 0x6e, 0xf4], 3, 0); // mov edx,0x81; mov ecx,4; rep outsb
    const { log } = recorder(m, 0x80, 2);
    loadTss(m, [0x81]);
    const ex = recordExceptions(m);
    runAllowingUnbuiltDelivery(m, 3);
    expect(log).toEqual([]);
    expect(ex[0]).toMatchObject({ vector: 13, eip: 0x1000a });
    expect(m.cpu.regs[ECX]).toBe(4);
  });
});

describe.skipIf(!HAS_NASM)('INS and OUTS', () => {
  it('REP OUTSB sends DS:SI bytes to port DX; REP INSW stores into ES:DI', () => {
    const m = realMode(assemble(`mov si, msg
      mov dx, 0xe9
      mov cx, 5
      rep outsb
      mov dx, 0x80
      mov di, 0x2000
      mov cx, 2
      rep insw
      hlt
    msg: db 'hello'`, 16, 0x1000));
    const { log } = recorder(m, 0x80, 1);
    m.cpu.run(100);
    expect(String.fromCharCode(...m.out)).toBe('hello');
    expect(log).toEqual(['in 80/2', 'in 80/2']);
    expect(m.mem.peek(0x2000, 4)).toBe(0xcdefcdef);
    expect(m.cpu.regs[EDI] & 0xffff).toBe(0x2004);
  });

  it('INS whose destination faults does not read the port', () => {
    const m = realMode(assemble(`mov dx, 0x80
      mov di, 0xffff
      insw
      hlt`, 16, 0x1000));
    haltingVectors(m);
    const { log } = recorder(m, 0x80, 1);
    const ex = recordExceptions(m);
    m.cpu.run(100);
    expect(ex[0]).toMatchObject({ vector: 13 });
    expect(log).toEqual([]);
  });
});

describe('CLI and STI', () => {
  it('real mode: both work; protected mode: CPL > IOPL raises #GP(0), CPL ≤ IOPL works', () => {
    const r = realMode([0xfb, 0xfa, 0xfb, 0xf4]);
    r.cpu.run(10);
    expect(r.cpu.getEflags() & IF).toBe(IF);
    for (const [cpl, iopl, ok] of [[3, 0, false], [3, 3, true], [1, 2, true], [2, 1, false]] as const) {
      for (const op of [0xfa, 0xfb]) {
        const m = protectedAt([op, 0xf4], cpl, iopl);
        const ex = recordExceptions(m);
        runAllowingUnbuiltDelivery(m, 1);
        if (ok) {
          expect(ex).toEqual([]);
          expect(m.cpu.getEflags() & IF).toBe(op === 0xfb ? IF : 0);
        } else {
          expect(ex[0]).toMatchObject({ vector: 13, errorCode: 0, eip: 0x10000 });
        }
      }
    }
  });

  it('virtual-8086 mode: IOPL < 3 raises #GP(0)', () => {
    const m = realMode([0xfa, 0xf4]);
    m.cpu.cr0 |= CR0_PE;
    m.cpu.setEflags(VM | 0x2000 | IF | 0x2);
    const ex = recordExceptions(m);
    runAllowingUnbuiltDelivery(m);
    expect(ex[0]).toMatchObject({ vector: 13, eip: 0x1000 });
  });

  it('STI that sets IF delays a pending interrupt until after the next instruction', () => {
    const m = realMode([0xfb, 0x41, 0x41, 0xf4]); // sti; inc cx; inc cx; hlt
    haltingVectors(m);
    m.cpu.acknowledgeInterrupt = () => 0x20;
    m.cpu.setIntrLine(true);
    m.cpu.run(10);
    expect(m.cpu.regs[ECX]).toBe(1);
    expect(m.cpu.eip).toBe(VECTOR_STUBS + 0x20 + 1);
    expect(m.mem.peek(m.cpu.sp, 2)).toBe(0x1002);
  });

  it('STI with IF already set opens no shadow', () => {
    const m = realMode([0xfb, 0x41, 0x41, 0xf4]);
    haltingVectors(m);
    m.cpu.setEflags(IF | 0x2);
    m.cpu.acknowledgeInterrupt = () => 0x20;
    m.cpu.run(1); // STI
    m.cpu.setIntrLine(true);
    m.cpu.run(10);
    expect(m.cpu.regs[ECX]).toBe(0);
    expect(m.mem.peek(m.cpu.sp, 2)).toBe(0x1001);
  });
});
