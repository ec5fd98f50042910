// Ringside's own protected-mode test vectors in the MOO format, with final states worked out by hand from the SDM.
// The built file is committed as test/fixtures/moo/protected-mode.MOO; `npx vite-node test/conformance/
// write-protected-vectors.ts` rewrites it, and protected-vectors.test.ts checks that the committed file is what this
// source encodes and that `ringside conform` passes it.
//
// State shared by every vector (a 32-bit flat protected-mode CPU at CPL 0):
//   CR0 = PE | ET. GDTR = 0x1000 / limit 0x2F (6 entries), given by Ringside's GDTR chunk (see moo-reader.ts).
//   GDT  0x00 null
//        0x08 code  base 0, limit 0xFFFFF, G=1, D=1, type B (execute/read, accessed), DPL 0
//        0x10 data  base 0, limit 0xFFFFF, G=1, B=1, type 3 (read/write, accessed)
//        0x18 data  base 0x20000, limit 0xFFF, G=0, B=1, type 2 (read/write, NOT accessed)
//        0x20 data  base 0x30000, limit 0xFFF, G=0, B=0, type 7 (expand-down read/write, accessed)
//        0x28 data  base 0, limit 0xFFFFF, G=1, B=1, type 3
//   IDTR = 0x2000 / 0xFF; IDT[13] is a 32-bit interrupt gate (type E, DPL 0) to 0x08:0x3000, where a HLT waits.
//   CS = 0x08, SS = DS = ES = FS = GS = 0x10 (unless the vector says otherwise), ESP = 0x9000, EIP = 0x4000.
//   EFLAGS = 0x86 (SF, PF, bit 1).

import { join } from 'node:path';
import { encodeMoo, VectorFile, VectorTest } from './moo-encoder';

const GDT_BASE = 0x1000;
const GDT_LIMIT = 0x2f;
const IDT_BASE = 0x2000;
const IDT_LIMIT = 0xff;
const HANDLER = 0x3000;
const CODE = 0x4000;
const STACK_TOP = 0x9000;
const EFLAGS = 0x86;
const RF = 0x10000;
const HLT = 0xf4;

/** A descriptor's 8 bytes (SDM vol. 3A §3.4.5): base, raw 20-bit limit, access byte, flags nibble (G D/B L AVL). */
function descriptor(base: number, limit: number, access: number, flags: number): number[] {
  return [
    limit & 0xff, (limit >> 8) & 0xff, base & 0xff, (base >> 8) & 0xff, (base >> 16) & 0xff,
    access, ((flags & 0xf) << 4) | ((limit >> 16) & 0xf), (base >>> 24) & 0xff,
  ];
}

const GDT: number[][] = [
  [0, 0, 0, 0, 0, 0, 0, 0],
  descriptor(0, 0xfffff, 0x9b, 0xc),
  descriptor(0, 0xfffff, 0x93, 0xc),
  descriptor(0x20000, 0xfff, 0x92, 0x4),
  descriptor(0x30000, 0xfff, 0x97, 0x0),
  descriptor(0, 0xfffff, 0x93, 0xc),
];

/** 32-bit interrupt gate (SDM vol. 3A §6.11): offset, selector, P=1 DPL=0 type E. */
function interruptGate(offset: number, selector: number): number[] {
  return [offset & 0xff, (offset >> 8) & 0xff, selector & 0xff, selector >> 8, 0, 0x8e, (offset >> 16) & 0xff, offset >>> 24];
}

