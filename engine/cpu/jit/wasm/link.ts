// Linked wasm blocks (issue 13, docs/speed-history.md "Linked wasm blocks"): a wasm block's exit goes on into the next
// wasm block inside WebAssembly, through one dispatcher function per memory that calls the blocks' functions through a
// shared funcref table (call_indirect), instead of returning to JavaScript at every exit. Under paging, Linux's
// lukewarm code ran about 10 instructions per wasm block run, and each run paid the JS wrapper and V8's JS-to-wasm call
// (about 500 ns, 20 interpreted instructions' worth).
//
// What the dispatcher knows lives in the link area of the wasm memory (bus/memory.ts linkOffset):
// - a record per linked block (its link index): its tag (index | generation << 16; 0 while the block is not to be
//   entered from a link: retired to JS, or collected), its length, block key, the largest offset the CS limit must
//   cover (CompiledBlock.lastByte), whether it reads the flags it finds at entry, the instructions it retired and its
//   runs (for its handover to JS, block.ts retier);
// - a hash table from EIP to the tag of the block at that EIP, valid while Cpu.codeEpoch is the entry's epoch. The
//   wrapper writes the entry each time JavaScript enters a block whose entry is not there.
// A JS block that took a wasm loop's place (block.ts retier) has a record and a link index too: the dispatcher calls
// it through the JS block call in the table at its index (wasm/js-link.ts) and goes on after it as after a wasm block.
//
// Why a link is as safe as the run loop's chaining (Cpu.runBlocks): within one code epoch the decoded instruction at
// an EIP cannot change (stores into code, mapping changes — CR3 writes, INVLPG, CR0/CR4 —, CS loads, A20 move the
// epoch), so the block JavaScript entered at an EIP in this epoch is the block there, until it is retired to a JS
// block (its tag cleared). Nothing in wasm code moves the epoch or sets `attention`: every access that is not plain
// RAM leaves for the interpreter, and an interpreter call from inside a block (wasm/callout.ts) that did either (or
// anything else that needs the run loop) leaves its block with S_INTERPRET = INTERPRET_CALL_LEFT, after which the
// dispatcher links no further. The dispatcher goes on into the block at the exit's
// EIP only under the conditions of Cpu.blockFits: its tag is current, a whole pass fits the budget left, its block
// key is the entering block's (a block runs only under its key, and nothing in wasm changes the mode), the CS limit
// covers it; the wrapper lets it chain only with no breakpoint armed. It leaves for JavaScript when a block leaves
// for the interpreter, when the next block needs the Cpu's own pending record folded (block.ts entryFlags: one a
// block of the run left in the state area is folded by the dispatcher itself, wasm/flags.ts stateFoldFunction), or
// when a block has retired Cpu.wasmToJsAfter instructions (block.ts retier).
//
// Interrupts: an interpreter call that raises one (an OUT to the PIC, STI) ends the run as above, and the dispatcher
// stops where the budget ends as the run loop does, so they are delivered at the same instruction counts. Before
// each block the dispatcher writes its link index (S_LAST) and the instructions retired before it in this run
// (S_BEFORE): an interpreter call finds its block's instructions and the interpreter's icount through them.

import { encodeModule, FunctionBody, I32, name, OP, section, unsignedLeb, VOID } from './encoder';
import { stateFoldFunction } from './flags';
import { S_BEFORE, S_CHAINED, S_EIP, S_EPOCH, S_INTERPRET, S_LAST, S_LMASK, S_TO_JS } from './state';

/** What a link record says of a block (jit/block.ts CompiledBlock). */
interface CompiledBlockFacts {
  readonly len: number;
  readonly key: number;
  readonly lastByte: number;
}

