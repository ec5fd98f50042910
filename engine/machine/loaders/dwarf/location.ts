// DWARF expressions (DWARF 5 §2.5 and §2.6): a stack machine whose result is where a variable lives (a memory
// address, a register, pieces of either) or its value (DW_OP_stack_value, DW_OP_implicit_value). Arithmetic is on
// 32-bit unsigned values (the address size of the i386 images Ringside runs). An operation that needs state the
// caller cannot give (a register of an outer frame that was not saved, an entry value) ends in `optimized`, never
// in an exception.

import { ByteReader } from '../byte-reader';

export type Place =
  | { kind: 'memory'; addr: number }
  | { kind: 'register'; reg: number }
  | { kind: 'value'; value: number }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'pieces'; pieces: { place: Place; size: number }[] }
  | { kind: 'optimized'; why: string };

export interface LocationContext {
  /** A register's value in this frame (DWARF numbering: 0 EAX … 7 EDI, 8 EIP, 9 EFLAGS), undefined when unknown. */
  reg(n: number): number | undefined;
  /** Reads `size` (1, 2 or 4) bytes little-endian, undefined when unmapped. */
  read(addr: number, size: number): number | undefined;
  /** The value of DW_AT_frame_base for DW_OP_fbreg. */
  frameBase?(): number | undefined;
  /** The canonical frame address (DW_OP_call_frame_cfa), from CFI. */
  cfa?(): number | undefined;
  /** The value the expression would have had at the function's entry (DW_OP_entry_value). */
  entryValue?(expr: Uint8Array): number | undefined;
  /** Entry `index` of .debug_addr (DW_OP_addrx, DW_OP_constx). */
  addrx?(index: number): number | undefined;
}

class Unknown extends Error {}

const MAX_STEPS = 10000;
const u32 = (v: number): number => v >>> 0;

export function evaluateLocation(expr: Uint8Array, ctx: LocationContext): Place {
  try {
    return run(expr, ctx);
  } catch (e) {
    if (e instanceof Unknown) return { kind: 'optimized', why: e.message };
    return { kind: 'optimized', why: `the location expression cannot be read (${(e as Error).message})` };
  }
}

/** The value an expression computes (a frame base, a CFA rule): a memory place's address, a value's value. */
export function evaluateValue(expr: Uint8Array, ctx: LocationContext): number | undefined {
  const p = evaluateLocation(expr, ctx);
  if (p.kind === 'memory') return p.addr;
  if (p.kind === 'value') return p.value;
  if (p.kind === 'register') return ctx.reg(p.reg);
  return undefined;
}

