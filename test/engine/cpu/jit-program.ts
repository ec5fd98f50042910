// Random looping guest programs for the JIT's lockstep tests, as NASM source. Each program runs a body of random
// instructions (the decode table's common forms: ALU, TEST, MOV, LEA, MOVZX/MOVSX, INC/DEC, NOT/NEG, shifts and
// rotates, PUSH/POP, SETcc, flag instructions, MUL/DIV, forward Jcc/LOOP/JCXZ, CALL/RET) ITERATIONS times, so the
// body gets hot and is translated part-way through. Some memory operands lie past the data segment's limit and
// some divides overflow; the fault handler resumes the loop at `recover`, so faults inside translated blocks are
// exercised too.
//
// Register roles: EBP (BP) counts iterations and EBX (BX) holds the data base; random instructions write only
// EAX, ECX, EDX, ESI, EDI (and their 16/8-bit parts), so memory operands stay inside the data area unless a
// deliberate out-of-limit displacement is chosen.

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ProgramLayout {
  /** Physical load address (= CS:EIP of the first instruction with CS base 0). */
  org: number;
  /** Offset of the loop top from org. */
  topOffset: number;
  data: number;
  stackTop: number;
}

export const LAYOUT32: ProgramLayout = { org: 0x10000, topOffset: 0x40, data: 0x40000, stackTop: 0x90000 };
export const LAYOUT16: ProgramLayout = { org: 0x1000, topOffset: 0x40, data: 0x4000, stackTop: 0x7000 };
/** Limit given to DS in the 32-bit programs; displacements of 0xF0000 and more from DATA pass it (#GP). */
export const DS_LIMIT32 = 0xfffff;