/**
 * The EIP hash table: sets of two entries (2^SET_BITS sets), 16 bytes each: EIP, tag, epoch. Two-way, and its set
 * chosen by a multiplicative hash of the whole EIP: the table was direct-mapped by `eip ^ eip >>> 14`, under which
 * EIPs that differ in bits k and k + 14 alone meet in one entry, and Linux's lib/mpi had two such pairs of blocks
 * among its hot links (c40a4030 and c44a4130, c44ab8cc and c491bba0), each entering wasm from JavaScript in turn and
 * evicting the other: 11 000 returns to the run loop per 250 M instructions.
 */
const SET_BITS = 13;
const HASH_ENTRIES = 2 << SET_BITS;
const HASH_BYTES = HASH_ENTRIES * 16;
/** Fibonacci hashing's multiplier (2^32 / φ, odd). */
const HASH_MULTIPLIER = 0x9e3779b1 | 0;
/** Link indexes (the tag's low 16 bits); the records are 32 bytes each. */
const MAX_LINKED = 1 << 16;
const RECORD_BYTES = 32;
/** The link area's size (bus/memory.ts LINK_AREA_BYTES). */
export const LINK_BYTES = HASH_BYTES + MAX_LINKED * RECORD_BYTES;

/** Int32 fields of a record. */
const R_TAG = 0;
const R_LEN = 1;
const R_KEY = 2;
const R_LAST_BYTE = 3;
const R_ENTRY_FLAGS = 4;
const R_RETIRED = 5;
const R_RUNS = 6;

/** The hash table's set for `eip`: the int32 index of its first entry's EIP field (the second's is 4 further). */
export function hashSlot(eip: number): number {
  return (Math.imul(eip, HASH_MULTIPLIER) >>> (32 - SET_BITS)) << 3;
}

/** What a block's function is called with: (budget left, A20 mask, CS limit) → instructions retired. */
const BLOCK_TYPE = 0;
const DISPATCH_TYPE = 1;
const FOLD_TYPE = 2;
/** The interpreter call (wasm/callout.ts): (instruction index, instructions retired) → goes on or leaves. */
const CALL_TYPE = 3;
/**
 * The dispatcher module's functions: the imported interpreter call (0) and JS block call (1, wasm/js-link.ts), the
 * dispatcher (2), the fold of the state area's pending record (3, wasm/flags.ts), the interpreter call's thunk (4),
 * which block modules call (encoder.ts encodeModule), and the JS block call's (5), which stands in the table at the
 * link index of every JS block linked among the wasm blocks: the memory's two wasm-to-JS wrappers are this module's.
 */
const JS_CALL_FUNCTION = 1;
const FOLD_FUNCTION = 3;

/**
 * The dispatcher's module: `dispatch(index, left, a20, csLimit, key, pending) → retired` runs the block at link
 * index `index`, then, while the conditions above hold, the block linked at each exit's EIP; it leaves the state
 * area as the last block left it (its link index in S_LAST) and the lazy record of the last block that defined
 * flags. `pending` says whether the Cpu's flags hold an unfolded record at entry.
 */
