// Guest memory for running test vectors: PhysicalMemory that remembers every byte address the CPU stored to, so
// that the runner can return memory to all zeroes between tests without clearing 16 MiB each time (a test's RAM
// list covers what it reads; everything else must read as the same background for every test).

import { PhysicalMemory } from '../bus/memory';

export class RecordingMemory extends PhysicalMemory {
  private readonly touched = new Set<number>();

  override write8(addr: number, value: number): void {
    this.touched.add(addr);
    super.write8(addr, value);
  }

  override write16(addr: number, value: number): void {
    this.touched.add(addr);
    this.touched.add(addr + 1);
    super.write16(addr, value);
  }

  override write32(addr: number, value: number): void {
    for (let i = 0; i < 4; i++) this.touched.add(addr + i);
    super.write32(addr, value);
  }

  /** Zeroes every byte stored since the last call. */
  clearTouched(): void {
    for (const a of this.touched) if (a < this.size) this.u8[a] = 0;
    this.touched.clear();
  }
}