export const ITERATIONS = 120;
/** Offset from org of the handler for faults with an error code (#GP, #SS; every fault in real mode). */
export const FAULT_HANDLER_OFFSET = 0x10;
/** Offset from org of the handler for faults without one (#DE) in protected mode. */
export const DIVIDE_HANDLER_OFFSET = 0x28;

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** `prologue`: lines run at the top of every pass, before the random body. */
export function generateProgram(seed: number, bits: 16 | 32, bodyLength = 40, prologue: string[] = []): string {
  const r = rng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)];
  const chance = (p: number): boolean => r() < p;
  const int = (n: number): number => Math.floor(r() * n);
  const L = bits === 32 ? LAYOUT32 : LAYOUT16;
  const R32 = ['eax', 'ecx', 'edx', 'esi', 'edi'];
  const R16 = ['ax', 'cx', 'dx', 'si', 'di'];
  const R8 = ['al', 'cl', 'dl', 'ah', 'ch', 'dh'];
  const bx = bits === 32 ? 'ebx' : 'bx';
  const si = bits === 32 ? 'esi' : 'si';

  const reg = (size: number): string => (size === 4 ? pick(R32) : size === 2 ? pick(R16) : pick(R8));
  const sizeWord = (size: number): string => (size === 4 ? 'dword' : size === 2 ? 'word' : 'byte');
  const lines: string[] = [];
  let labels = 0;
  /**
   * Emits a fault-prone instruction behind a data-dependent skip (`test reg, bit; jnz over`), so it faults in some
   * iterations only and the rest of the body still runs in the others.
   */
  const guarded = (instr: string): void => {
    const name = `G${labels++}`;
    // The ALU instruction after the skip leaves a flag record pending in the block when `instr` faults.
    const w = bits === 32 ? pick(R32) : pick(R16);
    // Sometimes a rotate follows, so the faulting instruction meets flags an eager setter had to compute.
    const rotate = chance(0.5) ? [`${pick(['rol', 'ror'])} ${pick(R32)}, ${1 + int(31)}`] : [];
    lines.push(`test ${w}, ${1 << int(8)}`, `jnz ${name}`, `${pick(ALU)} ${w}, ${int(0x100)}`, ...rotate, instr, `${name}:`);
  };
  /** A memory operand; sometimes past the DS limit (`faulting`), sometimes with a masked index. */
  let faulting = false;
  const mem = (size: number): string => {
    const disp = int(0x100);
    faulting = chance(0.04);
    if (faulting) return bits === 32 ? `${sizeWord(size)} [ebx + 0xF0000 + ${disp}]` : `${sizeWord(size)} [ebx + 0x10000 + ${disp}]`;
    if (chance(0.3)) {
      lines.push(`and ${si}, 0xff`);
      const scale = bits === 32 ? pick([1, 2, 4, 8]) : 1;
      return bits === 32 ? `${sizeWord(size)} [ebx + esi*${scale} + ${disp}]` : `${sizeWord(size)} [bx + si + ${disp}]`;
    }
    return `${sizeWord(size)} [${bx} + ${disp}]`;
  };
  const size = (): number => (chance(0.6) ? (bits === 32 ? 4 : 2) : chance(0.5) ? (bits === 32 ? 2 : 4) : 1);
  const imm = (s: number): number => (s === 4 ? int(0x100000000) : s === 2 ? int(0x10000) : int(0x100));

  const pendingLabels: { name: string; at: number }[] = [];
  const subs: string[] = [];

  const one = (allowBranch: boolean): void => {
    faulting = false;
    emitOne(allowBranch);
    if (faulting) guarded(lines.pop()!);
    faulting = false;
  };
  const emitOne = (allowBranch: boolean): void => {
    const s = size();
    let kind = int(allowBranch ? 23 : 18);
    if (!allowBranch && kind === 13) kind = 0; // no PUSH/POP inside a subroutine: its RET must find the return address
    switch (kind) {
      case 0: case 1: case 2: { // ALU reg, reg / imm
        const op = pick(ALU);
        lines.push(chance(0.5) ? `${op} ${reg(s)}, ${reg(s)}` : `${op} ${reg(s)}, ${chance(0.5) ? imm(s) : int(0x100) - 0x80}`);
        break;
      }
      case 3: { // ALU with memory
        const op = pick(ALU);
        const m = mem(s);
        lines.push(chance(0.5) ? `${op} ${reg(s)}, ${m}` : chance(0.5) ? `${op} ${m}, ${reg(s)}` : `${op} ${m}, ${imm(s)}`);
        break;
      }
      case 4: // TEST
        lines.push(chance(0.5) ? `test ${reg(s)}, ${reg(s)}` : `test ${mem(s)}, ${imm(s)}`);
        break;
      case 5: case 6: { // MOV
        const m = mem(s);
        lines.push(pick([`mov ${reg(s)}, ${reg(s)}`, `mov ${reg(s)}, ${m}`, `mov ${m}, ${reg(s)}`, `mov ${reg(s)}, ${imm(s)}`, `mov ${m}, ${imm(s)}`]));
        break;
      }
      case 7: // LEA
        lines.push(bits === 32 ? `lea ${pick(R32)}, [ebx + ${pick(R32)}*${pick([1, 2, 4, 8])} + ${int(0x10000)}]` : `lea ${pick(R16)}, [bx + si + ${int(0x1000)}]`);
        break;
      case 8: { // MOVZX / MOVSX
        const d = bits === 32 ? pick(R32) : pick(R16);
        lines.push(`${pick(['movzx', 'movsx'])} ${d}, ${chance(0.5) ? pick(R8) : mem(1)}`);
        break;
      }
      case 9: // INC / DEC
        lines.push(`${pick(['inc', 'dec'])} ${chance(0.7) ? reg(s) : mem(s)}`);
        break;
      case 10: // NOT / NEG
        lines.push(`${pick(['not', 'neg'])} ${chance(0.7) ? reg(s) : mem(s)}`);
        break;
      case 11: case 12: { // shifts and rotates
        const op = pick(SHIFTS);
        const count = pick(['1', 'cl', String(int(32)), String(1 + int(31))]);
        lines.push(`${op} ${chance(0.8) ? reg(s) : mem(s)}, ${count}`);
        break;
      }
      case 13: { // PUSH / POP
        const w = bits === 32 ? pick(R32) : pick(R16);
        lines.push(pick([`push ${w}`, `pop ${w}`, `push ${bits === 32 ? 'dword' : 'word'} ${imm(bits === 32 ? 4 : 2)}`, `push ${int(0x80)}`]));
        break;
      }
      case 14: // SETcc, flag instructions, conversions
        lines.push(pick([`set${pick(CC)} ${pick(R8)}`, 'cmc', 'clc', 'stc', bits === 32 ? 'cdq' : 'cwd', bits === 32 ? 'cwde' : 'cbw', 'lahf', 'sahf', `xchg ${reg(s)}, ${reg(s)}`]));
        break;
      case 15: // MUL / IMUL / DIV (DIV may raise #DE)
        if (chance(0.25)) guarded(`${pick(['div', 'idiv'])} ${reg(s)}`);
        else lines.push(pick([`mul ${reg(s)}`, `imul ${reg(s)}`, `imul ${bits === 32 ? 'eax' : 'ax'}, ${bits === 32 ? 'ecx' : 'cx'}, ${int(200)}`]));
        break;
      case 16: // ADC/SBB chains read CF
        lines.push(`${pick(['adc', 'sbb'])} ${reg(s)}, ${reg(s)}`);
        break;
      case 17: // bit ops (interpreter handlers called from blocks)
        if (chance(0.35)) {
          // POPF inside a block: arithmetic flags and DF from a register (IF and TF stay as they are).
          const w = bits === 32 ? pick(R32) : pick(R16);
          lines.push(bits === 32 ? 'pushfd' : 'pushf', `pop ${w}`, `xor ${w}, ${int(0x100) | (chance(0.3) ? 0x400 : 0) | (chance(0.3) ? 0x800 : 0)}`, `push ${w}`, bits === 32 ? 'popfd' : 'popf');
        } else if (chance(0.4)) {
          // A string instruction without REP inside a block, on indices inside the data area (DF as POPF left it).
          const di = bits === 32 ? 'edi' : 'di';
          lines.push(`lea ${di}, [${bx} + ${0x10 + int(0xe0)}]`, `and ${si}, 0xff`, `add ${si}, ${bx}`);
          lines.push(`${pick(['movs', 'cmps', 'stos', 'lods', 'scas'])}${pick(['b', 'w', 'd'])}`);
        } else lines.push(pick([`bt ${bits === 32 ? 'eax' : 'ax'}, ${int(16)}`, `bsf ${bits === 32 ? 'ecx' : 'cx'}, ${bits === 32 ? 'edx' : 'dx'}`, `bswap eax`]));
        break;
      case 18: case 19: { // forward conditional branches
        const name = `L${labels++}`;
        lines.push(pick([`j${pick(CC)} ${name}`, `j${pick(CC)} near ${name}`, `loop ${name}`, `${bits === 32 ? 'jecxz' : 'jcxz'} ${name}`, `jmp ${name}`]));
        pendingLabels.push({ name, at: lines.length + 1 + int(5) });
        break;
      }
      case 21:
      case 22: { // a tight inner loop (a block that repeats itself) counted in memory past the random operands
        const name = `I${labels++}`;
        lines.push(`mov ${sizeWord(bits === 32 ? 4 : 2)} [${bx} + 0xF00], ${3 + int(20)}`, `${name}:`);
        for (let k = 1 + int(3); k > 0; k--) one(false);
        const counter = `${sizeWord(bits === 32 ? 4 : 2)} [${bx} + 0xF00]`;
        lines.push(chance(0.5) ? `dec ${counter}` : `sub ${counter}, 1`, `jnz ${name}`);
        break;
      }
      default: { // CALL a small subroutine
        const name = `S${subs.length}`;
        const saved = lines.length;
        for (let k = 0; k < 3; k++) one(false);
        const body = lines.splice(saved);
        subs.push(`${name}:`, ...body, 'ret');
        lines.push(`call ${name}`);
        break;
      }
    }
  };

  for (let k = 0; k < bodyLength; k++) {
    one(true);
    for (let p = pendingLabels.length - 1; p >= 0; p--) {
      if (pendingLabels[p].at <= lines.length) {
        lines.push(`${pendingLabels[p].name}:`);
        pendingLabels.splice(p, 1);
      }
    }
  }
  for (const p of pendingLabels) lines.push(`${p.name}:`);

  const sp = bits === 32 ? 'esp' : 'sp';
  const bp = bits === 32 ? 'ebp' : 'bp';
  // Fault handlers at fixed offsets (FAULT_HANDLER_OFFSET, DIVIDE_HANDLER_OFFSET) resume the loop at `recover`.
  const gpHandler = bits === 32 ? ['add esp, 4', 'mov dword [esp], recover', 'iretd'] : ['push bx', 'mov bx, sp', 'mov word [ss:bx + 2], recover', 'pop bx', 'iret'];
  const deHandler = bits === 32 ? ['mov dword [esp], recover', 'iretd'] : gpHandler;
  return [
    `bits ${bits}`,
    `org 0x${L.org.toString(16)}`,
    'start:',
    `mov ${bp}, ${ITERATIONS}`,
    'jmp top',
    `times 0x${FAULT_HANDLER_OFFSET.toString(16)} - ($ - $$) nop`,
    ...gpHandler,
    `times 0x${DIVIDE_HANDLER_OFFSET.toString(16)} - ($ - $$) nop`,
    ...deHandler,
    `times 0x${L.topOffset.toString(16)} - ($ - $$) nop`,
    'top:',
    `mov ${sp}, 0x${L.stackTop.toString(16)}`,
    `mov ebx, 0x${L.data.toString(16)}`,
    ...prologue,
    ...lines,
    'recover:',
    `dec ${bp}`,
    'jnz top',
    'hlt',
    ...subs,
  ].join('\n');
}
