// The decoded-instruction cache (performance.md, "decode once"): decoded instructions by physical address, one list
// of 4 096 slots per page of RAM and decode mode (16- and 32-bit code decode the same bytes differently), filled by
// the fetch on a miss and emptied by stores into the bytes they were decoded from (self-modifying code), by the
// monitor's rescans and by the debugger's edits.
//
// What keeps a cached instruction right: its bytes are marked (code-bytes.ts) and its page flagged as code, so every
// store that changes one of them reaches `invalidate` (PhysicalMemory.onCodeStore), which drops it (and the blocks
// built from its page: drop-instructions.ts); instructions that straddle a page's end are kept apart (straddlers.ts).
// What the fetch checks every time: the CS limit over the whole instruction (SDM 3A §5.3) and the first byte's
// translation (paging, A20), which names the physical page to look in.
//
// The cache is the CPU's (one per Cpu, beside its code epoch, which a drop moves); the run loop reads `fetch` and
// `lastFetchCached` on its interpreter path.

import { PAGE_SHIFT, PF_CODE, type PhysicalMemory } from '../../bus/memory';
import { fault, R_GP_CS_LIMIT, VEC_GP } from '../faults';
import { ACCESS_FETCH } from '../protect/paging';
import { fastHandler } from '../ops/fast';
import { CS, type Cpu } from '../cpu';
import { decode } from './decoder';
import { Instr } from './instr';
import { CodeBytes } from './code-bytes';
import { Straddlers } from './straddlers';
import { BlockFreeLists, dropOverlapping } from './drop-instructions';

export class DecodeCache {
  /** Decoded instructions per physical page, one cache per decode mode (CS.D and not V86 picks 32). */
  readonly cache16: (Instr[] | undefined)[];
  readonly cache32: (Instr[] | undefined)[];
  /**
   * The bytes those instructions occupy, per decode mode: a store elsewhere in their page keeps them, and a store to
   * bytes only one mode decoded drops only that mode's instructions of the page (code-bytes.ts). GRUB's BIOS call
   * trampoline stores the registers into immediates of its own 16-bit code beside the kernel's 32-bit code.
   */
  private readonly codeBytes16: CodeBytes;
  private readonly codeBytes32: CodeBytes;
  /** Decoded instructions that straddle a page's end, per decode mode (straddlers.ts). */
  private readonly straddlers16: Straddlers;
  private readonly straddlers32: Straddlers;
  /** Which of those pages' instruction lists have no block, as last seen (a store beside code asks). */
  readonly blockFreeLists = new BlockFreeLists();
  /**
   * Whether the last `fetch` returned a cached instruction (one whose page is watched for stores): only those are
   * linked and remembered by the run loop.
   */
  lastFetchCached = false;
  private readonly cpu: Cpu;
  private readonly mem: PhysicalMemory;

  constructor(cpu: Cpu, mem: PhysicalMemory) {
    this.cpu = cpu;
    this.mem = mem;
    const pages = mem.size >>> PAGE_SHIFT;
    this.cache16 = new Array(pages);
    this.cache32 = new Array(pages);
    this.codeBytes16 = new CodeBytes(pages);
    this.codeBytes32 = new CodeBytes(pages);
    this.straddlers16 = new Straddlers(this.codeBytes16);
    this.straddlers32 = new Straddlers(this.codeBytes32);
    mem.onCodeStore = (addr, size) => this.invalidate(addr, size);
  }

  /** Reads the code byte at CS:offset for the decoder, with the CS limit check (SDM 3A §5.3). */
  private readonly fetchCodeByte = (offset: number): number => {
    const cpu = this.cpu;
    if (offset > cpu.segLimit[CS]) fault(VEC_GP, 0, R_GP_CS_LIMIT);
    return this.mem.read8(cpu.translate((cpu.segBase[CS] + offset) | 0, ACCESS_FETCH));
  };

  /** Returns the decoded instruction at CS:eip, decoding and caching it on a miss. */
  fetch(eip: number): Instr {
    const cpu = this.cpu;
    const code32 = cpu.code32;
    // 16-bit code fetches at IP: the decoder wraps every byte's offset at 64 KiB, so the first byte's translation
    // must too (an EIP above 0xFFFF, left by a 32-bit far JMP into 16-bit code, would otherwise walk another page).
    const phys = cpu.translate((cpu.segBase[CS] + (code32 ? eip : eip & 0xffff)) | 0, ACCESS_FETCH);
    const page = phys >>> PAGE_SHIFT;
    const cache = code32 ? this.cache32 : this.cache16;
    if (page < cache.length) {
      const list = cache[page];
      if (list !== undefined) {
        const i = list[phys & 0xfff];
        if (i !== undefined) {
          if (eip + i.len - 1 > cpu.segLimit[CS]) fault(VEC_GP, 0, R_GP_CS_LIMIT);
          this.lastFetchCached = true;
          return i;
        }
      }
    }
    const straddlers = code32 ? this.straddlers32 : this.straddlers16;
    const kept = cpu.sbeScan === null && page < cache.length ? this.keptStraddler(straddlers, eip, phys) : null;
    // A straddler is no cached instruction for the run loop (straddlers.ts): no link, no remembered target.
    this.lastFetchCached = false;
    if (kept !== null) return kept;
    const i = decode(this.fetchCodeByte, eip, code32, new Instr(), cpu.fastHandlers ? fastHandler : undefined);
    if (cpu.sbeScan !== null) cpu.sbeScan(i, page);
    if ((phys & 0xfff) + i.len > 0x1000) {
      if (cpu.sbeScan === null && page < cache.length) this.keepStraddler(straddlers, i, eip, phys);
      return i;
    }
    // Cache only instructions that lie within one page of RAM (a straddler has returned above) and are not beyond
    // the 16-bit IP wrap.
    if (page < cache.length && eip + i.len <= (code32 ? 0x100000000 : 0x10000)) {
      this.lastFetchCached = true;
      let list = cache[page];
      if (list === undefined) {
        list = new Array(0x1000);
        cache[page] = list;
        this.mem.pageFlags[page] |= PF_CODE;
        this.mem.flagsGeneration++;
      }
      list[phys & 0xfff] = i;
      (code32 ? this.codeBytes32 : this.codeBytes16).mark(phys, i.len);
    }
    return i;
  }

