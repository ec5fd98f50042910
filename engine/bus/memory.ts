// Physical memory of the guest machine.
//
// RAM is one ArrayBuffer seen through 8-, 16- and 32-bit views. Aligned accesses use the wide views, unaligned ones
// go byte by byte. Addresses beyond installed RAM read 0xFF and ignore writes (an open bus), except where a ROM
// image or a memory-mapped device claims them. The guest can never reach host memory outside these arrays.
//
// Each 4 KiB page of RAM has a flag byte. The store path tests it once; a zero byte means "plain RAM" and the store
// goes straight to the array. Non-zero pages take the slow path: ROM (store dropped), code (decoded instructions on
// the page are dropped so self-modifying code is seen), watched (descriptor tables: the store is reported after it
// is done) and MMIO (handled by a device). The load path tests the flags of PF_LOAD_SLOW only: MMIO (a device
// answers) and read-watched (the debugger is told of the load before it is done).

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** Page flag: decoded instructions exist on this page; a store must invalidate them. */
export const PF_CODE = 1;
/** Page flag: a listener watches stores to this page (descriptor tables, monitor write protection). */
export const PF_WATCH = 2;
/** Page flag: read-only memory; stores are dropped. */
export const PF_ROM = 4;
/** Page flag: memory-mapped device; loads and stores go to its handler. */
export const PF_MMIO = 8;
/** Page flag: a listener watches loads from this page (the debugger's read watches, through bus/load-watch.ts). */
export const PF_READ_WATCH = 16;
/**
 * The page flags that send a load off the fast path, in the memory's load methods, in translated blocks' inline
 * loads (jit/emitter.ts) and in the REP MOVS block copy's source (ops/string.ts).
 */
export const PF_LOAD_SLOW = PF_MMIO | PF_READ_WATCH;

/** Bytes past the page flags kept for the wasm blocks' state (registers, flags, exit): jit/wasm/state.ts. */
export const STATE_BYTES = 256;

/**
 * Bytes of one area past the state area kept for a TLB's entries (protect/tlb.ts: one int32 per linear page), so
 * wasm blocks translate linear addresses with the TLB the interpreter fills and flushes (jit/wasm/gen.ts checkAccess).
 */
export const TLB_BYTES = (1 << 20) * 4;

/** TLB entries' areas in the wasm memory: the CPU's TLB and the monitor's real TLB (claimTlbEntries). */
export const TLB_AREAS = 2;

/** Bytes past the TLB entries kept for linking wasm blocks to each other (jit/wasm/link.ts LINK_BYTES). */
export const LINK_AREA_BYTES = 0x24_0000;

export interface MmioHandler {
  read8(addr: number): number;
  write8(addr: number, value: number): void;
  /**
   * Aligned dword accesses, for devices whose registers are 32 bits wide (the APICs: a dword store to EOI must be
   * one write, not four byte writes). Without them a dword access is four byte accesses.
   */
  read32?(addr: number): number;
  write32?(addr: number, value: number): void;
}

/** A device mapped above installed RAM (the APICs below 4 GiB, a framebuffer in the PCI hole). */
interface HighMmio {
  start: number;
  end: number;
  handler: MmioHandler;
}

/** Called after a store to a page with PF_CODE set (addr is the first byte stored, size its width). */
export type StoreListener = (addr: number, size: number) => void;

export class PhysicalMemory {
  /** Installed RAM in bytes (a multiple of 4 KiB). */
  readonly size: number;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  /** One flag byte per 4 KiB page of RAM (PF_*). */
  readonly pageFlags: Uint8Array;
  /**
   * Moves whenever a page gains a flag (ROM, MMIO, a watch, code), so translated code that tested a page's flags
   * once for many accesses (jit/emitter.ts, "Hoisted checks") knows when to test again.
   */
  flagsGeneration = 0;