function bytesAt(address: number, bytes: number[]): [number, number][] {
  return bytes.map((b, i) => [address + i, b]);
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

const SYSTEM_RAM: [number, number][] = [
  ...GDT.flatMap((d, i) => bytesAt(GDT_BASE + 8 * i, d)),
  ...bytesAt(IDT_BASE + 13 * 8, interruptGate(HANDLER, 0x08)),
  [HANDLER, HLT],
];

const BASE_REGS = {
  cr0: 0x11, cr3: 0, eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, ebp: 0, esp: STACK_TOP,
  cs: 0x08, ds: 0x10, es: 0x10, fs: 0x10, gs: 0x10, ss: 0x10, eip: CODE, eflags: EFLAGS, dr6: 0xffff0ff0, dr7: 0x400,
};

function vector(name: string, code: number[], regs: Partial<typeof BASE_REGS>, ram: [number, number][],
  final: VectorTest['final'], exception?: VectorTest['exception']): VectorTest {
  return {
    name,
    bytes: [...code, HLT],
    initial: {
      regs: { ...BASE_REGS, ...regs },
      ram: [...bytesAt(CODE, [...code, HLT]), ...SYSTEM_RAM, ...ram],
      gdtr: { base: GDT_BASE, limit: GDT_LIMIT },
      idtr: { base: IDT_BASE, limit: IDT_LIMIT },
    },
    final,
    exception,
  };
}

/**
 * The final state of a #GP(errorCode) raised by the instruction at CODE and delivered through IDT[13] at CPL 0
 * (SDM vol. 3A §6.12.1, same privilege level, 32-bit gate): EFLAGS, CS, EIP (of the faulting instruction) and the
 * error code are pushed; the pushed EFLAGS has RF = 1 (a fault, SDM vol. 3A §17.3.1.1); the interrupt gate clears
 * IF, TF, NT, RF and VM, none of which were set. CS:EIP = 0x08:0x3000 runs the HLT there. The upper half of the CS
 * slot (0x8FFA–B) is not listed: the SDM allows a 16-bit store there, and the initial RAM holds 0 in it.
 */
function gpFinal(errorCode: number): VectorTest['final'] {
  const sp = STACK_TOP - 16;
  return {
    regs: { esp: sp, eip: HANDLER + 1 },
    ram: [
      ...bytesAt(sp, le32(errorCode)),
      ...bytesAt(sp + 4, le32(CODE)),
      ...bytesAt(sp + 8, [0x08, 0x00]),
      ...bytesAt(sp + 12, le32(EFLAGS | RF)),
    ],
  };
}
const CS_SLOT_HIGH: [number, number][] = [[STACK_TOP - 6, 0], [STACK_TOP - 5, 0]];
const GP = (flagAddress: number) => ({ vector: 13, flagAddress });

export const PROTECTED_VECTORS: VectorFile = {
  cpuId: '386E',
  width: 32,
  mnemonic: 'pmode',
  tests: [
    // MOV DS, AX with a valid selector (SDM vol. 2 MOV, protected-mode segment load; vol. 3A §3.4.3): the checks
    // pass (index 3 within the limit, writable data, DPL 0 ≥ CPL, RPL, present), DS = 0x18, and the processor
    // sets the accessed bit of the descriptor in memory: access byte 0x92 → 0x93 at GDT + 0x18 + 5.
    vector('mov ds,ax (valid selector)', [0x8e, 0xd8], { eax: 0x18 }, [],
      { regs: { ds: 0x18, eip: CODE + 3 }, ram: [[GDT_BASE + 0x18 + 5, 0x93]] }),
    // DS already holds 0x18, loaded from the GDT: its cache has base 0x20000, so MOV [0x10], EAX stores at
    // 0x20010 (SDM vol. 3A §3.4.3, the hidden part supplies the base).
    vector('mov [0x10],eax (DS base 0x20000)', [0xa3, 0x10, 0, 0, 0], { ds: 0x18, eax: 0x11223344 }, [],
      { regs: { eip: CODE + 6 }, ram: bytesAt(0x20010, [0x44, 0x33, 0x22, 0x11]) }),
    // MOV DS, AX with 0x30: index 6, and 0x30 + 7 > GDT limit 0x2F → #GP(selector), error code 0x30
    // (SDM vol. 2 MOV: "IF segment selector index is outside descriptor table limits THEN #GP(selector)").
    vector('mov ds,ax (selector beyond the GDT limit)', [0x8e, 0xd8], { eax: 0x30 }, CS_SLOT_HIGH,
      gpFinal(0x30), GP(STACK_TOP - 4)),
    // Expand-down ES (base 0x30000, limit 0xFFF, B = 0): valid offsets are 0x1000 … 0xFFFF (SDM vol. 3A
    // §3.4.5.1). MOV EAX, ES:[0x2000] reads the dword at 0x32000.
    vector('mov eax,[es:0x2000] (expand-down, inside)', [0x26, 0xa1, 0x00, 0x20, 0, 0], { es: 0x20 },
      bytesAt(0x32000, [0xbe, 0xba, 0xfe, 0xca]), { regs: { eax: 0xcafebabe, eip: CODE + 7 } }),
    // Offset 0x800 ≤ limit lies outside an expand-down segment → #GP(0) (ES is not SS; SDM vol. 2 MOV
    // "#GP(0) If a memory operand effective address is outside the … ES … segment limit").
    vector('mov eax,[es:0x800] (expand-down, below the limit)', [0x26, 0xa1, 0x00, 0x08, 0, 0], { es: 0x20 },
      CS_SLOT_HIGH, gpFinal(0), GP(STACK_TOP - 4)),
    // A dword at 0xFFFE runs past the upper bound 0xFFFF that B = 0 sets → #GP(0).
    vector('mov eax,[es:0xfffe] (expand-down, past the 64 KiB bound)', [0x26, 0xa1, 0xfe, 0xff, 0, 0], { es: 0x20 },
      CS_SLOT_HIGH, gpFinal(0), GP(STACK_TOP - 4)),
  ],
};

export const PROTECTED_VECTORS_PATH = join(__dirname, '..', 'fixtures', 'moo', 'protected-mode.MOO');
