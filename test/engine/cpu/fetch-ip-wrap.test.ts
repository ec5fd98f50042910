// 16-bit code fetches at IP: a 32-bit far JMP into a 16-bit code segment may leave EIP above 0xFFFF, and the
// decoder wraps each byte's offset at 64 KiB; the first byte's translation (page walk, accessed bit, #PF) must be for
// the same address. Found by the monitor's lockstep, where the emulated fetch and the run loop's fetch disagreed.
import { expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { encode, makeDescriptor, PAGING_PROLOGUE, PROGRAM_BASE, programFromSlots, TABLES, withPageTables } from '../../../engine/monitor/random-program';

it('a far JMP to 16-bit code with EIP above 0xFFFF fetches (and walks) at CS.base + IP', () => {
  const [lo, hi] = makeDescriptor(0x40000, 0xfffff, 0x9b, false); // 16-bit ring-0 code at 0x40000
  const image = withPageTables(
    programFromSlots([
      ...PAGING_PROLOGUE,
      encode.storeSs(TABLES.LDT + 0x18, lo),
      encode.storeSs(TABLES.LDT + 0x1c, hi),
      [0xea, ...encode.le32(0x12210), ...encode.le16(0x1c)], // jmp far 0x1c:0x12210 (LDT entry 3, RPL 0)
    ]),
  ).image;
  const m = new Machine({ memoryMB: 4 });
  m.load(image, { format: 'bin', loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' });
  while (m.cpu.segSel[1] !== 0x1c && m.cpu.icount < 10_000) m.step();
  expect(m.cpu.eip).toBe(0x12210);
  m.step(); // the instruction at 0x40000 + 0x2210 (zeros: add [bx+si], al)
  const pte = (page: number): number => m.mem.peek(TABLES.PAGE_TABLE + page * 4, 4);
  expect(pte(0x42) & 0x20).toBe(0x20); // walked: accessed
  expect(pte(0x52) & 0x20).toBe(0); // CS.base + EIP was never fetched
  expect(m.cpu.eip).toBe(0x2212);
});