  /** Set by the CPU's decode cache: told of stores to PF_CODE pages. */
  onCodeStore: StoreListener | null = null;
  /**
   * Told of stores to PF_WATCH pages. Installed by the shared dispatcher (store-watch.ts): watchers subscribe there
   * rather than set this hook or the PF_WATCH bit themselves.
   */
  onWatchedStore: ((addr: number, size: number, oldValue: number, newValue: number) => void) | null = null;
  /**
   * Told of a load (first byte, width) that touches a PF_READ_WATCH page, before it is done. Installed by the load
   * dispatcher (load-watch.ts), as onWatchedStore is by the store dispatcher.
   */
  onWatchedLoad: ((addr: number, size: number) => void) | null = null;

  /**
   * The monitor's hidden region (engine/monitor/): bytes just above installed RAM at physical address `size`, which
   * the guest's own accesses never reach — they see the open bus there, as on a bare machine. System accesses
   * (descriptor tables, IDT, TSS: readSystem8/writeSystem8) reach it while `hiddenSystem` is set (the monitor's
   * tables are installed in the CPU); every access reaches it while `hiddenData` is set (the monitor's own
   * operations at CPL 0). Null when no monitor is attached: then nothing changes.
   */
  hidden: Uint8Array | null = null;
  hiddenSystem = false;
  hiddenData = false;

  /** The memory holding RAM and the page flags, which translated wasm blocks import (jit/wasm/). */
  readonly wasm: WebAssembly.Memory;
  /** Byte offset of the wasm blocks' state area, past RAM and the page flags. */
  readonly stateOffset: number;
  /** Byte offset of the TLB entries' areas (TLB_AREAS of them), past the state area (claimTlbEntries). */
  readonly tlbOffset: number;
  /** Byte offset of the wasm blocks' link area, past the TLB entries' areas (jit/wasm/link.ts). */
  readonly linkOffset: number;
  private tlbAreasClaimed = 0;

  private readonly mmio = new Map<number, MmioHandler>();
  private readonly highMmio: HighMmio[] = [];
  /** ROM images mapped above installed RAM, e.g. the BIOS alias just below 4 GiB. */
  private readonly highRoms: { start: number; bytes: Uint8Array }[] = [];

  constructor(sizeBytes: number) {
    if (!Number.isInteger(sizeBytes) || sizeBytes < PAGE_SIZE || sizeBytes > 0xC000_0000) {
      throw new RangeError(`memory size must be between 4 KiB and 3 GiB, got ${sizeBytes}`);
    }
    this.size = Math.ceil(sizeBytes / PAGE_SIZE) * PAGE_SIZE;
    // RAM, then the page flags, then the state area of WebAssembly blocks (jit/wasm/state.ts), in one
    // WebAssembly.Memory that translated wasm code imports; the views cover RAM only, so `size` and every range
    // test stay the guest's.
    const flagBytes = this.size >>> PAGE_SHIFT;
    this.stateOffset = Math.ceil((this.size + flagBytes) / 64) * 64; // (not `& ~63`: sizes reach 3 GiB, past int32)
    this.tlbOffset = this.stateOffset + STATE_BYTES;
    this.linkOffset = this.tlbOffset + TLB_AREAS * TLB_BYTES;
    this.wasm = new WebAssembly.Memory({ initial: Math.ceil((this.linkOffset + LINK_AREA_BYTES) / 65536) });
    const buf = this.wasm.buffer;
    this.u8 = new Uint8Array(buf, 0, this.size);
    this.u16 = new Uint16Array(buf, 0, this.size >>> 1);
    this.i32 = new Int32Array(buf, 0, this.size >>> 2);
    this.pageFlags = new Uint8Array(buf, this.size, flagBytes);
  }