function dispatcherModule(memoryPages: number, state: number, link: number): Uint8Array<ArrayBuffer> {
  const f = new FunctionBody(6);
  const [INDEX, LEFT, A20, LIMIT, KEY, PENDING] = [0, 1, 2, 3, 4, 5];
  const n = f.local();
  const m = f.local();
  const defined = f.local();
  const eip = f.local();
  const at = f.local();
  const tag = f.local();
  const rec = f.local();
  const retired = f.local();
  const slot = (s: number): number => state + s * 4;
  const records = link + HASH_BYTES;
  f.i32(-1).set(defined);
  f.open(OP.block, VOID); // the way out
  f.open(OP.loop, VOID);
  f.i32(0).get(INDEX).mem(OP.i32Store, slot(S_LAST));
  f.i32(0).get(n).mem(OP.i32Store, slot(S_BEFORE));
  f.get(LEFT).get(n).op(OP.i32Sub).get(A20).get(LIMIT).get(INDEX).op(OP.callIndirect);
  unsignedLeb(f.code, BLOCK_TYPE);
  f.code.push(0); // table 0
  f.tee(m).get(n).op(OP.i32Add).set(n);
  // The block's retired count, for its handover to JS.
  f.get(INDEX).i32(5).op(OP.i32Shl).set(rec);
  f.get(rec).get(rec).mem(OP.i32Load, records + R_RETIRED * 4).get(m).op(OP.i32Add).tee(retired).mem(OP.i32Store, records + R_RETIRED * 4);
  f.get(rec).get(rec).mem(OP.i32Load, records + R_RUNS * 4).i32(1).op(OP.i32Add).mem(OP.i32Store, records + R_RUNS * 4);
  // Flags: a block that defined none (mask -1) left the record of the last one that did in the state area.
  f.i32(0).mem(OP.i32Load, slot(S_LMASK)).tee(m).i32(0).op(OP.i32GeS);
  f.open(OP.if, VOID);
  f.get(m).set(defined).get(m).i32(0).op(OP.i32Ne).set(PENDING);
  f.op(OP.else);
  f.i32(0).get(defined).mem(OP.i32Store, slot(S_LMASK));
  f.op(OP.end);
  const leaveIf = (): void => {
    f.br(OP.brIf, 1);
  };
  // A block left for the interpreter at an instruction (an index), or after an interpreter call (-2): not -1.
  f.i32(0).mem(OP.i32Load, slot(S_INTERPRET)).i32(-1).op(OP.i32Ne);
  leaveIf();
  f.get(retired).i32(0).mem(OP.i32Load, slot(S_TO_JS)).op(OP.i32GeS);
  leaveIf();
  // The block at the exit's EIP in this epoch: the tag of the first entry of its set that holds the EIP in this
  // epoch, else 0 (index 0's record never fits a budget, below).
  f.i32(0).mem(OP.i32Load, slot(S_EIP)).tee(eip).i32(HASH_MULTIPLIER).op(OP.i32Mul).i32(32 - SET_BITS).op(OP.i32ShrU).i32(5).op(OP.i32Shl).set(at);
  const holds = (entry: number): void => {
    f.get(at).mem(OP.i32Load, link + entry).get(eip).op(OP.i32Eq);
    f.get(at).mem(OP.i32Load, link + entry + 8).i32(0).mem(OP.i32Load, slot(S_EPOCH)).op(OP.i32Eq).op(OP.i32And);
  };
  holds(0);
  f.open(OP.if, I32);
  f.get(at).mem(OP.i32Load, link + 4);
  f.op(OP.else);
  f.get(at).mem(OP.i32Load, link + 16 + 4).i32(0);
  holds(16);
  f.op(OP.select);
  f.op(OP.end);
  f.tee(tag).i32(0xffff).op(OP.i32And).i32(5).op(OP.i32Shl).tee(rec);
  f.mem(OP.i32Load, records + R_TAG * 4).get(tag).op(OP.i32Ne);
  f.get(rec).mem(OP.i32Load, records + R_LEN * 4).get(LEFT).get(n).op(OP.i32Sub).op(OP.i32GtS).op(OP.i32Or);
  f.get(rec).mem(OP.i32Load, records + R_KEY * 4).get(KEY).op(OP.i32Ne).op(OP.i32Or);
  f.get(rec).mem(OP.i32Load, records + R_LAST_BYTE * 4).get(LIMIT).op(OP.i32GtU).op(OP.i32Or);
  leaveIf();
  // A block that reads flags the run left pending: the record a block before it defined is folded here (stateFold);
  // one the Cpu held at entry (no block has defined flags yet: `defined` -1) is not in the state area, so the run
  // leaves for the wrapper to fold it.
  f.get(rec).mem(OP.i32Load, records + R_ENTRY_FLAGS * 4).get(PENDING).op(OP.i32And);
  f.open(OP.if, VOID);
  f.get(defined).i32(0).op(OP.i32LtS);
  f.br(OP.brIf, 2);
  f.call(FOLD_FUNCTION);
  f.i32(0).tee(defined).set(PENDING);
  f.op(OP.end);
  f.get(tag).i32(0xffff).op(OP.i32And).set(INDEX);
  f.i32(0).i32(0).mem(OP.i32Load, slot(S_CHAINED)).i32(1).op(OP.i32Add).mem(OP.i32Store, slot(S_CHAINED));
  f.br(OP.br, 0);
  f.op(OP.end); // loop
  f.op(OP.end); // block
  f.get(n);

  const thunk = new FunctionBody(2);
  thunk.get(0).get(1).call(0);
  // A JS block at a link index: the block function's type, the call told its link index (S_LAST, written just
  // before) and the budget left.
  const viaJs = new FunctionBody(3);
  viaJs.i32(0).mem(OP.i32Load, slot(S_LAST)).get(0).call(JS_CALL_FUNCTION);

  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [4];
  types.push(0x60, 3, I32, I32, I32, 1, I32); // BLOCK_TYPE
  types.push(0x60, 6, I32, I32, I32, I32, I32, I32, 1, I32); // DISPATCH_TYPE
  types.push(0x60, 0, 0); // FOLD_TYPE
  types.push(0x60, 2, I32, I32, 1, I32); // CALL_TYPE
  section(out, 1, types);
  const imports: number[] = [4];
  name(imports, 'm');
  name(imports, 'call');
  imports.push(0x00, CALL_TYPE);
  name(imports, 'm');
  name(imports, 'js');
  imports.push(0x00, CALL_TYPE);
  name(imports, 'm');
  name(imports, 'mem');
  imports.push(0x02, 0x00);
  unsignedLeb(imports, memoryPages);
  name(imports, 'm');
  name(imports, 'tab');
  imports.push(0x01, 0x70, 0x00, 1); // funcref table, at least 1 entry
  section(out, 2, imports);
  section(out, 3, [4, DISPATCH_TYPE, FOLD_TYPE, CALL_TYPE, BLOCK_TYPE]);
  const exports: number[] = [3];
  name(exports, 'dispatch');
  exports.push(0x00, 2);
  name(exports, 'call');
  exports.push(0x00, 4);
  name(exports, 'viaJs');
  exports.push(0x00, 5);
  section(out, 7, exports);
  section(out, 10, [4, ...f.encode(), ...stateFoldFunction(state).encode(), ...thunk.encode(), ...viaJs.encode()]);
  return new Uint8Array(out);
}

