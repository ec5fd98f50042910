// The record of a run that reverse execution travels in: checkpoints of the whole machine, and the guest's inputs.
//
// Any moment of the run so far is reached by restoring the last checkpoint at or before it and running forward,
// which is exact because guest time is the count of retired instructions and nothing else (interfaces.md): the
// same state and the same inputs at the same instruction counts give the same run. The guest's inputs (keys,
// serial bytes) are kept with the instruction count at which they arrived and given again on the way forward.
//
// Memory is kept by page: a checkpoint holds only the 4 KiB pages that changed since the one before, and shares
// every other page with its predecessors (a page is found at the last checkpoint that holds a version of it).
// The first checkpoint holds every page, with all-zero pages shared as one. Changes are found by comparing
// memory with a copy of it as of the latest checkpoint, so the store path stays as it is. Past the memory cap the
// oldest checkpoints are merged into the next, and the record reaches back less far.

import { PAGE_SHIFT, PAGE_SIZE, PF_CODE } from '../bus/memory';
import type { HostKey } from '../devices/host-keys';
import type { Machine, MachineState } from './machine';

export interface HistoryOptions {
  /** Memory the record may take, in bytes (pages and machine state together). */
  maxBytes: number;
}

/** One moment of the run kept whole. `side` is what the owner keeps beside the machine (the debugger's own state). */
export interface Checkpoint<S = unknown> {
  readonly icount: number;
  /** Sequence number of the first input recorded after this checkpoint was taken. */
  readonly inputSeq: number;
  readonly state: MachineState;
  readonly side: S;
  /** Pages this checkpoint holds a version of. */
  readonly pages: number[];
  bytes: number;
}

/**
 * What the host gives the guest: bytes for COM1's receiver, scan codes for the keyboard, or keys typed on it (which
 * the keyboard sends as the guest becomes ready for them, keyboard-controller.ts).
 */
export type InputPayload = { kind: 'serial'; bytes: number[] } | { kind: 'keys'; bytes: number[] } | { kind: 'typed'; keys: HostKey[] };

/** An input from the host, given to the guest between two instructions. */
export type RecordedInput = InputPayload & {
  icount: number;
  /** Order of recording: inputs at one moment are told apart by it, and checkpoints know which came after them. */
  seq: number;
};

interface PageVersion {
  /** Index of the checkpoint (in `checkpoints`' numbering, see `base`). */
  at: number;
  data: Uint8Array;
}

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);
/** Bytes a checkpoint's machine state is counted as (registers, devices, monitor): small, but not free. */
const STATE_BYTES = 16 * 1024;

/** What a checkpoint's machine state is counted as: the fixed part, and the guest's TLB (8 bytes a listed page). */
function stateBytes(state: MachineState): number {
  const tlb = state.tlb ?? (state.monitor as { tlb?: MachineState['tlb'] } | undefined)?.tlb;
  return STATE_BYTES + 8 * (tlb?.pages.length ?? 0);
}

export class History<S = unknown> {
  private readonly machine: Machine;
  private readonly maxBytes: number;
  /** Checkpoints, oldest first. Checkpoint `checkpoints[i]` has the number `base + i`. */
  private checkpoints: Checkpoint<S>[] = [];
  private base = 0;
  /** Per page: its versions, oldest first (numbers of the checkpoints that hold them). */
  private readonly versions: PageVersion[][];
  /** Memory as of the latest checkpoint: what the next one is compared with. */
  private readonly shadow: Uint8Array;
  private readonly shadowBytes: Buffer;
  private inputs: RecordedInput[] = [];
  private nextSeq = 0;
  /** Bytes held by all checkpoints. */
  bytes = 0;
  /** The furthest moment the run has reached (a travel back does not change it). */
  furthest = 0;