  /**
   * A TLB entries' area as an Int32Array: the first for the first CPU that asks (the one whose registers the state
   * area holds), the second for the monitor's real TLB, which that CPU uses while it walks the shadow tables
   * (monitor/shadow-paging.ts); null after that, so no two TLBs share an area. A TLB outside the wasm memory works
   * the same, only wasm blocks do not translate through it.
   */
  claimTlbEntries(): Int32Array | null {
    if (this.tlbAreasClaimed === TLB_AREAS) return null;
    const offset = this.tlbOffset + this.tlbAreasClaimed++ * TLB_BYTES;
    return new Int32Array(this.wasm.buffer, offset, TLB_BYTES >>> 2);
  }

  // ---- guest accesses (physical addresses, already A20-masked and translated) ----

  read8(addr: number): number {
    if (addr < this.size && (this.pageFlags[addr >>> PAGE_SHIFT] & PF_LOAD_SLOW) === 0) return this.u8[addr];
    if (this.onWatchedLoad !== null) this.loadWatched(addr, 1);
    return this.slowRead8(addr);
  }

  read16(addr: number): number {
    if ((addr & 1) === 0 && addr + 1 < this.size && (this.pageFlags[addr >>> PAGE_SHIFT] & PF_LOAD_SLOW) === 0) {
      return this.u16[addr >>> 1];
    }
    if (this.onWatchedLoad !== null) this.loadWatched(addr, 2);
    return this.unwatchedRead16(addr);
  }

  /** Returns the 32-bit value as a signed int (callers use `>>> 0` when they need it unsigned). */
  read32(addr: number): number {
    if ((addr & 3) === 0 && addr + 3 < this.size && (this.pageFlags[addr >>> PAGE_SHIFT] & PF_LOAD_SLOW) === 0) {
      return this.i32[addr >>> 2];
    }
    if (this.onWatchedLoad !== null) this.loadWatched(addr, 4);
    if (this.hiddenData) {
      const h = this.hiddenWord(addr);
      if (h >= 0) return this.hidden![h] | (this.hidden![h + 1] << 8) | (this.hidden![h + 2] << 16) | (this.hidden![h + 3] << 24);
    }
    if ((addr & 3) === 0) {
      const h = this.mmioAt(addr);
      if (h?.read32) return h.read32(addr) | 0;
    }
    return this.unwatchedRead16(addr) | (this.unwatchedRead16((addr + 2) >>> 0) << 16);
  }

  /**
   * The parts of a wider load that was reported whole (or on no watched page): read16 and read8 without telling
   * the load hook again, so a watch sees the guest's access once, with its own address and width.
   */
  private unwatchedRead16(addr: number): number {
    if ((addr & 1) === 0 && addr + 1 < this.size && (this.pageFlags[addr >>> PAGE_SHIFT] & PF_MMIO) === 0) {
      return this.u16[addr >>> 1];
    }
    return this.unwatchedRead8(addr) | (this.unwatchedRead8((addr + 1) >>> 0) << 8);
  }

  private unwatchedRead8(addr: number): number {
    if (addr < this.size && (this.pageFlags[addr >>> PAGE_SHIFT] & PF_MMIO) === 0) return this.u8[addr];
    return this.slowRead8(addr);
  }

  /** Tells the load hook of a load whose first or last byte lies on a PF_READ_WATCH page. */
  private loadWatched(addr: number, size: number): void {
    const flags = this.pageFlags;
    const first = addr >>> PAGE_SHIFT;
    const last = (addr + size - 1) >>> PAGE_SHIFT;
    if ((first < flags.length && (flags[first] & PF_READ_WATCH) !== 0) || (last < flags.length && (flags[last] & PF_READ_WATCH) !== 0)) {
      this.onWatchedLoad!(addr, size);
    }
  }

  /**
   * Offset in the hidden region of a 4-byte access at `addr` lying wholly inside it, else -1: the monitor's own
   * accesses (its stack, frames, tables) take this short path instead of four trips through the slow byte path.
   */
  private hiddenWord(addr: number): number {
    const off = addr - this.size;
    return off >= 0 && this.hidden !== null && off + 3 < this.hidden.length ? off : -1;
  }