function run(expr: Uint8Array, ctx: LocationContext): Place {
  const r = new ByteReader(expr, 'a location expression');
  const stack: number[] = [];
  const pieces: { place: Place; size: number }[] = [];
  let place: Place | null = null;
  let pos = 0;
  const pop = (): number => {
    if (stack.length === 0) throw new Error('the stack is empty');
    return stack.pop()!;
  };
  const top = (): number => {
    if (stack.length === 0) throw new Error('the stack is empty');
    return stack[stack.length - 1];
  };
  const uleb = (): number => {
    const v = r.uleb(pos, 'an operand');
    pos = v.next;
    return v.value;
  };
  const sleb = (): number => {
    const v = r.sleb(pos, 'an operand');
    pos = v.next;
    return v.value;
  };
  const reg = (n: number): number => {
    const v = ctx.reg(n);
    if (v === undefined) throw new Unknown(`register ${n} of this frame is not known`);
    return v;
  };
  const read = (addr: number, size: number): number => {
    const v = ctx.read(u32(addr), size);
    if (v === undefined) throw new Unknown(`memory at 0x${u32(addr).toString(16)} is not mapped`);
    return v;
  };
  for (let steps = 0; pos < r.length; steps++) {
    if (steps > MAX_STEPS) throw new Error('the expression loops');
    const op = r.u8(pos++, 'an operation');
    if (op >= 0x30 && op <= 0x4f) stack.push(op - 0x30); // DW_OP_lit0..31
    else if (op >= 0x50 && op <= 0x6f) place = { kind: 'register', reg: op - 0x50 }; // DW_OP_reg0..31
    else if (op >= 0x70 && op <= 0x8f) stack.push(u32(reg(op - 0x70) + sleb())); // DW_OP_breg0..31
    else
      switch (op) {
        case 0x03: // DW_OP_addr
          stack.push(r.u32(pos, 'DW_OP_addr'));
          pos += 4;
          break;
        case 0x06: // DW_OP_deref
          stack.push(read(pop(), 4));
          break;
        case 0x08:
          stack.push(r.u8(pos++, 'const1u'));
          break;
        case 0x09:
          stack.push(u32(r.i8(pos++, 'const1s')));
          break;
        case 0x0a:
          stack.push(r.u16(pos, 'const2u'));
          pos += 2;
          break;
        case 0x0b:
          stack.push(u32((r.u16(pos, 'const2s') << 16) >> 16));
          pos += 2;
          break;
        case 0x0c:
          stack.push(r.u32(pos, 'const4u'));
          pos += 4;
          break;
        case 0x0d:
          stack.push(r.u32(pos, 'const4s'));
          pos += 4;
          break;
        case 0x0e:
        case 0x0f:
          stack.push(r.u32(pos, 'const8'));
          pos += 8;
          break;
        case 0x10:
          stack.push(u32(uleb()));
          break;
        case 0x11:
          stack.push(u32(sleb()));
          break;
        case 0x12: // dup
          stack.push(top());
          break;
        case 0x13: // drop
          pop();
          break;
        case 0x14: // over
          if (stack.length < 2) throw new Error('the stack is too short');
          stack.push(stack[stack.length - 2]);
          break;
        case 0x15: {
          // pick
          const k = r.u8(pos++, 'pick');
          if (k >= stack.length) throw new Error('pick beyond the stack');
          stack.push(stack[stack.length - 1 - k]);
          break;
        }
        case 0x16: {
          // swap
          const a = pop();
          const b = pop();
          stack.push(a, b);
          break;
        }
        case 0x17: {
          // rot
          const a = pop();
          const b = pop();
          const c = pop();
          stack.push(a, c, b);
          break;
        }
        case 0x19:
          stack.push(u32(Math.abs(pop() | 0)));
          break;
        case 0x1a: {
          const b = pop();
          stack.push(u32(pop() & b));
          break;
        }
        case 0x1b: {
          const b = pop() | 0;
          const a = pop() | 0;
          if (b === 0) throw new Error('division by zero');
          stack.push(u32(Math.trunc(a / b)));
          break;
        }
        case 0x1c: {
          const b = pop();
          stack.push(u32(pop() - b));
          break;
        }
        case 0x1d: {
          const b = pop();
          const a = pop();
          if (b === 0) throw new Error('division by zero');
          stack.push(u32(a % b));
          break;
        }
        case 0x1e: {
          const b = pop();
          stack.push(u32(Math.imul(pop(), b)));
          break;
        }
        case 0x1f:
          stack.push(u32(-pop()));
          break;
        case 0x20:
          stack.push(u32(~pop()));
          break;
        case 0x21: {
          const b = pop();
          stack.push(u32(pop() | b));
          break;
        }
        case 0x22: {
          const b = pop();
          stack.push(u32(pop() + b));
          break;
        }
        case 0x23:
          stack.push(u32(pop() + uleb()));
          break;
        case 0x24: {
          const b = pop();
          stack.push(b >= 32 ? 0 : u32(pop() << b));
          break;
        }
        case 0x25: {
          const b = pop();
          stack.push(b >= 32 ? 0 : pop() >>> b);
          break;
        }
        case 0x26: {
          const b = pop();
          stack.push(u32((pop() | 0) >> Math.min(b, 31)));
          break;
        }
        case 0x27: {
          const b = pop();
          stack.push(u32(pop() ^ b));
          break;
        }
        case 0x28: {
          // bra
          const off = (r.u16(pos, 'bra') << 16) >> 16;
          pos += 2;
          if (pop() !== 0) pos += off;
          break;
        }
        case 0x29:
        case 0x2a:
        case 0x2b:
        case 0x2c:
        case 0x2d:
        case 0x2e: {
          const b = pop() | 0;
          const a = pop() | 0;
          const t = [a === b, a >= b, a > b, a <= b, a < b, a !== b][op - 0x29];
          stack.push(t ? 1 : 0);
          break;
        }
        case 0x2f: {
          // skip
          const off = (r.u16(pos, 'skip') << 16) >> 16;
          pos += 2 + off;
          break;
        }
        case 0x90: // regx
          place = { kind: 'register', reg: uleb() };
          break;
        case 0x91: {
          // fbreg
          const off = sleb();
          const fb = ctx.frameBase?.();
          if (fb === undefined) throw new Unknown('the frame base is not known');
          stack.push(u32(fb + off));
          break;
        }
        case 0x92: {
          // bregx
          const n = uleb();
          stack.push(u32(reg(n) + sleb()));
          break;
        }
        case 0x93: // piece
        case 0x9d: {
          // bit_piece: sizes in bits; only whole-byte pieces are kept exact
          const size = op === 0x93 ? uleb() : Math.ceil(uleb() / 8);
          if (op === 0x9d) uleb();
          const p: Place = place ?? (stack.length ? { kind: 'memory', addr: pop() } : { kind: 'optimized', why: 'this piece is optimized out' });
          pieces.push({ place: p, size });
          place = null;
          stack.length = 0;
          break;
        }
        case 0x94: {
          // deref_size
          const size = r.u8(pos++, 'deref_size');
          stack.push(read(pop(), size > 4 ? 4 : size));
          break;
        }
        case 0x96: // nop
          break;
        case 0x9c: {
          // call_frame_cfa
          const cfa = ctx.cfa?.();
          if (cfa === undefined) throw new Unknown('the frame address (CFA) is not known');
          stack.push(cfa);
          break;
        }
        case 0x9e: {
          // implicit_value
          const len = uleb();
          place = { kind: 'bytes', bytes: r.slice(pos, len, 'implicit_value') };
          pos += len;
          break;
        }
        case 0x9f: // stack_value
          place = { kind: 'value', value: pop() };
          break;
        case 0xa1: // addrx
        case 0xa2: // constx
        case 0xfb: // GNU_addr_index
        case 0xfc: {
          const v = ctx.addrx?.(uleb());
          if (v === undefined) throw new Unknown('.debug_addr is not available');
          stack.push(v);
          break;
        }
        case 0xa3: // entry_value
        case 0xf3: {
          // GNU_entry_value
          const len = uleb();
          const inner = r.slice(pos, len, 'entry_value');
          pos += len;
          const v = ctx.entryValue?.(inner);
          if (v === undefined) throw new Unknown('the value at the function entry is not known here');
          stack.push(v);
          break;
        }
        case 0xa0: // implicit_pointer
        case 0xf2:
          throw new Unknown('the pointer is optimized out (implicit pointer)');
        default:
          throw new Unknown(`DWARF operation 0x${op.toString(16)} is not evaluated`);
      }
  }
  if (pieces.length) return { kind: 'pieces', pieces };
  if (place) return place;
  if (stack.length === 0) return { kind: 'optimized', why: 'the variable has no location here' };
  return { kind: 'memory', addr: top() };
}
