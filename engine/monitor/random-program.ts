// Random protected-mode programs for the lockstep harness (model.md §4): a fixed runtime (random/runtime.asm: GDT,
// IDT, TSS, LDT, handlers that resume at the next slot) and a generated body of 16-byte slots, each one random
// instruction or short sequence: ALU work, memory through DS/ES/FS/GS, segment loads with good and garbage
// selectors, descriptor rewrites in the GDT and LDT (also through data segments), LGDT between two tables, LLDT,
// ring switches both ways, and the sensitive instructions (SGDT, SIDT, SLDT, STR, SMSW, PUSHF/POPF, LAR, LSL,
// VERR, VERW, MOV from and PUSH of segment registers, far JMP/CALL/RET, IRET, CPUID, INT1, CLI/STI, IN/OUT), and
// the P6 system instructions (WRMSR/RDMSR of the SYSENTER MSRs and others, SYSENTER, SYSEXIT, RDPMC).
// With `paging`, the program turns paging on first (page directory and table in the image, identity-mapped, a
// 4 MiB alias and a second alias through the same table) and its slots also rewrite page-table and directory
// entries (rights, frames, frames beyond RAM, the top slot where the monitor keeps its window), invalidate with
// INVLPG and CR3 loads, toggle CR0.WP/PG and CR4.PSE/PGE, and read and write the paged data pages (and their
// entries, so accessed and dirty bits are compared) from both rings. A share of the slots drives the PC's devices
// (random/device-slots.ts): the PIT, port 0x61, the PIC, the RTC, the UART and the keyboard controller, with poll
// loops, and interrupts taken in either ring.

import { RUNTIME_BASE64 } from './random/runtime-image';
import { deviceSlot } from './random/device-slots';

export const PROGRAM_BASE = 0x10000;
export const BODY = 0x12000;
const SLOT = 16;
const GDT_A = 0x10400;
const GDT_A_SCRATCH = 0x10440;
const GDT_B = 0x10480;
const GDT_B_SCRATCH = 0x104c0;
const LDT = 0x104e0;
const SCRATCH = 0x10390;
const GDTR_A = 0x1086c;
const GDTR_B = 0x10872;
const STACK3 = 0x88000;
const PAGE_DIR = 0x30000;
const PAGE_TABLE = 0x31000;
/** Pages whose entries the paging slots rewrite: the data the descriptors' bases reach, never the runtime's. */
const DATA_PAGES = [0x40, 0x41, 0x48, 0x50, 0x60, 0x7f];
const DATA_FRAMES = [0x40000, 0x41000, 0x42000, 0x48000, 0x50000, 0x60000, 0x7f000, 0x80000, 0x500000];

/** xorshift32: small, fast, reproducible from the seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
}

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];

const GOOD_SELECTORS = [0x10, 0x13, 0x20, 0x23, 0x08, 0x0b, 0x18, 0x1b, 0x38, 0x0f, 0x14, 0x0c, 0x1f, 0x28, 0x30, 0, 3];
const SEG_PREFIX = [0x26, 0x3e, 0x64, 0x65]; // ES DS FS GS
const SREG = [0, 3, 4, 5]; // ES DS FS GS
const ACCESS = [0x93, 0x92, 0x91, 0xf3, 0xf2, 0xb3, 0xd3, 0x9b, 0xfb, 0x9f, 0x97, 0xf7, 0x13, 0x73, 0x82, 0x89, 0x8b, 0xe2, 0x90, 0xf0];

function selector(r: Rng): number {
  if (r.chance(0.55)) return r.pick(GOOD_SELECTORS);
  if (r.chance(0.7)) return (0x40 + r.below(10) * 8) | r.below(4); // scratch entries (and two beyond table B)
  return r.below(0x10000);
}

/** A random descriptor: mostly plausible data/code segments, sometimes system types, not-present or garbage. */
function descriptor(r: Rng): [number, number] {
  if (r.chance(0.08)) return [r.next(), r.next()];
  const base = r.pick([0, 0x40000, 0x41000, 0x48000, 0x50000, 0x60000, 0x7f000, 0x10000]);
  const limit = r.pick([0xffff, 0x0fff, 0x1fff, 0x0, 0xfffff, 0x7ff]);
  const access = r.pick(ACCESS);
  const flags = r.pick([0x4, 0xc, 0x0, 0x8]);
  const lo = (((base & 0xffff) << 16) | (limit & 0xffff)) >>> 0;
  const hi = ((base & 0xff000000) | (flags << 20) | ((limit & 0xf0000) >>> 0) | (access << 8) | ((base >>> 16) & 0xff)) >>> 0;
  return [lo, hi];
}