  constructor(machine: Machine, options: HistoryOptions) {
    this.machine = machine;
    this.maxBytes = options.maxBytes;
    const pages = machine.mem.size >>> PAGE_SHIFT;
    this.versions = Array.from({ length: pages }, () => []);
    this.shadow = new Uint8Array(machine.mem.size);
    this.shadowBytes = bytesOf(this.shadow);
  }

  get count(): number {
    return this.checkpoints.length;
  }
  /** The earliest moment the record still reaches. */
  get earliest(): number {
    return this.checkpoints.length > 0 ? this.checkpoints[0].icount : Infinity;
  }
  /** The moment of the latest checkpoint. */
  get latest(): number {
    return this.checkpoints.length > 0 ? this.checkpoints[this.checkpoints.length - 1].icount : -Infinity;
  }

  /**
   * Keeps the present moment. A checkpoint is only ever added after the latest one; a moment already covered (the
   * run went back and forward again) needs none.
   */
  take(side: S): Checkpoint<S> | null {
    const m = this.machine;
    const icount = m.cpu.icount;
    this.furthest = Math.max(this.furthest, icount);
    if (icount <= this.latest) return null;
    const number = this.base + this.checkpoints.length;
    const first = this.checkpoints.length === 0;
    const pages: number[] = [];
    const state = m.snapshotState();
    let bytes = stateBytes(state);
    // The pages that differ from the copy: all of them that are not zero for the first checkpoint (the copy starts
    // zeroed), which also holds every zero page, sharing one.
    const changed = changedPages(bytesOf(m.mem.u8), this.shadowBytes);
    let next = 0;
    for (let p = 0; p < this.versions.length; p++) {
      if (changed[next] !== p) {
        if (first) {
          this.versions[p].push({ at: number, data: ZERO_PAGE });
          pages.push(p);
        }
        continue;
      }
      next++;
      const start = p << PAGE_SHIFT;
      const page = m.mem.u8.subarray(start, start + PAGE_SIZE);
      let data: Uint8Array;
      if (!first && isZero(m.mem.i32, start >>> 2, PAGE_SIZE >>> 2)) data = ZERO_PAGE;
      else {
        data = page.slice();
        bytes += PAGE_SIZE;
      }
      this.shadow.set(page, start);
      this.versions[p].push({ at: number, data });
      pages.push(p);
    }
    const cp: Checkpoint<S> = { icount, inputSeq: this.nextSeq, state, side, pages, bytes };
    this.checkpoints.push(cp);
    this.bytes += bytes;
    this.trim();
    // A monitor restored from a snapshot starts over (its shadow entries, virtual tables and engagement are made
    // again: monitor.ts `restore`), so the run goes on from the checkpoint as restored, as every replay from it will:
    // the monitor's traps after it are then the same forward and replayed. Memory already holds this moment, so the
    // decoded instructions and translated blocks stay (dropping them every checkpoint, every 80 ms under the debug
    // adapter, made an F5 on GRUB cost twice its bare run).
    if (m.cpu.monitor !== null) m.restoreState(cp.state, true, true);
    return cp;
  }

