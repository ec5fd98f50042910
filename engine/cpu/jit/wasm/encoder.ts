// A small WebAssembly binary encoder: one module with one function, importing the guest's memory (WebAssembly
// Core Specification 2.0, §5 "Binary Format"). Just what translated blocks use: i32 values, structured control,
// loads and stores, locals.

/** Value types i32 and i64 (§5.3.1). */
export const I32 = 0x7f;
const I64 = 0x7e;
/** Block type: no result (§5.4.1). */
export const VOID = 0x40;
export const RESULT_I32 = I32;

/** Opcodes (§5.4). */
export const OP = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  call: 0x10,
  callIndirect: 0x11,
  drop: 0x1a,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i32Load8U: 0x2d,
  i32Load16U: 0x2f,
  i32Store: 0x36,
  i32Store8: 0x3a,
  i32Store16: 0x3b,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32GtS: 0x4a,
  i32GtU: 0x4b,
  i32LeS: 0x4c,
  i32LeU: 0x4d,
  i32GeS: 0x4e,
  i32GeU: 0x4f,
  i32Clz: 0x67,
  i32Ctz: 0x68,
  i32Popcnt: 0x69,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Or: 0x72,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrS: 0x75,
  i32ShrU: 0x76,
  i64Const: 0x42,
  i64Ne: 0x52,
  i64LtU: 0x54,
  i64GtU: 0x56,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Mul: 0x7e,
  i64DivS: 0x7f,
  i64DivU: 0x80,
  i64RemS: 0x81,
  i64RemU: 0x82,
  i64Or: 0x84,
  i64Shl: 0x86,
  i64ShrU: 0x88,
  i32WrapI64: 0xa7,
  i64ExtendI32S: 0xac,
  i64ExtendI32U: 0xad,
} as const;

export function unsignedLeb(out: number[], v: number): void {
  let x = v >>> 0;
  do {
    let b = x & 0x7f;
    x >>>= 7;
    if (x !== 0) b |= 0x80;
    out.push(b);
  } while (x !== 0);
}

