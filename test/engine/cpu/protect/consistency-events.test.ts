import { describe, expect, it } from 'vitest';
import { DS, ES } from '../../../../engine/cpu/cpu';
import { PF_WATCH } from '../../../../engine/bus/memory';
import { loadSegment } from '../../../../engine/cpu/protect/segment-load';
import { flat32, GDT_BASE, realMode, type TestMachine } from '../harness';
import { gdtEntry } from './fault-helpers';

function record(m: TestMachine): string[] {
  const log: string[] = [];
  m.cpu.events.on('descriptor-write', (e) => log.push(`write ${e.table}[${e.index}] ${e.oldValue[0].toString(16)}:${e.oldValue[1].toString(16)} -> ${e.newValue[0].toString(16)}:${e.newValue[1].toString(16)}`));
  m.cpu.events.on('cache-inconsistent', (e) => log.push(`inconsistent ${e.reg} ${e.differs.join(',')} (${e.cause})`));
  m.cpu.events.on('cache-consistent', (e) => log.push(`consistent ${e.reg} (${e.cause})`));
  return log;
}

describe('descriptor-write and cache-(in)consistent events', () => {
  it('costs nothing without listeners: no page is watched', () => {
    const m = flat32([]);
    expect(m.mem.pageFlags[GDT_BASE >>> 12] & PF_WATCH).toBe(0);
    const off = m.cpu.events.on('cache-inconsistent', () => {});
    expect(m.mem.pageFlags[GDT_BASE >>> 12] & PF_WATCH).toBe(PF_WATCH);
    off();
    expect(m.mem.pageFlags[GDT_BASE >>> 12] & PF_WATCH).toBe(0);
  });

  it('a guest store into the GDT is reported, ES becomes inconsistent, a reload makes it consistent', () => {
    // mov word [GDT + 5*8 + 2], 0x2000 (base 15:0) ; mov ax, 0x28 ; mov es, ax ; hlt
    const entry = GDT_BASE + 5 * 8;
    const m = flat32([0x66, 0xc7, 0x05, ...le32(entry + 2), 0x00, 0x20, 0x66, 0xb8, 0x28, 0x00, 0x8e, 0xc0, 0xf4]);
    const sel = gdtEntry(m, 5, 0x1000, 0xffff, 0x3);
    loadSegment(m.cpu, ES, sel, 'mov');
    m.cpu.idtrBase = 0x800;
    m.cpu.idtrLimit = 0x7ff;
    const log = record(m);
    m.cpu.run(10);
    expect(m.cpu.halted).toBe(true);
    expect(log).toEqual([
      'write GDT[5] 1000ffff:409300 -> 2000ffff:409300',
      `inconsistent ${ES} base (descriptor-write)`,
      `consistent ${ES} (segment-load)`,
    ]);
  });

  it('a mode switch leaves stale caches: PE 1 → 0 reports DS and the others as inconsistent', () => {
    // mov eax,cr0 ; and eax,~1 ; mov cr0,eax ; hlt
    const m = flat32([0x0f, 0x20, 0xc0, 0x83, 0xe0, 0xfe, 0x0f, 0x22, 0xc0, 0xf4]);
    const log = record(m);
    m.cpu.run(10);
    expect(log).toContain(`inconsistent ${DS} base (mode-change)`);
    expect(log).toContain(`inconsistent ${ES} base (mode-change)`);
  });

  it('in real mode no table is in use: stores under the GDTR of reset or a GDT loaded there are not descriptor writes', () => {
    // push ax (the stack under the reset GDTR: base 0, limit 0xFFFF) ; mov word [0x600], 0x1234 ;
    // lgdt [0x3000] (a GDT at 0x6000) ; mov word [0x6010], 0 ; mov eax, cr0 ; or al, 1 ; mov cr0, eax ;
    // mov word [0x6012], 0x5555 ; hlt
    const m = realMode([
      0x50, 0xc7, 0x06, 0x00, 0x06, 0x34, 0x12, 0x0f, 0x01, 0x16, 0x00, 0x30, 0xc7, 0x06, 0x10, 0x60, 0x00, 0x00,
      0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0, 0xc7, 0x06, 0x12, 0x60, 0x55, 0x55, 0xf4,
    ]);
    expect([m.cpu.gdtrBase, m.cpu.gdtrLimit]).toEqual([0, 0xffff]);
    m.mem.write16(0x3000, 0x7f);
    m.mem.write32(0x3002, 0x6000);
    m.mem.load(0x6010, Uint8Array.from([0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0]));
    const log = record(m);
    m.cpu.run(20);
    expect(m.cpu.halted).toBe(true);
    // Only the store made after PE was set, into the table LGDT named.
    expect(log.filter((l) => l.startsWith('write'))).toEqual(['write GDT[2] 0:cf9300 -> 55550000:cf9300']);
  });

  it('LGDT moves the watch to the new table', () => {
    const m = flat32([0x0f, 0x01, 0x15, ...le32(0x3000), 0xc7, 0x05, ...le32(0x6000 + 0x10), 0, 0, 0, 0, 0xf4]);
    m.mem.load(0x6000, m.mem.readBytes(GDT_BASE, 0x80));
    m.mem.write16(0x3000, 0x7f);
    m.mem.write32(0x3002, 0x6000);
    const log = record(m);
    m.cpu.run(10);
    expect(m.mem.pageFlags[0x6000 >>> 12] & PF_WATCH).toBe(PF_WATCH);
    expect(log[0]).toBe('write GDT[2] ffff:cf9300 -> 0:cf9300');
  });
});

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