/** A linear address the paging slots read or write: data pages, their aliases, their entries, the top slot. */
function pagedAddress(r: Rng): number {
  const page = r.pick(DATA_PAGES) << 12;
  const off = r.below(0x400) * 4;
  switch (r.below(9)) {
    case 0: return 0x400000 + page + off; // the 4 MiB alias (PDE 1)
    case 1: return 0x800000 + page + off; // the alias through the same table (PDE 2)
    case 2: return PAGE_TABLE + r.pick(DATA_PAGES) * 4; // an entry: its accessed and dirty bits
    case 3: return r.chance(0.5) ? 0xffc00000 + r.below(0x24) * 0x1000 + off : PAGE_DIR + r.pick([1, 2, 1023]) * 4;
    default: return page + off;
  }
}

/** A paging slot (at most 16 bytes). */
function pagingSlot(r: Rng): number[] {
  switch (r.below(14)) {
    case 0: { // a page-table entry of a data page: frame, rights, accessed/dirty/global at random
      let bits = r.chance(0.85) ? 1 : 0;
      for (const b of [0x2, 0x4, 0x20, 0x40, 0x100]) if (r.chance(0.5)) bits |= b;
      return [0x36, 0xc7, 0x05, ...le32(PAGE_TABLE + r.pick(DATA_PAGES) * 4), ...le32(r.pick(DATA_FRAMES) | bits)];
    }
    case 1: { // a directory entry: the aliases, a 4 MiB page beyond RAM, the top slot
      const k = r.pick([1, 1, 2, 3, 1023]);
      const v = r.pick([0x87, 0x83, 0x85, 0x81, 0x0, PAGE_TABLE | 7, PAGE_TABLE | 5, PAGE_TABLE | 3, 0x00400087, 0x1e7]);
      return [0x36, 0xc7, 0x05, ...le32(PAGE_DIR + k * 4), ...le32(v)];
    }
    case 2:
    case 3: return [0x36, 0x0f, 0x01, 0x3d, ...le32(pagedAddress(r))]; // invlpg [ss:addr]
    case 4: return [0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8]; // mov eax, cr3; mov cr3, eax
    case 5: return [0x0f, 0x20, 0xe0, 0x34, r.pick([0x10, 0x80, 0x90]), 0x0f, 0x22, 0xe0]; // cr4 ^= PSE/PGE
    case 6: return [0x0f, 0x20, 0xc0, 0x0f, 0xba, 0xf8, 0x10, 0x0f, 0x22, 0xc0]; // cr0 ^= WP (btc eax, 16)
    case 7: return r.chance(0.3) ? [0x0f, 0x20, 0xc0, 0x0f, 0xba, 0xf8, 0x1f, 0x0f, 0x22, 0xc0] : [0x0f, 0x20, 0xd0, 0x89, 0xc3]; // cr0 ^= PG; mov eax, cr2
    case 8:
    case 9:
    case 10: return [0x36, 0xa1, ...le32(pagedAddress(r))]; // mov eax, [ss:addr]
    default: return [0x36, 0xa3, ...le32(pagedAddress(r))]; // mov [ss:addr], eax
  }
}

/** The share of slots that drive devices. */
const DEVICE_SHARE = 0.2;

