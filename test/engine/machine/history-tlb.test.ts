// The guest's TLB across reverse execution's checkpoints (engine/machine/history.ts, Tlb.save/load): it is
// guest-visible state — a translation the guest rewrote without INVLPG stays in use (SDM 3A §4.10.4) — so a
// checkpoint must not empty it (under the monitor a checkpoint restarts the monitor; under the debug adapter one is
// taken every 40 ms of wall time, which would make the guest's run depend on the host's speed), a restore must bring
// back the TLB of the restored moment, and never keep the one of the moment it left.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { History } from '../../../engine/machine/history';
import { attachMonitor } from '../../../engine/monitor/monitor';
import { BODY, encode, PAGING_PROLOGUE, PROGRAM_BASE, programFromSlots, TABLES, withPageTables } from '../../../engine/monitor/random-program';

const LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
const RESULTS = 0x20000;
const { PAGE_TABLE } = TABLES;
const load = (addr: number): number[] => [0x36, 0xa1, ...encode.le32(addr)];
const store = (addr: number): number[] => [0x36, 0xa3, ...encode.le32(addr)];
const invlpg = (addr: number): number[] => [0x36, 0x0f, 0x01, 0x3d, ...encode.le32(addr)];
/** Page 0x40's table entry pointed at frame 0x41000 (present, writable, user), without a flush. */
const REMAP = encode.storeSs(PAGE_TABLE + 0x40 * 4, 0x41007);

/** Frames 0x40000 and 0x41000 hold A and B; linear page 0x40 maps frame 0x40000 until `body` remaps it. */
function image(body: number[][]): Uint8Array {
  return withPageTables(programFromSlots([...PAGING_PROLOGUE, encode.storeSs(0x40000, 0xaaaaaaaa), encode.storeSs(0x41000, 0xbbbbbbbb), ...body])).image;
}

function machine(img: Uint8Array, monitor: boolean): Machine {
  const m = new Machine({ memoryMB: 4 });
  if (monitor) attachMonitor(m, { sbe: 'auto' });
  m.load(img, LOAD);
  return m;
}

const results = (m: Machine): number[] => [0, 1, 2].map((k) => m.mem.peek(RESULTS + 4 * k, 4) >>> 0);

/** Runs to the exit; with a History, a checkpoint after every instruction (each restarts a monitor). */
function runToExit(m: Machine, h: History | null): number {
  for (let k = 0; k < 100_000; k++) {
    const r = m.runSlice(1);
    if (r.reason === 'exit') return m.cpu.icount;
    expect(r.reason === null || r.reason === 'stopped', `stop ${r.reason}`).toBe(true);
    h?.take(null);
  }
  throw new Error('no exit');
}

describe("the guest's TLB across checkpoints", () => {
  // Read through page 0x40 (fills the TLB: frame 0x40000), remap it without a flush, read again (the stale
  // translation: A), INVLPG, read again (B).
  const stale = image([load(0x40000), REMAP, load(0x40000), store(RESULTS), invlpg(0x40000), load(0x40000), store(RESULTS + 4)]);

  for (const monitor of [false, true]) {
    const mode = monitor ? 'monitored' : 'bare';

    it(`${mode}: a checkpoint after every instruction keeps the stale translation in use, as without checkpoints`, () => {
      const plain = machine(stale, monitor);
      const end = runToExit(plain, null);
      expect(results(plain).slice(0, 2)).toEqual([0xaaaaaaaa, 0xbbbbbbbb]);
      const recorded = machine(stale, monitor);
      expect(runToExit(recorded, new History(recorded, { maxBytes: 1 << 30 }))).toBe(end);
      expect(results(recorded)).toEqual(results(plain));
    });

    it(`${mode}: a replay from a checkpoint between the remap and the read uses the stale translation again`, () => {
      const m = machine(stale, monitor);
      const h = new History(m, { maxBytes: 1 << 30 });
      const end = runToExit(m, h);
      // From every checkpoint (those between the remap and the second read hold the stale entry): the same end.
      const checkpoints = h.checkpointsBefore(end);
      expect(checkpoints.length).toBeGreaterThan(10);
      for (const cp of checkpoints) {
        h.restore(cp);
        expect(runToExit(m, null), `from ${cp.icount}`).toBe(end);
        expect(results(m).slice(0, 2), `replayed from instruction ${cp.icount}`).toEqual([0xaaaaaaaa, 0xbbbbbbbb]);
      }
    });

    it(`${mode}: a restore brings back the restored moment's TLB, not a translation of the moment it left`, () => {
      // Remap with INVLPG and read (B, cached); restored to before the first read, the read must walk again and
      // find frame 0x40000 (A) in the restored tables; a TLB kept from the end would give B.
      const m = machine(image([load(0x40000), store(RESULTS), REMAP, invlpg(0x40000), load(0x40000), store(RESULTS + 4)]), monitor);
      const h = new History(m, { maxBytes: 1 << 30 });
      const end = runToExit(m, h);
      expect(results(m).slice(0, 2)).toEqual([0xaaaaaaaa, 0xbbbbbbbb]);
      const firstRead = BODY + 16 * (PAGING_PROLOGUE.length + 2);
      const beforeFirstRead = h.checkpointsBefore(end).filter((cp) => cp.state.cpu.eip === firstRead);
      expect(beforeFirstRead.length).toBe(1);
      h.restore(beforeFirstRead[0]);
      expect(m.mem.peek(RESULTS, 4) >>> 0).toBe(0);
      runToExit(m, null);
      expect(results(m).slice(0, 2)).toEqual([0xaaaaaaaa, 0xbbbbbbbb]);
    });
  }
});