  /**
   * The kept instruction that straddles the page end at physical `phys` (CS:`eip`), when its tail's linear page
   * still translates to the page its tail was decoded from and the CS limit covers it (straddlers.ts); else null,
   * and the caller decodes, with the faults of the bytes' fetch order. The tail's translation is the fetch's.
   */
  private keptStraddler(straddlers: Straddlers, eip: number, phys: number): Instr | null {
    const s = straddlers.get(phys);
    // (16-bit code: only below the IP wrap, where no byte's offset wraps; see keepStraddler.)
    if (s === undefined || eip + s.i.len - 1 > this.cpu.segLimit[CS] || (!this.cpu.code32 && eip + s.i.len > 0x10000)) return null;
    return this.tailPage(eip, phys) === s.tail ? s.i : null;
  }

  /** The physical page of the next linear page's first byte, for an instruction at physical `phys` (CS:`eip`). */
  private tailPage(eip: number, phys: number): number {
    return this.cpu.translate((this.cpu.segBase[CS] + eip + 0x1000 - (phys & 0xfff)) | 0, ACCESS_FETCH) >>> PAGE_SHIFT;
  }

  /** Keeps `i`, just decoded at physical `phys` (CS:`eip`) across its page's end, when its tail is in RAM. */
  private keepStraddler(straddlers: Straddlers, i: Instr, eip: number, phys: number): void {
    // 16-bit code wraps IP at 64 KiB: a straddler across the wrap reads its tail elsewhere; it is not kept.
    if (eip + i.len > (this.cpu.code32 ? 0x100000000 : 0x10000)) return;
    const tail = this.tailPage(eip, phys);
    if (tail >= this.cache16.length) return;
    straddlers.add(i, phys, tail);
    this.mem.pageFlags[phys >>> PAGE_SHIFT] |= PF_CODE;
    this.mem.pageFlags[tail] |= PF_CODE;
    this.mem.flagsGeneration++;
  }

  /**
   * Drops decoded instructions on the pages a store touched (self-modifying code): a page whose decoded bytes the
   * store missed (data beside code) keeps them, and the code epoch moves only when something was dropped.
   */
  private invalidate(addr: number, size: number): void {
    const first = addr >>> PAGE_SHIFT;
    const last = (addr + size - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last && p < this.cache16.length; p++) {
      if (this.codeBytes16.touches(p, addr, size)) {
        this.cpu.codeEpoch++;
        this.dropStoredCode(this.cache16, this.codeBytes16, p, addr, size);
        this.straddlers16.stored(p, addr, size);
      }
      if (this.codeBytes32.touches(p, addr, size)) {
        this.cpu.codeEpoch++;
        this.dropStoredCode(this.cache32, this.codeBytes32, p, addr, size);
        this.straddlers32.stored(p, addr, size);
      }
      if (this.cache16[p] === undefined && this.cache32[p] === undefined && !this.straddlers16.has(p) && !this.straddlers32.has(p)) {
        this.mem.pageFlags[p] &= ~PF_CODE;
      }
    }
  }

  /**
   * Drops what a store of `size` bytes at `addr` changed of page `p`'s decoded instructions of one mode: the
   * instructions it overlaps, or the whole page when blocks were built from it (drop-instructions.ts).
   */
  private dropStoredCode(cache: (Instr[] | undefined)[], bytes: CodeBytes, p: number, addr: number, size: number): void {
    const list = cache[p];
    if (list !== undefined && !this.blockFreeLists.hasBlocks(list)) {
      const start = p << PAGE_SHIFT;
      dropOverlapping(list, bytes, p, Math.max(addr, start) - start, Math.min(addr + size, start + (1 << PAGE_SHIFT)) - start);
      return;
    }
    cache[p] = undefined;
    bytes.clear(p);
  }

  /** The decoded instructions of physical page `page` in the current decode mode. */
  page(page: number): Instr[] | undefined {
    return (this.cpu.code32 ? this.cache32 : this.cache16)[page];
  }

  /** Drops the decoded instructions (and the blocks built from them) of these physical pages only. */
  dropPages(pages: Iterable<number>): void {
    this.cpu.codeEpoch++;
    for (const p of pages) {
      if (p >= this.cache16.length) continue;
      this.cache16[p] = undefined;
      this.cache32[p] = undefined;
      this.straddlers16.dropPage(p);
      this.straddlers32.dropPage(p);
      this.mem.pageFlags[p] &= ~PF_CODE;
    }
  }

  /** Drops every decoded instruction (and the blocks built from them). */
  dropAll(): void {
    this.cpu.codeEpoch++;
    this.straddlers16.clear();
    this.straddlers32.clear();
    for (let p = 0; p < this.cache16.length; p++) {
      if (this.cache16[p] !== undefined || this.cache32[p] !== undefined) {
        this.cache16[p] = undefined;
        this.cache32[p] = undefined;
        this.codeBytes16.clear(p);
        this.codeBytes32.clear(p);
        this.mem.pageFlags[p] &= ~PF_CODE;
      }
    }
  }
}