/** One slot's bytes (at most 16), given the address of the next slot. */
function slot(r: Rng, next: number, paging: boolean): number[] {
  if (paging && r.chance(0.2)) return pagingSlot(r);
  if (r.chance(DEVICE_SHARE)) return deviceSlot(r);
  const k = r.below(100);
  const reg = (): number => r.pick([0, 1, 2, 3, 5, 6, 7]);
  if (k < 14) {
    switch (r.below(6)) {
      case 0: return [0x05, ...le32(r.next())];
      case 1: return [0x31, 0xc0 | (reg() << 3) | reg()];
      case 2: return [0x40 + reg()];
      case 3: return [0xc1, 0xe0 | reg(), r.below(32)];
      case 4: return [0x6b, 0xc1, r.below(256)];
      default: return [0x50 + reg(), 0x58 + reg()];
    }
  }
  if (k < 26) {
    const disp = r.pick([0, 4, 0x7fc, 0xffc, 0xffe, 0x1000, 0x1ffc, r.below(0x2000)]);
    return [r.pick(SEG_PREFIX), r.chance(0.5) ? 0xa1 : 0xa3, ...le32(disp)];
  }
  if (k < 42) {
    const s = r.pick(SREG);
    const sel = selector(r);
    if (r.chance(0.6)) return [0x66, 0xb8, ...le16(sel), 0x8e, 0xc0 | (s << 3)];
    const pop = s === 0 ? [0x07] : s === 3 ? [0x1f] : s === 4 ? [0x0f, 0xa1] : [0x0f, 0xa9];
    return [0x68, ...le32(sel), ...pop];
  }
  if (k < 52) {
    // Descriptor rewrite through SS (flat in both rings): GDT A or B scratch entries, or the LDT.
    const table = r.pick([GDT_A_SCRATCH, GDT_A_SCRATCH, GDT_B_SCRATCH, LDT + 8]);
    const entries = table === GDT_A_SCRATCH ? 8 : 3;
    const at = table + r.below(entries) * 8;
    const [lo, hi] = descriptor(r);
    return r.chance(0.5) ? [0x36, 0xc7, 0x05, ...le32(at + 4), ...le32(hi)] : [0x36, 0xc7, 0x05, ...le32(at), ...le32(lo)];
  }
  if (k < 55) return [0x36, 0x0f, 0x01, 0x15, ...le32(r.chance(0.5) ? GDTR_A : GDTR_B)]; // lgdt
  if (k < 57) return [0x66, 0xb8, ...le16(r.pick([0x30, 0x30, 0, 0x28, 0x10, selector(r)])), 0x0f, 0x00, 0xd0]; // lldt ax
  if (k < 75) {
    switch (r.below(23)) {
      case 0: return [0x36, 0x0f, 0x01, 0x05, ...le32(SCRATCH)]; // sgdt
      case 1: return [0x36, 0x0f, 0x01, 0x0d, ...le32(SCRATCH + 8)]; // sidt
      case 2: return [0x0f, 0x00, 0xc0]; // sldt ax
      case 3: return [0x0f, 0x00, 0xc8]; // str ax
      case 4: return [0x0f, 0x01, 0xe0]; // smsw ax
      case 5: return [0x9c, 0x58]; // pushfd; pop eax
      case 6: {
        // push imm; popfd: arithmetic flags, IF, IOPL, NT, AC at random (TF rarely: it single-steps the rest)
        let f = r.next() & (0x08d5 | 0x0200 | 0x3000 | 0x4000 | 0x40000);
        if (r.chance(0.02)) f |= 0x100;
        return [0x68, ...le32(f | 2), 0x9d];
      }
      case 7: return [0xbb, ...le32(selector(r)), 0x0f, 0x02, 0xc3]; // lar eax, ebx
      case 8: return [0xbb, ...le32(selector(r)), 0x0f, 0x03, 0xc3]; // lsl eax, ebx
      case 9: return [0xbb, ...le32(selector(r)), 0x0f, 0x00, r.chance(0.5) ? 0xe3 : 0xeb]; // verr/verw bx
      case 10: return [0x8c, 0xc0 | (r.below(6) << 3)]; // mov eax, sreg
      case 11: return [r.pick([0x06, 0x0e, 0x16, 0x1e]), 0x58]; // push sreg; pop eax
      case 12: return [0xea, ...le32(next), ...le16(r.pick([0x08, 0x38, 0x1b, 0x1f, 0x0b, selector(r)]))]; // jmp far
      case 13: return [0x9a, ...le32(next), ...le16(r.pick([0x08, 0x38, 0x1b, 0x0b, selector(r)]))]; // call far
      case 14: return [0x68, ...le32(r.pick([0x08, 0x1b, 0x38, selector(r)])), 0x68, ...le32(next), 0xcb]; // retf
      case 15: return [0x9c, 0x0e, 0x68, ...le32(next), 0xcf]; // iretd, same ring
      case 16: return [0x0f, 0xa2]; // cpuid
      // The P6 additions (engine/cpu/ops/p6.ts, protect/sysenter.ts): the monitor must give exactly the bare results.
      case 17: {
        // mov ecx, IA32_SYSENTER_CS or _ESP; mov eax, value; wrmsr (EDX is ignored for these MSRs)
        const esp = r.chance(0.5);
        const value = esp ? r.pick([0x8f000, 0x8e800]) : r.pick([0x08, 0x08, 0x08, 0x0b, 0x00, 0x03, 0x38, selector(r)]);
        return [0xb9, ...le32(esp ? 0x175 : 0x174), 0xb8, ...le32(value), 0x0f, 0x30];
      }
      case 18: return [0xb9, ...le32(0x176), 0xb8, ...le32(next), 0x0f, 0x30, 0x0f, 0x34]; // SYSENTER_EIP = next; sysenter
      case 19: return [0xb9, ...le32(STACK3), 0xba, ...le32(next), 0x0f, 0x35]; // sysexit to ring 3 at the next slot
      case 20: return [0xb9, ...le32(r.pick([0x10, 0x174, 0x175, 0x176, 0x1b, 0xfe, 0x277])), 0x0f, 0x32]; // rdmsr
      case 21: return [0xb9, ...le32(r.below(3)), 0x0f, 0x33]; // rdpmc (counter 2 does not exist)
      default: return r.chance(0.3) ? [0xf1] : [r.pick([0xfa, 0xfb])]; // int1, cli, sti
    }
  }
  if (k < 77) return r.chance(0.5) ? [0xe4, 0x80] : [0xe6, 0x80]; // in al, 0x80 / out 0x80, al
  // All four data segment registers ← the flat ring-3 data selector: in ring 3 this meets SBE's conditions.
  if (k < 80) return [0x66, 0xb8, 0x23, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xe0, 0x8e, 0xe8];
  if (k < 86) return [0x6a, 0x23, 0x68, ...le32(STACK3), 0x9c, 0x6a, 0x1b, 0x68, ...le32(next), 0xcf]; // to ring 3
  if (k < 93) return [0xcd, 0x40]; // back to ring 0
  if (k < 95) return [0xcd, 0x41]; // DPL-0 gate: #GP from ring 3
  if (k < 97) return [0x66, 0xb8, ...le16(r.pick([0x10, 0x20, 0x23, 0x13, selector(r)])), 0x8e, 0xd0]; // mov ss, ax
  // A store through a data segment that may reach the GDT (scratch entries) when its base is 0x10000.
  return [r.pick(SEG_PREFIX), 0xc7, 0x05, ...le32(0x440 + r.below(0x40)), ...le32(r.next())];
}