  write8(addr: number, value: number): void {
    if (addr < this.size && this.pageFlags[addr >>> PAGE_SHIFT] === 0) {
      this.u8[addr] = value;
      return;
    }
    this.slowWrite(addr, value & 0xff, 1);
  }

  write16(addr: number, value: number): void {
    if ((addr & 1) === 0 && addr + 1 < this.size && this.pageFlags[addr >>> PAGE_SHIFT] === 0) {
      this.u16[addr >>> 1] = value;
      return;
    }
    this.slowWrite(addr, value & 0xffff, 2);
  }

  write32(addr: number, value: number): void {
    if ((addr & 3) === 0 && addr + 3 < this.size && this.pageFlags[addr >>> PAGE_SHIFT] === 0) {
      this.i32[addr >>> 2] = value;
      return;
    }
    if (this.hiddenData) {
      const h = this.hiddenWord(addr);
      if (h >= 0) {
        const b = this.hidden!;
        b[h] = value;
        b[h + 1] = value >>> 8;
        b[h + 2] = value >>> 16;
        b[h + 3] = value >>> 24;
        return;
      }
    }
    if ((addr & 3) === 0) {
      const h = this.mmioAt(addr);
      if (h?.write32) return h.write32(addr, value >>> 0);
    }
    this.slowWrite(addr, value >>> 0, 4);
  }

  /** The device mapped at `addr`, if any (below RAM's top through the page flags, above it through the list). */
  private mmioAt(addr: number): MmioHandler | undefined {
    if (addr < this.size) {
      return (this.pageFlags[addr >>> PAGE_SHIFT] & PF_MMIO) !== 0 ? this.mmio.get(addr >>> PAGE_SHIFT) : undefined;
    }
    for (const r of this.highMmio) if (addr >= r.start && addr < r.end) return r.handler;
    return undefined;
  }

  /** A CPU system access (descriptor table, IDT, TSS): as read8, but may reach the monitor's hidden region. */
  readSystem8(addr: number): number {
    if (addr >= this.size && this.hiddenSystem && this.hidden !== null && addr - this.size < this.hidden.length) {
      return this.hidden[addr - this.size];
    }
    return this.read8(addr);
  }

  readSystem32(addr: number): number {
    if (addr + 3 < this.size) return this.read32(addr);
    if (this.hiddenSystem) {
      const h = this.hiddenWord(addr);
      if (h >= 0) return this.hidden![h] | (this.hidden![h + 1] << 8) | (this.hidden![h + 2] << 16) | (this.hidden![h + 3] << 24);
    }
    return (this.readSystem8(addr) | (this.readSystem8(addr + 1) << 8) | (this.readSystem8(addr + 2) << 16) | (this.readSystem8(addr + 3) << 24)) | 0;
  }

  writeSystem8(addr: number, value: number): void {
    if (addr >= this.size && this.hiddenSystem && this.hidden !== null && addr - this.size < this.hidden.length) {
      this.hidden[addr - this.size] = value;
      return;
    }
    this.write8(addr, value);
  }

  // ---- slow paths ----

  private slowRead8(addr: number): number {
    if (addr < this.size) {
      const h = this.mmio.get(addr >>> PAGE_SHIFT);
      return h ? h.read8(addr) & 0xff : this.u8[addr];
    }
    if (this.hiddenData && this.hidden !== null && addr - this.size < this.hidden.length) return this.hidden[addr - this.size];
    for (const r of this.highMmio) if (addr >= r.start && addr < r.end) return r.handler.read8(addr) & 0xff;
    for (const r of this.highRoms) {
      const off = addr - r.start;
      if (off >= 0 && off < r.bytes.length) return r.bytes[off];
    }
    return 0xff; // open bus above installed memory
  }

