// Data breakpoints ("Break on Value Change", and by address with read/write/readWrite): what each watches and how.
//   memory    → engine/cpu/watch.ts on the physical bytes the linear range maps to when it is set;
//   segment   → the segment-load event of that register (any load, whatever the value);
//   register  → compared after every instruction, so a run with one armed goes instruction by instruction.
// Each may carry a condition and a hit count, decided when the access happens.

import { SEGMENT_NAMES, type Cpu } from '../engine/cpu/cpu';
import { MemoryWatch, type WatchAccess, type WatchRange } from '../engine/cpu/watch';
import { peekTranslate } from '../engine/cpu/protect/peek';
import type { EventMap } from '../engine/events';
import { formatEvent } from '../engine/trace';
import { hitMatches, parseHitCondition, type HitCondition } from './breakpoints';
import { evaluateNode, truthy, type EvalContext } from './expression/evaluate';
import { parseExpression, type Node } from './expression/parse';

/** What a data breakpoint watches. */
export type DataTarget =
  | { kind: 'memory'; linear: number; length: number }
  | { kind: 'segment'; reg: number }
  | { kind: 'register'; name: string };

export interface DataBreakpointRequest {
  id: number;
  target: DataTarget;
  access: WatchAccess;
  condition?: string;
  hitCondition?: string;
}

export interface DataBreakpointResult {
  id: number;
  verified: boolean;
  message?: string;
}

/** A data breakpoint's hit: the id and what happened, in words. */
export interface DataHit {
  id: number;
  text: string;
}

interface Armed {
  req: DataBreakpointRequest;
  condition: Node | null;
  hit: HitCondition | null;
  hits: number;
}

interface RegisterWatch {
  armed: Armed;
  name: string;
  last: number;
}

export class DataBreakpoints {
  private readonly watch: MemoryWatch;
  private memory = new Map<number, Armed>();
  private segments = new Map<number, Armed>();
  private registers: RegisterWatch[] = [];

  /**
   * `context` gives the expression context of the CPU as the guest sees it; `onHit` is called from inside the
   * guest's instruction (it asks for a stop); `live` says whether hits count now (the guest runs).
   */
  constructor(
    private readonly cpu: Cpu,
    private readonly context: () => EvalContext,
    private readonly onHit: (hit: DataHit) => void,
    private readonly live: () => boolean,
    /** The CPU as the guest sees it (under the monitor its paging is the guest's, not the shadow's). */
    private readonly guestCpu: () => Cpu = () => cpu,
  ) {
    this.watch = new MemoryWatch(cpu.mem);
    this.watch.onHit = (h) => {
      const armed = this.memory.get(h.id);
      if (!this.live() || !armed || !this.holds(armed)) return;
      const at = `at physical 0x${h.addr.toString(16)}`;
      const text =
        h.access === 'write'
          ? `write of ${h.size} byte(s) ${at}: 0x${(h.oldValue ?? 0).toString(16)} -> 0x${(h.newValue ?? 0).toString(16)}`
          : `read of ${h.size} byte(s) ${at}`;
      this.onHit({ id: h.id, text });
    };
  }

  /** Whether any data breakpoint is set. */
  get any(): boolean {
    return this.memory.size + this.segments.size + this.registers.length > 0;
  }

  get watchesSegments(): boolean {
    return this.segments.size > 0;
  }

  get watchesRegisters(): boolean {
    return this.registers.length > 0;
  }

  /** Condition and hit count of a data breakpoint whose access happened; counts the hit when the condition holds. */
  private holds(a: Armed): boolean {
    if (a.condition) {
      try {
        if (!truthy(evaluateNode(a.condition, this.context()))) return false;
      } catch {
        // A condition that cannot be evaluated stops, so the user sees the problem at the place it happened.
        return true;
      }
    }
    a.hits++;
    return a.hit ? hitMatches(a.hit, a.hits) : true;
  }