export interface RandomProgram {
  image: Uint8Array;
  slots: number;
}

export interface RandomProgramOptions {
  /** Turn paging on first and mix paging slots in (see the file comment). */
  paging?: boolean;
}

/** The first slots of a paging program: CR3, CR4.PSE, CR0.PG. */
export const PAGING_PROLOGUE: number[][] = [
  [0xb8, ...le32(PAGE_DIR), 0x0f, 0x22, 0xd8], // mov eax, PAGE_DIR; mov cr3, eax
  [0x0f, 0x20, 0xe0, 0x0c, 0x10, 0x0f, 0x22, 0xe0], // mov eax, cr4; or al, 0x10; mov cr4, eax
  [0x0f, 0x20, 0xc0, 0x0f, 0xba, 0xe8, 0x1f, 0x0f, 0x22, 0xc0], // mov eax, cr0; bts eax, 31; mov cr0, eax
];

/** A program of `slots` random slots, reproducible from `seed`; ends by returning to ring 0 and exiting. */
export function randomProgram(seed: number, slots: number, options: RandomProgramOptions = {}): RandomProgram {
  const r = new Rng(seed);
  const paging = options.paging ?? false;
  const body: number[][] = paging ? PAGING_PROLOGUE.slice() : [];
  const scratch = { a: [] as [number, number][], b: [] as [number, number][] };
  for (let e = 0; e < 8; e++) scratch.a.push(descriptor(r));
  for (let e = 0; e < 4; e++) scratch.b.push(descriptor(r));
  for (let s = body.length; s < slots; s++) body.push(slot(r, BODY + (s + 1) * SLOT, paging));
  const program = programFromSlots(body, scratch);
  if (!paging) return program;
  return withPageTables(program, (put32) => {
    for (const page of DATA_PAGES) if (r.chance(0.4)) put32(PAGE_TABLE + page * 4, (page << 12) | r.pick([1, 3, 5, 7, 0x27, 0x67]));
  });
}

/**
 * The image extended with the page directory (PDE 0: the table; PDE 1: a 4 MiB alias of physical 0; PDE 2: the
 * table again, an alias at 8 MiB) and the table (identity, user, writable); `edit` may change entries after.
 * Programs that page start with PAGING_PROLOGUE.
 */
export function withPageTables(p: RandomProgram, edit: (put32: (addr: number, v: number) => void) => void = () => {}): RandomProgram {
  const image = new Uint8Array(PAGE_TABLE + 0x1000 - PROGRAM_BASE);
  image.set(p.image);
  const put32 = (addr: number, v: number): void => image.set(le32(v >>> 0), addr - PROGRAM_BASE);
  put32(PAGE_DIR, PAGE_TABLE | 7);
  put32(PAGE_DIR + 4, 0x87);
  put32(PAGE_DIR + 8, PAGE_TABLE | 7);
  for (let page = 0; page < 1024; page++) put32(PAGE_TABLE + page * 4, (page << 12) | 7);
  edit(put32);
  return { image, slots: p.slots };
}