type Dispatch = (index: number, left: number, a20: number, csLimit: number, key: number, pending: number) => number;
type InterpreterCall = (k: number, retired: number) => number;
/** The JS block call (wasm/js-link.ts): (link index, budget left) → instructions retired. */
type JsBlockCall = (index: number, left: number) => number;
/** What a linker calls in JavaScript: the interpreter for one instruction, and a linked JS block. */
export interface LinkerCalls {
  call: InterpreterCall;
  js: JsBlockCall;
}

/** The link state of one memory: the table, the dispatcher, the records and hash table as int32 views. */
export class Linker {
  readonly table: WebAssembly.Table;
  readonly dispatch: Dispatch;
  /** Records, 8 int32 each, by link index. */
  readonly records: Int32Array;
  /** The EIP hash table: EIP, tag, epoch, (unused). */
  readonly hash: Int32Array;
  /** Block runs entered through a link inside wasm (for tests and benches). */
  linkedRuns = 0;
  /** The dispatcher module's thunk of the interpreter call (wasm/callout.ts), which every block module calls. */
  private readonly call: WebAssembly.ExportValue;
  /** The dispatcher module's thunk of the JS block call, at the link index of each linked JS block (addJs). */
  private readonly viaJs: WebAssembly.ExportValue;
  /** The segments any block of this memory reads through their base (wasm/operands.ts): the wrapper's to fill. */
  segments = 0;
  /** What a link index stands for, for the wrapper (weakly: a collected block frees its index). */
  readonly owners: (WeakRef<object> | undefined)[] = [];
  private readonly free: number[] = [];
  private readonly generation: number[] = [];
  private next = 1; // index 0 stays unused: a tag of 0 means "no block"
  private readonly collected = new FinalizationRegistry<number>((index) => this.release(index));