export function signedLeb(out: number[], v: number): void {
  let x = v | 0;
  for (;;) {
    const b = x & 0x7f;
    x >>= 7;
    if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** The body of one function: instructions appended in order, locals allocated as they are asked for. */
export class FunctionBody {
  readonly code: number[] = [];
  /** The value type of each local after the parameters. */
  private readonly types: number[] = [];

  constructor(readonly params: number) {}

  /** A new i32 local (its index). */
  local(): number {
    this.types.push(I32);
    return this.params + this.types.length - 1;
  }

  /** A new i64 local (its index). */
  local64(): number {
    this.types.push(I64);
    return this.params + this.types.length - 1;
  }

  op(code: number): this {
    this.code.push(code);
    return this;
  }

  i32(v: number): this {
    this.code.push(OP.i32Const);
    signedLeb(this.code, v);
    return this;
  }

  i64(v: number): this {
    this.code.push(OP.i64Const);
    signedLeb(this.code, v);
    return this;
  }

  get(local: number): this {
    this.code.push(OP.localGet);
    unsignedLeb(this.code, local);
    return this;
  }

  set(local: number): this {
    this.code.push(OP.localSet);
    unsignedLeb(this.code, local);
    return this;
  }

  tee(local: number): this {
    this.code.push(OP.localTee);
    unsignedLeb(this.code, local);
    return this;
  }

  /** A load or store with alignment hint 0 (guest accesses may be unaligned) and a constant offset. */
  mem(code: number, offset = 0): this {
    this.code.push(code, 0);
    unsignedLeb(this.code, offset);
    return this;
  }

  /** block / loop / if with a block type (VOID or RESULT_I32). */
  open(code: number, type: number = VOID): this {
    this.code.push(code, type);
    return this;
  }

  /** A call of function `index` (0: the interpreter call, encodeModule). */
  call(index: number): this {
    this.code.push(OP.call);
    unsignedLeb(this.code, index);
    return this;
  }

  br(code: number, depth: number): this {
    this.code.push(code);
    unsignedLeb(this.code, depth);
    return this;
  }

  /** The function's code entry (§5.5.13): its size, locals declaration, body, end. */
  encode(): Uint8Array {
    const decl: number[] = [];
    // Locals are declared as runs of one type, in index order.
    const runs: [number, number][] = [];
    for (const t of this.types) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    unsignedLeb(decl, runs.length);
    for (const [count, t] of runs) {
      unsignedLeb(decl, count);
      decl.push(t);
    }
    const size = decl.length + this.code.length + 1;
    const head: number[] = [];
    unsignedLeb(head, size);
    const out = new Uint8Array(head.length + size);
    out.set(head, 0);
    out.set(decl, head.length);
    out.set(this.code, head.length + decl.length);
    out[out.length - 1] = OP.end;
    return out;
  }
}

export function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  unsignedLeb(out, content.length);
  out.push(...content);
}

export function name(out: number[], s: string): void {
  unsignedLeb(out, s.length);
  for (let k = 0; k < s.length; k++) out.push(s.charCodeAt(k));
}

/**
 * A module importing memory "m"."mem" of at least `memoryPages` pages and a one-entry funcref table "m"."call" that
 * holds the interpreter call (wasm/callout.ts, through the dispatcher module's thunk, wasm/link.ts), with function 0
 * (i32, i32) -> i32 calling it through the table, and exporting its functions as f0, f1 … (each takes `params` i32
 * parameters and returns an i32). Written into one byte array: a batch of blocks is hundreds of kilobytes, which
 * pushing byte by byte into JS arrays took longer than V8's compile.
 *
 * Why not import the call as a function: V8 (node 20) compiles a wasm-to-JS wrapper with TurboFan for every module
 * that imports a function, a JavaScript one or another module's wasm one alike (62 `wasm-to-js:ii:i` wrappers in one
 * GRUB boot, 60–100 µs of CPU each); a table import needs none, and the call from the table is wasm to wasm.
 */
export function encodeModule(bodies: FunctionBody[], memoryPages: number): Uint8Array<ArrayBuffer> {
  const head = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // Type 0: the block functions; type 1: the interpreter call.
  const type: number[] = [2, 0x60];
  unsignedLeb(type, bodies[0].params);
  for (let k = 0; k < bodies[0].params; k++) type.push(I32);
  type.push(1, I32);
  type.push(0x60, 2, I32, I32, 1, I32);
  section(head, 1, type);
  const imports: number[] = [2];
  name(imports, 'm');
  name(imports, 'call');
  imports.push(0x01, 0x70, 0x00, 1); // funcref table, at least 1 entry
  name(imports, 'm');
  name(imports, 'mem');
  imports.push(0x02, 0x00); // memory, limits without a maximum
  unsignedLeb(imports, memoryPages);
  section(head, 2, imports);
  const funcs: number[] = [];
  unsignedLeb(funcs, bodies.length + 1);
  funcs.push(1);
  for (let k = 0; k < bodies.length; k++) funcs.push(0);
  section(head, 3, funcs);
  // Function 0 is the call: block k is function k + 1.
  const exports: number[] = [];
  unsignedLeb(exports, bodies.length);
  for (let k = 0; k < bodies.length; k++) {
    name(exports, `f${k}`);
    exports.push(0x00);
    unsignedLeb(exports, k + 1);
  }
  section(head, 7, exports);
  const call = new FunctionBody(2);
  call.get(0).get(1).i32(0).op(OP.callIndirect);
  call.code.push(1, 0); // type 1, table 0
  const entries = [call, ...bodies].map((b) => b.encode());
  const count: number[] = [];
  unsignedLeb(count, entries.length);
  let size = count.length;
  for (const e of entries) size += e.length;
  head.push(10);
  unsignedLeb(head, size);
  head.push(...count);
  const out = new Uint8Array(head.length + size - count.length);
  out.set(head, 0);
  let at = head.length;
  for (const e of entries) {
    out.set(e, at);
    at += e.length;
  }
  return out;
}
