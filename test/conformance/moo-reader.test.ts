import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MooFormatError, readMoo } from '../../engine/conformance/moo-reader';
import { chunk, encodeMoo, VectorFile } from './moo-encoder';

const SHARED = join(__dirname, '..', '..', '..', 'shared', 'conformance');
const SST386 = join(SHARED, 'sst80386');

const sample16: VectorFile = {
  cpuId: 'C286',
  width: 16,
  tests: [
    {
      name: 'add al,bl',
      bytes: [0x00, 0xd8, 0xf4],
      initial: {
        regs: { ax: 0x1201, bx: 0x0002, cx: 3, dx: 4, cs: 0x100, ss: 0x200, ds: 0x300, es: 0x400, sp: 0x10, bp: 5, si: 6, di: 7, ip: 0x20, flags: 0x0002 },
        ram: [[0x1020, 0x00], [0x1021, 0xd8], [0x1022, 0xf4]],
      },
      final: { regs: { ax: 0x1203, ip: 0x23, flags: 0x0006 }, regMask: { flags: 0xffef } },
      extraChunks: [{ type: 'XTRA', payload: Uint8Array.of(1, 2, 3) }],
    },
  ],
};

describe('MOO reader', () => {
  it('reads what the encoder writes: registers by bitmask, RAM, register masks; skips unknown chunks', () => {
    const file = readMoo(encodeMoo(sample16));
    expect(file.cpuId).toBe('C286');
    expect(file.count).toBe(1);
    expect(file.meta?.testCount).toBe(1);
    const t = file.tests[0];
    expect(t.name).toBe('add al,bl');
    expect(Array.from(t.bytes)).toEqual([0x00, 0xd8, 0xf4]);
    expect(t.initial.regs?.width).toBe(16);
    expect(t.initial.regs?.values.get('ax')).toBe(0x1201);
    expect(t.initial.regs?.values.get('flags')).toBe(2);
    expect(t.initial.ram).toEqual([{ address: 0x1020, value: 0 }, { address: 0x1021, value: 0xd8 }, { address: 0x1022, value: 0xf4 }]);
    expect([...t.final.regs!.values.keys()]).toEqual(['ax', 'ip', 'flags']);
    expect(t.final.regMask?.values.get('flags')).toBe(0xffef);
    expect(t.hash).toMatch(/^[0-9a-f]{40}$/);
  });

  it('reads gzipped files the same as plain ones', () => {
    const plain = readMoo(encodeMoo(sample16));
    const gz = readMoo(encodeMoo({ ...sample16, gzip: true }));
    expect(gz.tests[0].hash).toBe(plain.tests[0].hash);
    expect(gz.tests[0].initial).toEqual(plain.tests[0].initial);
  });

  it('uses the header count, and rejects a file whose tests do not match it', () => {
    expect(() => readMoo(encodeMoo({ ...sample16, headerCount: 2 }))).toThrow(/announces 2 tests, the file holds 1/);
  });

  it('rejects non-MOO data, truncation and chunk lengths running past their parent', () => {
    expect(() => readMoo(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(MooFormatError);
    const bytes = encodeMoo(sample16);
    expect(() => readMoo(bytes.slice(0, bytes.length - 7))).toThrow(MooFormatError);
    const bad = chunk('MOO ', Uint8Array.of(1, 1, 0, 0, 1, 0, 0, 0, 0x33, 0x38, 0x36, 0x45));
    const overlong = new Uint8Array([...bad, ...chunk('TEST', Uint8Array.of(0, 0, 0, 0))]);
    overlong[bad.length + 4] = 0xff; // TEST length far beyond the file
    expect(() => readMoo(overlong)).toThrow(/claims 255 bytes/);
    expect(() => readMoo(Uint8Array.of(0x1f, 0x8b, 1, 2, 3))).toThrow(/corrupt gzip/);
  });

  it('reads 32-bit register chunks (RG32) with the 386 layout', () => {
    const file = readMoo(encodeMoo({
      cpuId: '386E', width: 32,
      tests: [{ name: 'nop', bytes: [0x90, 0xf4], initial: { regs: { cr0: 0x10, eax: 0xdeadbeef, eip: 0x100, eflags: 0xfffc0002 } }, final: { regs: { eip: 0x102 } } }],
    }));
    const r = file.tests[0].initial.regs!;
    expect(r.width).toBe(32);
    expect(r.values.get('eax')).toBe(0xdeadbeef);
    expect(r.values.get('eflags')).toBe(0xfffc0002);
    expect(r.values.has('ebx')).toBe(false);
  });
});

describe.skipIf(!existsSync(SST386))('MOO reader on the 80386 capture (../shared/conformance)', () => {
  it('matches example.json (decoded independently) for the tests it lists', () => {
    const file = readMoo(readFileSync(join(SST386, '00.MOO')));
    const example = JSON.parse(readFileSync(join(SST386, 'example.json'), 'utf8'));
    expect(file.version).toEqual({ major: 1, minor: 0 });
    expect(file.count).toBe(example.header.count);
    expect(file.cpuId).toBe(example.header.cpu);
    expect(file.meta?.mnemonic).toBe(example.meta.mnemonic);
    expect(file.meta?.testCount).toBe(example.meta.test_ct);
    expect(file.tests).toHaveLength(500);
    for (const ex of example.tests) {
      const t = file.tests[ex.idx];
      expect(t.index).toBe(ex.idx);
      expect(t.name).toBe(ex.name);
      expect(Array.from(t.bytes)).toEqual(ex.bytes);
      expect(Object.fromEntries(t.initial.regs!.values)).toEqual(ex.initial.regs);
      expect(Object.fromEntries(t.final.regs!.values)).toEqual(ex.final.regs);
      expect(t.initial.ram.map((e) => [e.address, e.value])).toEqual(ex.initial.ram);
      expect(t.final.ram.map((e) => [e.address, e.value])).toEqual(ex.final.ram);
      if (ex.initial.ea) {
        const segNames = ['CS', 'SS', 'DS', 'ES', 'FS', 'GS'];
        expect(segNames[t.initial.ea!.segment]).toBe(ex.initial.ea.seg);
        expect(t.initial.ea).toMatchObject({
          selector: ex.initial.ea.sel, base: ex.initial.ea.base, limit: ex.initial.ea.limit, offset: ex.initial.ea.offset,
          linear: ex.initial.ea.l_addr, physical: ex.initial.ea.p_addr,
        });
      }
      expect(t.cycleCount).toBe(ex.cycles.length);
      expect(t.hash).toBe(ex.hash);
      expect(t.exception).toEqual(ex.exception ? { vector: ex.exception.number, flagAddress: ex.exception.flag_address } : null);
    }
  });

  it('reads every 80286 file of the shared subset (gzipped, 60 tests each, header count)', () => {
    const dir = join(SHARED, 'sst80286', 'v1_real_mode');
    const file = readMoo(readFileSync(join(dir, '00.MOO.gz')));
    expect(file.cpuId).toBe('C286');
    expect(file.count).toBe(60);
    expect(file.tests[0].initial.regs?.width).toBe(16);
    // The BYTS chunk holds the instruction and the terminating HLT.
    expect(file.tests.every((t) => t.bytes[t.bytes.length - 1] === 0xf4)).toBe(true);
    expect(readMoo(gzipSync(readFileSync(join(SST386, '00.MOO')))).count).toBe(500);
  });
});