describe('overlapping tables', () => {
  it('a store covered by both the GDT and the IDT limit is reported once, for the GDT', () => {
    const m = flat32([0x66, 0xc7, 0x05, 0x2a, 0x05, 0x00, 0x00, 0x00, 0x20, 0xf4]); // mov word [0x52a], 0x2000
    m.cpu.idtrBase = 0;
    m.cpu.idtrLimit = 0xffff;
    const log = record(m);
    m.cpu.run(10);
    expect(log.filter((l) => l.startsWith('write'))).toEqual(['write GDT[5] 0:0 -> 20000000:0']);
  });

  // The CPU splits a linear store that crosses a page into bytes; a store made on the bus (a device, a 4-byte
  // write at a physical page boundary) reaches the tracker whole, and each byte is placed by its own page.
  function gdtAt(base: number): { m: TestMachine; log: string[] } {
    const m = flat32([0xf4]);
    m.mem.load(base, m.mem.readBytes(GDT_BASE, 0x80));
    m.cpu.gdtrBase = base;
    m.cpu.gdtrLimit = 0x7f;
    m.cpu.idtrBase = 0x800;
    m.cpu.idtrLimit = 0x7ff;
    return { m, log: record(m) };
  }

  it('a bus store that straddles into the GDT from a page without one is reported', () => {
    const { m, log } = gdtAt(0x6000);
    m.mem.write32(0x5ffe, 0x12345678);
    expect(log.filter((l) => l.startsWith('write'))).toEqual(['write GDT[0] 0:0 -> 1234:0']);
  });

  it('a bus store across the page boundary inside one entry is reported once, with all the bytes it replaced', () => {
    const { m, log } = gdtAt(0x5ffc);
    m.mem.write32(0x5ffe, 0x12345678);
    expect(log.filter((l) => l.startsWith('write'))).toEqual(['write GDT[0] 0:0 -> 56780000:1234']);
  });
});

describe('the pages watched', () => {
  it('a table above 2 GiB is watched by its own pages only (Linux keeps its GDT and IDT there)', () => {
    // Without paging, linear addresses past RAM map to no page: nothing of the GDT is watched, only the IDT's page.
    // The page walk once started from `base & ~0xfff`, a negative number above 2 GiB, and ran up to `base + limit`:
    // every page of RAM was watched, and every store of the guest went through the tracker.
    const m = flat32([0xf4]);
    m.cpu.gdtrBase = 0xc0001000 | 0;
    m.cpu.gdtrLimit = 0xff;
    m.cpu.idtrBase = 0x3000;
    m.cpu.idtrLimit = 0x7ff;
    record(m);
    const watched: number[] = [];
    for (let p = 0; p < m.mem.pageFlags.length; p++) if (m.mem.pageFlags[p] & PF_WATCH) watched.push(p);
    expect(watched).toEqual([3]);
  });

  it('stores beside a table in its page are not descriptor writes; its first and last bytes are', () => {
    const { m, log } = ((): { m: TestMachine; log: string[] } => {
      const m = flat32([0xf4]);
      m.cpu.idtrBase = 0x3100;
      m.cpu.idtrLimit = 0xff;
      return { m, log: record(m) };
    })();
    m.mem.write32(0x30fc, 0x11111111); // the four bytes before the IDT
    m.mem.write16(0x3200, 0x2222); // the two bytes after it
    m.mem.write8(0x3ffe, 0x33);
    expect(log).toEqual([]);
    m.mem.write8(0x3100, 0x44); // its first byte
    m.mem.write16(0x31ff, 0x5555); // its last byte and the one after
    expect(log).toEqual(['write IDT[0] 0:0 -> 44:0', 'write IDT[31] 0:0 -> 0:55000000']);
  });
});