  private slowWrite(addr: number, value: number, size: number): void {
    // A store that straddles pages or touches flagged pages is done byte by byte so each byte gets its page's rule.
    const first = addr >>> PAGE_SHIFT;
    const last = (addr + size - 1) >>> PAGE_SHIFT;
    let flags = 0;
    for (let p = first; p <= last; p++) flags |= p < this.pageFlags.length ? this.pageFlags[p] : PF_ROM;
    const watched = (flags & PF_WATCH) !== 0 && this.onWatchedStore !== null;
    const old = watched ? this.peek(addr, size) : 0;
    for (let i = 0; i < size; i++) {
      const a = addr + i;
      const b = (value >>> (8 * i)) & 0xff;
      if (a >= this.size) {
        // Open bus (or high ROM): dropped — unless the monitor's own operation stores to its hidden region.
        if (this.hiddenData && this.hidden !== null && a - this.size < this.hidden.length) this.hidden[a - this.size] = b;
        else this.mmioAt(a)?.write8(a, b);
        continue;
      }
      const pf = this.pageFlags[a >>> PAGE_SHIFT];
      if (pf & PF_ROM) continue;
      if (pf & PF_MMIO) {
        this.mmio.get(a >>> PAGE_SHIFT)?.write8(a, b);
        continue;
      }
      this.u8[a] = b;
    }
    if ((flags & PF_CODE) !== 0 && this.onCodeStore !== null) this.onCodeStore(addr, size);
    if (watched) this.onWatchedStore!(addr, size, old, value);
  }

  // ---- host-side access (loaders, debugger, tests): bypasses ROM protection and never reports events ----

  /** Reads `size` bytes (1, 2 or 4) little-endian without side effects; unsigned result. */
  peek(addr: number, size: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.slowRead8Raw(addr + i);
    return v;
  }

  private slowRead8Raw(addr: number): number {
    if (addr < this.size) return this.u8[addr];
    return this.slowRead8(addr);
  }

  /** Copies host bytes into RAM (ignoring ROM flags); bytes beyond installed RAM are an error. */
  load(addr: number, bytes: Uint8Array): void {
    if (addr < 0 || addr + bytes.length > this.size) {
      throw new RangeError(
        `image of ${bytes.length} bytes at 0x${addr.toString(16)} does not fit in ${this.size >>> 20} MiB of memory`,
      );
    }
    this.u8.set(bytes, addr);
    if (this.onCodeStore) this.onCodeStore(addr, bytes.length);
  }

  /** Copies guest bytes out (bytes beyond RAM read as the bus would). */
  readBytes(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.slowRead8Raw(addr + i);
    return out;
  }

  /** Maps a ROM image: copied into RAM at `addr` (if below the top of RAM) and write-protected. */
  mapRom(addr: number, bytes: Uint8Array): void {
    if (addr >= this.size) {
      this.highRoms.push({ start: addr, bytes });
      return;
    }
    this.load(addr, bytes);
    for (let p = addr >>> PAGE_SHIFT; p <= (addr + bytes.length - 1) >>> PAGE_SHIFT; p++) this.pageFlags[p] |= PF_ROM;
    this.flagsGeneration++;
  }

  /**
   * Maps a device over whole pages of the physical address space: below the top of RAM it covers those pages of
   * RAM; above it (the APICs, a framebuffer) it answers where the bus would float.
   */
  mapMmio(addr: number, length: number, handler: MmioHandler): void {
    if (addr >= this.size) {
      this.highMmio.push({ start: addr, end: addr + length, handler });
      return;
    }
    for (let p = addr >>> PAGE_SHIFT; p <= (addr + length - 1) >>> PAGE_SHIFT; p++) {
      if (p >= this.pageFlags.length) throw new RangeError('an MMIO range must lie wholly below or wholly above the top of RAM');
      this.mmio.set(p, handler);
      this.pageFlags[p] |= PF_MMIO;
    }
    this.flagsGeneration++;
  }

  setPageFlag(page: number, flag: number, on: boolean): void {
    if (page < 0 || page >= this.pageFlags.length) return;
    if (on) {
      this.pageFlags[page] |= flag;
      this.flagsGeneration++;
    } else this.pageFlags[page] &= ~flag;
  }
}
