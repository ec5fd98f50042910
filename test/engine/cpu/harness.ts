// Shared test harness for CPU tests: a CPU with memory and a port bus, code loaded at an address, and helpers to run
// it. Real mode by default (CS:IP = 0000:<load address>); `flat32` builds a GDT and enters 32-bit protected mode
// with flat segments at CPL 0 without running any guest code (the way a loader does).

import { PhysicalMemory } from '../../../engine/bus/memory';
import { IoBus } from '../../../engine/bus/io-bus';
import { Cpu, CS, DS, ES, FS, GS, SS, AR_P, AR_S, AR_DB, AR_G, CR0_PE, type CpuModelName } from '../../../engine/cpu/cpu';

export interface TestMachine {
  cpu: Cpu;
  mem: PhysicalMemory;
  io: IoBus;
  /** Bytes written to port 0xE9. */
  out: number[];
}

export function makeMachine(memBytes = 1 << 20, model?: CpuModelName): TestMachine {
  const mem = new PhysicalMemory(memBytes);
  const io = new IoBus();
  const out: number[] = [];
  io.register(0xe9, 1, { portIn: () => 0xe9, portOut: (_p, v) => void out.push(v & 0xff) });
  const cpu = new Cpu(mem, io, { model });
  return { cpu, mem, io, out };
}

/** Real-mode machine with `code` at `addr` (default 0x1000), CS:IP = 0:addr, SS:SP = 0:0x8000, DS=ES=0. */
export function realMode(code: number[] | Uint8Array, addr = 0x1000, model?: CpuModelName): TestMachine {
  const m = makeMachine(1 << 20, model);
  m.mem.load(addr, Uint8Array.from(code));
  for (const s of [ES, SS, DS, FS, GS]) m.cpu.setSegmentReal(s, 0);
  m.cpu.setSegmentReal(CS, 0);
  m.cpu.eip = addr;
  m.cpu.regs[4] = 0x8000;
  m.cpu.modeChanged();
  return m;
}

/** Writes an 8-byte segment descriptor into memory. `type` is the 4-bit type, with S=1 unless `system`. */
export function writeDescriptor(
  mem: PhysicalMemory,
  addr: number,
  base: number,
  limit: number,
  type: number,
  opts: { dpl?: number; present?: boolean; db?: boolean; g?: boolean; system?: boolean } = {},
): void {
  const dpl = opts.dpl ?? 0;
  const access = (opts.present === false ? 0 : 0x80) | (dpl << 5) | (opts.system ? 0 : 0x10) | (type & 0xf);
  const flags = (opts.g ? 0x8 : 0) | (opts.db ?? true ? 0x4 : 0);
  const b = new Uint8Array(8);
  b[0] = limit & 0xff;
  b[1] = (limit >> 8) & 0xff;
  b[2] = base & 0xff;
  b[3] = (base >> 8) & 0xff;
  b[4] = (base >> 16) & 0xff;
  b[5] = access;
  b[6] = (flags << 4) | ((limit >> 16) & 0xf);
  b[7] = (base >>> 24) & 0xff;
  mem.load(addr, b);
}

export const GDT_BASE = 0x500;
/** Selectors of the flat32 GDT. */
export const SEL_CODE32 = 0x08, SEL_DATA32 = 0x10, SEL_CODE16 = 0x18, SEL_DATA16 = 0x20;

/**
 * 32-bit protected mode, CPL 0, with a GDT at GDT_BASE: 0x08 flat code32, 0x10 flat data32, 0x18 code16 (base 0,
 * limit 0xFFFF), 0x20 data16 (base 0, limit 0xFFFF), entries 5–15 free for tests. Caches are loaded as a loader would.
 */
export function flat32(code: number[] | Uint8Array, addr = 0x10000, memBytes = 4 << 20, model?: CpuModelName): TestMachine {
  const m = makeMachine(memBytes, model);
  const { cpu, mem } = m;
  writeDescriptor(mem, GDT_BASE + 0x08, 0, 0xfffff, 0xb, { g: true });
  writeDescriptor(mem, GDT_BASE + 0x10, 0, 0xfffff, 0x3, { g: true });
  writeDescriptor(mem, GDT_BASE + 0x18, 0, 0xffff, 0xb, { db: false });
  writeDescriptor(mem, GDT_BASE + 0x20, 0, 0xffff, 0x3, { db: false });
  cpu.gdtrBase = GDT_BASE;
  cpu.gdtrLimit = 16 * 8 - 1;
  cpu.cr0 |= CR0_PE;
  const code32 = AR_P | AR_S | 0xb | AR_DB | AR_G;
  const data32 = AR_P | AR_S | 0x3 | AR_DB | AR_G;
  cpu.loadSegmentCache(CS, SEL_CODE32, 0, 0xffffffff, code32, true, 'loader');
  for (const s of [SS, DS, ES, FS, GS]) cpu.loadSegmentCache(s, SEL_DATA32, 0, 0xffffffff, data32, true, 'loader');
  cpu.cpl = 0;
  cpu.modeChanged();
  mem.load(addr, Uint8Array.from(code));
  cpu.eip = addr;
  cpu.regs[4] = 0x90000;
  return m;
}

/** Runs until HLT (or `max` instructions); returns the number retired. */
export function runToHalt(m: TestMachine, max = 10_000): number {
  return m.cpu.run(max);
}
