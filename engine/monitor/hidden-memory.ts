// The monitor's view of memory: its hidden region (read and written directly: these are the monitor's own
// accesses) and the guest's physical memory read as the guest's bus shows it (beyond RAM: the open bus, never the
// hidden region).

import type { PhysicalMemory } from '../bus/memory';

export class HiddenMemory {
  readonly bytes: Uint8Array;
  /** Physical address of the hidden region's first byte. */
  readonly base: number;
  /**
   * Linear address at which the CPU reaches it: `base` while the guest does not page (linear = physical), the
   * shadow tables' window while it does (shadow-paging.ts).
   */
  linear: number;

  constructor(readonly mem: PhysicalMemory, size: number) {
    this.base = mem.size;
    this.linear = this.base;
    if (mem.hidden === null || mem.hidden.length !== size) mem.hidden = new Uint8Array(size);
    this.bytes = mem.hidden;
  }

  read32(offset: number): number {
    const b = this.bytes;
    return (b[offset] | (b[offset + 1] << 8) | (b[offset + 2] << 16) | (b[offset + 3] << 24)) >>> 0;
  }

  write32(offset: number, v: number): void {
    const b = this.bytes;
    b[offset] = v & 0xff;
    b[offset + 1] = (v >>> 8) & 0xff;
    b[offset + 2] = (v >>> 16) & 0xff;
    b[offset + 3] = (v >>> 24) & 0xff;
  }

  write16(offset: number, v: number): void {
    this.bytes[offset] = v & 0xff;
    this.bytes[offset + 1] = (v >>> 8) & 0xff;
  }

  /** A guest physical byte as the guest's bus returns it (RAM, ROM, MMIO reads have no side effects here). */
  guestByte(phys: number): number {
    const mem = this.mem;
    if (phys < mem.size) return mem.u8[phys];
    const open = mem.hiddenData;
    mem.hiddenData = false;
    const v = mem.peek(phys, 1);
    mem.hiddenData = open;
    return v;
  }

  guest32(phys: number): number {
    return (this.guestByte(phys) | (this.guestByte(phys + 1) << 8) | (this.guestByte(phys + 2) << 16) | (this.guestByte(phys + 3) << 24)) >>> 0;
  }
}