  /** Replaces every data breakpoint. */
  set(list: DataBreakpointRequest[]): DataBreakpointResult[] {
    const ranges: WatchRange[] = [];
    this.memory = new Map();
    this.segments = new Map();
    this.registers = [];
    const ctx = this.context();
    const results = list.map((req): DataBreakpointResult => {
      let armed: Armed;
      try {
        armed = {
          req,
          condition: req.condition?.trim() ? parseExpression(req.condition) : null,
          hit: req.hitCondition?.trim() ? parseHitCondition(req.hitCondition) : null,
          hits: 0,
        };
      } catch (e) {
        return { id: req.id, verified: false, message: (e as Error).message };
      }
      const t = req.target;
      if (t.kind === 'segment') {
        if (req.access === 'read') return { id: req.id, verified: false, message: 'a segment register can only be watched for changes (write)' };
        this.segments.set(t.reg, armed);
        return { id: req.id, verified: true, message: `stops when ${SEGMENT_NAMES[t.reg]} is loaded` };
      }
      if (t.kind === 'register') {
        if (req.access === 'read') return { id: req.id, verified: false, message: 'a register can only be watched for changes (write)' };
        const v = ctx.lookup(t.name);
        if (typeof v !== 'number') return { id: req.id, verified: false, message: `${t.name} is not a register` };
        this.registers.push({ armed, name: t.name, last: v });
        return { id: req.id, verified: true, message: 'register watches run the guest one instruction at a time (slower)' };
      }
      // Memory: linear → physical now, page by page.
      const mine: WatchRange[] = [];
      for (let k = 0; k < t.length; ) {
        const lin = (t.linear + k) >>> 0;
        const phys = peekTranslate(this.guestCpu(), lin);
        if (phys < 0) return { id: req.id, verified: false, message: `linear 0x${lin.toString(16)} is not mapped` };
        const n = Math.min(t.length - k, 0x1000 - (lin & 0xfff));
        if (phys + n > this.cpu.mem.size) return { id: req.id, verified: false, message: `linear 0x${lin.toString(16)} is not in installed memory` };
        mine.push({ id: req.id, phys, length: n, access: req.access });
        k += n;
      }
      ranges.push(...mine);
      this.memory.set(req.id, armed);
      return { id: req.id, verified: true };
    });
    this.watch.set(ranges);
    return results;
  }

  /** A segment load while the guest runs (the runtime listens for it while a segment is watched). */
  onSegmentLoad(x: EventMap['segment-load']): void {
    const armed = this.segments.get(x.reg);
    if (armed && this.live() && this.holds(armed)) this.onHit({ id: armed.req.id, text: formatEvent('segment-load', x) });
  }

  /** After an instruction: reports each watched register whose value changed. */
  checkRegisters(): void {
    const ctx = this.context();
    for (const w of this.registers) {
      const v = ctx.lookup(w.name) as number;
      if (v === w.last) continue;
      const old = w.last;
      w.last = v;
      if (this.holds(w.armed)) this.onHit({ id: w.armed.req.id, text: `${w.name.toUpperCase()} changed: 0x${old.toString(16)} -> 0x${v.toString(16)}` });
    }
  }

  /** Hit counts of every data breakpoint, in the order they were set (reverse execution keeps them per moment). */
  hitCounts(): number[] {
    return [...this.memory.values(), ...this.segments.values(), ...this.registers.map((w) => w.armed)].map((a) => a.hits);
  }

  /** Puts back hit counts `hitCounts` gave (for the same set of data breakpoints; otherwise they start over). */
  restoreHits(counts: readonly number[]): void {
    const all = [...this.memory.values(), ...this.segments.values(), ...this.registers.map((w) => w.armed)];
    all.forEach((a, k) => (a.hits = all.length === counts.length ? counts[k] : 0));
  }

  /** At a stop: the values register watches compare against from now on (edits by the user are not changes). */
  rebaseRegisters(): void {
    const ctx = this.context();
    for (const w of this.registers) w.last = ctx.lookup(w.name) as number;
  }

  dispose(): void {
    this.watch.dispose();
  }
}