  constructor(
    readonly memory: WebAssembly.Memory,
    state: number,
    link: number,
    /** Makes the JavaScript calls of this linker (they find blocks by their link index). */
    calls: (linker: Linker) => LinkerCalls,
  ) {
    const mem = memory;
    this.table = new WebAssembly.Table({ element: 'anyfunc', initial: 256 });
    const pages = mem.buffer.byteLength / 65536;
    const { call, js } = calls(this);
    const imports = { m: { mem, tab: this.table, call, js } };
    const instance = new WebAssembly.Instance(new WebAssembly.Module(dispatcherModule(pages, state, link)), imports);
    this.dispatch = instance.exports.dispatch as Dispatch;
    this.call = instance.exports.call;
    this.viaJs = instance.exports.viaJs;
    this.hash = new Int32Array(mem.buffer, link, HASH_BYTES >>> 2);
    this.records = new Int32Array(mem.buffer, link + HASH_BYTES, (MAX_LINKED * RECORD_BYTES) >>> 2);
    // Index 0 is no block: its record (tag 0, like the hash table's empty entries) never fits a budget.
    this.records[R_LEN] = 0x7fffffff;
  }

  /**
   * Compiles the queued block functions (`queue`) into one module and puts each at its link index; each block then
   * gets its tag (`compiled`), so it can run and links may lead to it. Fewer, larger modules: V8's per-module and
   * per-instance costs (100–300 µs each in Linux's boot with thousands of modules alive) are paid once a batch.
   */
  flush(): void {
    const q = this.queued;
    if (q.length === 0) return;
    this.queued = [];
    const pages = this.memory.buffer.byteLength / 65536;
    const bodies = q.map((x) => x.body);
    // (Exported and set from JS, not an element segment into an imported table: V8 (node 20) instantiates a module
    // that imports a table in time proportional to the table's length, 1.6 ms at 70 000 entries.)
    // Each module its own one-entry table: an instance that imports a table stays in the table's list of users, so
    // a table shared by every module would keep every module alive.
    const call = new WebAssembly.Table({ element: 'anyfunc', initial: 1 });
    call.set(0, this.call as never);
    const fns = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(bodies, pages)), { m: { mem: this.memory, call } }).exports;
    for (let k = 0; k < q.length; k++) {
      const index = q[k].index;
      this.table.set(index, fns[`f${k}`] as never);
      this.records[index * 8 + R_TAG] = index | (this.generation[index] << 16);
      q[k].compiled(this.records[index * 8 + R_TAG]);
    }
  }

  /** Blocks whose functions wait for the next `flush`. */
  queued: { body: FunctionBody; index: number; compiled: (tag: number) => void }[] = [];

  /** Queues the function of the block at `index` for the next `flush`, which calls `compiled` with its tag. */
  queue(index: number, body: FunctionBody, compiled: (tag: number) => void): void {
    this.queued.push({ body, index, compiled });
  }

  /**
   * A link index for a block with these facts, owned by `owner` (the index is freed when `holder` is collected);
   * 0 when all are taken. Its function goes into the table with `queue` and `flush`.
   */
  add(owner: object, holder: object, len: number, key: number, lastByte: number, entryFlags: boolean): number {
    return this.record(owner, holder, len, key, lastByte, entryFlags);
  }

  /**
   * A link index for JS block `holder` (its owner `owner`, wasm/js-link.ts): links lead to it at once (its tag is
   * returned, 0 when every index is taken), through the dispatcher module's JS block call in the table. It counts
   * no retired instructions (no handover for it to wait for); it folds the flags it finds itself.
   */
  addJs(owner: object, holder: CompiledBlockFacts): number {
    const index = this.record(owner, holder, holder.len, holder.key, holder.lastByte, false);
    if (index === 0) return 0;
    this.table.set(index, this.viaJs as never);
    this.stopCounting(index);
    const tag = index | (this.generation[index] << 16);
    this.records[index * 8 + R_TAG] = tag;
    return tag;
  }

  private record(owner: object, holder: object, len: number, key: number, lastByte: number, entryFlags: boolean): number {
    let index = this.free.pop();
    if (index === undefined) {
      if (this.next >= MAX_LINKED) return 0;
      index = this.next++;
      this.generation[index] = 0;
      if (index >= this.table.length) this.table.grow(this.table.length);
    }
    this.generation[index] = (this.generation[index] & 0x7fff) + 1;
    const r = index * 8;
    this.records[r + R_TAG] = 0; // (until compiled)
    this.records[r + R_LEN] = len;
    this.records[r + R_KEY] = key;
    this.records[r + R_LAST_BYTE] = lastByte;
    this.records[r + R_ENTRY_FLAGS] = entryFlags ? 1 : 0;
    this.records[r + R_RETIRED] = 0;
    this.records[r + R_RUNS] = 0;
    this.owners[index] = new WeakRef(owner);
    this.collected.register(holder, index);
    return index;
  }

  tag(index: number): number {
    return this.records[index * 8 + R_TAG];
  }

  retired(index: number): number {
    return this.records[index * 8 + R_RETIRED];
  }

  /** The runs of the block at `index` (entries by the dispatcher, from JavaScript or through a link). */
  runs(index: number): number {
    return this.records[index * 8 + R_RUNS];
  }

  /** The block at `index` counts no more retired instructions (it has been offered to JS once). */
  stopCounting(index: number): void {
    this.records[index * 8 + R_RETIRED] = -0x8000_0000;
  }

  /** No link leads to the block at `index` any more (it was replaced, or collected). */
  unlink(index: number): void {
    this.records[index * 8 + R_TAG] = 0;
    this.stopCounting(index);
  }

  /**
   * Makes the block of `tag` the one links lead to at `eip` while the code epoch is `epoch`: in the entry of its set
   * that holds `eip`, else in the first, whose entry (if of this epoch) moves to the second.
   */
  enter(eip: number, tag: number, epoch: number): void {
    const h = this.hash;
    let s = hashSlot(eip);
    if (h[s] !== (eip | 0)) {
      if (h[s + 4] === (eip | 0)) s += 4;
      else if (h[s + 2] === epoch) {
        h[s + 4] = h[s];
        h[s + 5] = h[s + 1];
        h[s + 6] = h[s + 2];
      }
    }
    h[s] = eip;
    h[s + 1] = tag;
    h[s + 2] = epoch;
  }

  private release(index: number): void {
    this.unlink(index);
    this.table.set(index, null);
    this.owners[index] = undefined;
    this.free.push(index);
  }
}

const linkers = new WeakMap<WebAssembly.Memory, Linker>();

/** The linker of a memory (made at its first wasm block, with `calls` making its JavaScript calls). */
export function linkerOf(mem: WebAssembly.Memory, state: number, link: number, calls: (linker: Linker) => LinkerCalls): Linker {
  let l = linkers.get(mem);
  if (l === undefined) {
    l = new Linker(mem, state, link, calls);
    linkers.set(mem, l);
  }
  return l;
}

/** Block runs `mem`'s wasm blocks entered through a link inside wasm so far. */
export function linkedRuns(mem: WebAssembly.Memory): number {
  return linkers.get(mem)?.linkedRuns ?? 0;
}