/** The address of slot `k` of a body (for far transfers written by hand). */
export function slotAddress(k: number): number {
  return BODY + k * SLOT;
}

/**
 * A program from explicit slots (each at most 16 bytes; tests write their scenarios this way) and optional
 * scratch descriptors for GDT A (8) and B (4).
 */
export function programFromSlots(body: number[][], scratch: { a?: [number, number][]; b?: [number, number][] } = {}): RandomProgram {
  const runtime = Buffer.from(RUNTIME_BASE64, 'base64');
  const slots = body.length;
  const end = BODY + (slots + 2) * SLOT;
  const image = new Uint8Array(end - PROGRAM_BASE);
  image.set(runtime, 0);
  const put = (addr: number, bytes: number[]): void => image.set(bytes, addr - PROGRAM_BASE);
  // Table B shares table A's core entries (the handlers rely on them); both get scratch entries.
  image.copyWithin(GDT_B - PROGRAM_BASE, GDT_A - PROGRAM_BASE, GDT_A_SCRATCH - PROGRAM_BASE);
  (scratch.a ?? []).slice(0, 8).forEach((d, e) => put(GDT_A_SCRATCH + e * 8, d.flatMap(le32)));
  (scratch.b ?? []).slice(0, 4).forEach((d, e) => put(GDT_B_SCRATCH + e * 8, d.flatMap(le32)));
  image.fill(0x90, BODY - PROGRAM_BASE, end - PROGRAM_BASE);
  body.forEach((bytes, s) => {
    if (bytes.length > SLOT) throw new Error(`slot ${s}: ${bytes.length} bytes do not fit in ${SLOT}`);
    put(BODY + s * SLOT, bytes);
  });
  const tail = BODY + slots * SLOT;
  put(tail, [0xcd, 0x40]); // back in ring 0
  put(tail + SLOT, [0xb0, 0x00, 0xe6, 0xf4, 0xf4]); // mov al, 0; out 0xF4, al (exit 0); hlt
  return { image, slots };
}

/** Encoders for hand-written slots. */
export const encode = {
  le32,
  le16,
  /** mov ax, sel; mov sreg, ax (sreg: 0 ES, 2 SS, 3 DS, 4 FS, 5 GS) */
  loadSreg: (sreg: number, sel: number): number[] => [0x66, 0xb8, ...le16(sel), 0x8e, 0xc0 | (sreg << 3)],
  /** mov dword [ss:addr], value */
  storeSs: (addr: number, value: number): number[] => [0x36, 0xc7, 0x05, ...le32(addr), ...le32(value)],
  /** mov word [ss:addr], value */
  storeSs16: (addr: number, value: number): number[] => [0x66, 0x36, 0xc7, 0x05, ...le32(addr), ...le16(value)],
  /** mov eax, [sreg-prefix:disp32] */
  loadEax: (prefix: number, disp: number): number[] => [prefix, 0xa1, ...le32(disp)],
  /** mov [sreg-prefix:disp32], eax */
  storeEax: (prefix: number, disp: number): number[] => [prefix, 0xa3, ...le32(disp)],
  /** mov eax, imm32 */
  movEax: (v: number): number[] => [0xb8, ...le32(v)],
  /** lgdt [ss:addr] */
  lgdt: (addr: number): number[] => [0x36, 0x0f, 0x01, 0x15, ...le32(addr)],
  /** iretd to ring 3 at the next slot (flat ring-3 code 0x1B and stack 0x23) */
  toRing3: (next: number): number[] => [0x6a, 0x23, 0x68, ...le32(STACK3), 0x9c, 0x6a, 0x1b, 0x68, ...le32(next), 0xcf],
  /** int 0x40: back to ring 0 at the next slot */
  toRing0: (): number[] => [0xcd, 0x40],
};

export const TABLES = { GDT_A, GDT_A_SCRATCH, GDT_B, GDT_B_SCRATCH, LDT, GDTR_A, GDTR_B, SCRATCH, PAGE_DIR, PAGE_TABLE };

/** A descriptor's two dwords from base, byte limit (G chosen when it does not fit 20 bits) and access byte. */
export function makeDescriptor(base: number, limit: number, access: number, big = true): [number, number] {
  const g = limit > 0xfffff;
  const raw = g ? limit >>> 12 : limit;
  const flags = (g ? 0x8 : 0) | (big ? 0x4 : 0);
  const lo = (((base & 0xffff) << 16) | (raw & 0xffff)) >>> 0;
  const hi = ((base & 0xff000000) | (flags << 20) | (raw & 0xf0000) | (access << 8) | ((base >>> 16) & 0xff)) >>> 0;
  return [lo, hi];
}