  /** The last checkpoint at or before `icount`, or null when the record does not reach back that far. */
  checkpointAtOrBefore(icount: number): Checkpoint<S> | null {
    let lo = 0;
    let hi = this.checkpoints.length - 1;
    let found: Checkpoint<S> | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.checkpoints[mid].icount <= icount) {
        found = this.checkpoints[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** The first checkpoint after `icount`, or null (the run is past every one). */
  checkpointAfter(icount: number): Checkpoint<S> | null {
    if (icount >= this.latest) return null;
    const before = this.checkpointAtOrBefore(icount);
    const k = before === null ? 0 : this.checkpoints.indexOf(before) + 1;
    return this.checkpoints[k] ?? null;
  }

  /** The checkpoints before `icount`, latest first (where a search backwards goes one interval at a time). */
  checkpointsBefore(icount: number): Checkpoint<S>[] {
    return this.checkpoints.filter((c) => c.icount < icount).reverse();
  }

  /**
   * Puts the whole machine back to a checkpoint. A page no later checkpoint holds a version of is at the checkpoint
   * what it is at the latest one, which the copy holds: those are found by one chunked compare with the copy and
   * only the ones that differ are written. The others take their version at the checkpoint. Decoded instructions
   * are dropped on the pages written and kept on the rest, so a replay does not decode and translate its code anew.
   * Returns the pages written.
   */
  restore(cp: Checkpoint<S>): number[] {
    const index = this.checkpoints.indexOf(cp);
    if (index < 0) throw new Error('that checkpoint is no longer in the record');
    const number = this.base + index;
    const mem = this.machine.mem;
    const memBytes = bytesOf(mem.u8);
    const later = new Set<number>();
    for (let k = index + 1; k < this.checkpoints.length; k++) for (const p of this.checkpoints[k].pages) later.add(p);
    const written: number[] = [];
    for (const p of changedPages(memBytes, this.shadowBytes)) {
      if (later.has(p)) continue;
      const start = p << PAGE_SHIFT;
      mem.u8.set(this.shadow.subarray(start, start + PAGE_SIZE), start);
      written.push(p);
    }
    for (const p of later) {
      const list = this.versions[p];
      // The version of page p at checkpoint `number`: the last one held at or before it (the oldest checkpoint
      // holds every page, so there is one).
      let i = list.length - 1;
      while (i > 0 && list[i].at > number) i--;
      const data = list[i].data;
      const start = p << PAGE_SHIFT;
      if (memBytes.compare(data, 0, PAGE_SIZE, start, start + PAGE_SIZE) !== 0) {
        mem.u8.set(data, start);
        written.push(p);
      }
    }
    // Decoded instructions on the rewritten pages are stale, as after a store into them; on the others they hold.
    if (mem.onCodeStore !== null) for (const p of written) if ((mem.pageFlags[p] & PF_CODE) !== 0) mem.onCodeStore(p << PAGE_SHIFT, PAGE_SIZE);
    this.machine.restoreState(cp.state, true);
    return written;
  }

  /**
   * Runs the machine forward from where it stands to exactly `target`, giving the recorded inputs at their moments
   * (breakpoints in the CPU's set are run through, not stopped at). Returns the machine's stop reason if the run
   * ended before `target` (it cannot, for a moment the run has reached before), else null.
   */
  runTo(target: number, from: Checkpoint<S>): string | null {
    for (const input of this.inputsAfter(from, target)) {
      const r = this.runExactly(input.icount);
      if (r !== null) return r;
      this.give(input);
    }
    return this.runExactly(target);
  }

  /** Gives a recorded input to the guest again. */
  give(input: RecordedInput): void {
    if (input.kind === 'serial') this.machine.serialInput(input.bytes);
    else if (input.kind === 'keys') this.machine.keyboardInput(input.bytes);
    else this.machine.typeKeys(input.keys);
  }

  private runExactly(target: number): string | null {
    const m = this.machine;
    while (m.cpu.icount < target) {
      const r = m.runSlice(target - m.cpu.icount);
      if (r.reason === 'breakpoint') {
        const s = m.step();
        if (s !== null) return s;
      } else if (r.reason !== null && r.reason !== 'stopped' && m.cpu.icount < target) return r.reason;
    }
    return null;
  }

  // ---- inputs ----

  /** Notes an input the guest receives now. Inputs recorded for later moments are of a future that is gone. */
  recordInput(input: InputPayload): void {
    const icount = this.machine.cpu.icount;
    while (this.inputs.length > 0 && this.inputs[this.inputs.length - 1].icount > icount) this.inputs.pop();
    this.inputs.push({ ...input, icount, seq: this.nextSeq++ });
  }

  /** The inputs a replay from `cp` gives before `to`: those recorded after the checkpoint was taken, in order. */
  inputsAfter(cp: Checkpoint<S>, to: number): RecordedInput[] {
    return this.inputs.filter((x) => x.seq >= cp.inputSeq && x.icount < to);
  }

  /**
   * The recorded inputs still to come after a replay from `cp` has arrived at `at`: a forward run from there gives
   * them at their moments, so it goes on as the recorded run did (and as its later checkpoints say).
   */
  inputsAhead(cp: Checkpoint<S>, at: number): RecordedInput[] {
    return this.inputs.filter((x) => x.seq >= cp.inputSeq && x.icount >= at);
  }

  /**
   * Drops every checkpoint at or after `icount` and the inputs from it on: the debugger changed the machine at
   * that moment, so the recorded future is no longer the future (the caller takes a new checkpoint of the changed
   * machine). The copy compared with next becomes the memory at the last kept checkpoint.
   */
  forgetFrom(icount: number): void {
    while (this.checkpoints.length > 0 && this.latest >= icount) {
      const cp = this.checkpoints.pop()!;
      const number = this.base + this.checkpoints.length;
      for (const p of cp.pages) {
        const list = this.versions[p];
        if (list.length > 0 && list[list.length - 1].at === number) list.pop();
      }
      this.bytes -= cp.bytes;
    }
    while (this.inputs.length > 0 && this.inputs[this.inputs.length - 1].icount >= icount) this.inputs.pop();
    this.furthest = icount;
    if (this.checkpoints.length === 0) {
      this.base = 0;
      this.bytes = 0;
      this.shadow.fill(0);
      return;
    }
    for (let p = 0; p < this.versions.length; p++) {
      const list = this.versions[p];
      if (list.length > 0) this.shadow.set(list[list.length - 1].data, p << PAGE_SHIFT);
    }
  }

  /** Merges the oldest checkpoints into their successors while the record is over its cap (keeping two at least). */
  private trim(): void {
    while (this.bytes > this.maxBytes && this.checkpoints.length > 2) {
      const oldest = this.checkpoints.shift()!;
      const dropped = this.base;
      this.base++;
      this.bytes -= oldest.bytes;
      // The new oldest checkpoint must hold every page: a page it has no version of takes over the dropped one's.
      const heir = this.checkpoints[0];
      const heirPages = new Set(heir.pages);
      for (const p of oldest.pages) {
        const list = this.versions[p];
        const v = list[0];
        if (v === undefined || v.at !== dropped) continue;
        if (heirPages.has(p)) {
          list.shift();
        } else {
          v.at = this.base;
          (heir.pages as number[]).push(p);
          const size = v.data === ZERO_PAGE ? 0 : PAGE_SIZE;
          heir.bytes += size;
          this.bytes += size;
        }
      }
      while (this.inputs.length > 0 && this.inputs[0].icount < heir.icount) this.inputs.shift();
    }
  }
}

/** Bytes compared in one native call before looking at single pages: most of memory is the same between two checkpoints. */
const CHUNK = 16 * PAGE_SIZE;

/**
 * Numbers of the pages in which `a` and `b` (of one length, a multiple of the page size) differ, ascending. Chunks
 * are compared first: one native call per 64 KiB instead of one per page costs a fifth as much on 16 MiB, and far
 * less while the code is still cold.
 */
function changedPages(a: Buffer, b: Buffer): number[] {
  const out: number[] = [];
  for (let c = 0; c < a.length; c += CHUNK) {
    const end = Math.min(c + CHUNK, a.length);
    if (a.compare(b, c, end, c, end) === 0) continue;
    for (let s = c; s < end; s += PAGE_SIZE) if (a.compare(b, s, s + PAGE_SIZE, s, s + PAGE_SIZE) !== 0) out.push(s >>> PAGE_SHIFT);
  }
  return out;
}

function isZero(mem32: Int32Array, w0: number, words: number): boolean {
  for (let w = w0, end = w0 + words; w < end; w++) if (mem32[w] !== 0) return false;
  return true;
}

/** A Buffer over the same bytes (no copy), for its native compare. */
function bytesOf(a: Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
