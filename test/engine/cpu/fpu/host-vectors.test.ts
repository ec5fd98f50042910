// Ringside's x87 against the host's: every vector of test/fixtures/x87/vectors.bin.gz (written by gen.c on a real
// x87) run through Ringside's decoder and FPU. Basic operations must match bit for bit (registers, status word, tag
// word, memory, EFLAGS); the transcendentals are measured in ulps and held to the bound documented in README.md.

import { describe, expect, it } from 'vitest';
import { expected, hex80, liveRegisters, loadVectors, opMachine, RECORD, runVector, ulps } from './host-vectors';

const TRANSCENDENTAL = new Set(['f2xm1', 'fyl2x', 'fyl2xp1', 'fptan', 'fpatan', 'fsin', 'fcos', 'fsincos']);
/** Largest distance from the host's result a transcendental may have, in units in the last place. */
const ULP_BOUND = 1;
const SW_NO_C1_PE = ~(0x0200 | 0x0020) & 0xffff;

const file = loadVectors();
const perOp = file.count / file.ops.length;

describe(`x87 vectors from the host (${file.brand}, ${file.count} vectors)`, () => {
  const summary: string[] = [];
  for (let k = 0; k < file.ops.length; k++) {
    const op = file.ops[k];
    const trans = TRANSCENDENTAL.has(op.name);
    it(op.name, () => {
      const m = opMachine(op);
      const failures: string[] = [];
      let worst = 0;
      let exact = 0;
      let passed = 0;
      for (let n = 0; n < perOp; n++) {
        const rec = file.records.subarray((k * perOp + n) * RECORD, (k * perOp + n + 1) * RECORD);
        const want = expected(rec);
        const got = runVector(m, rec);
        const problems: string[] = [];
        const live = liveRegisters(want);
        if (trans) {
          if ((got.sw & SW_NO_C1_PE) !== (want.sw & SW_NO_C1_PE)) problems.push(`sw ${got.sw.toString(16)} want ${want.sw.toString(16)}`);
          for (const r of live) {
            const d = ulps(got.st, want.st, r);
            worst = Math.max(worst, d);
            if (d > ULP_BOUND) problems.push(`st${r} ${hex80(got.st, r)} want ${hex80(want.st, r)} (${d} ulps)`);
          }
        } else {
          if (got.sw !== want.sw) problems.push(`sw ${got.sw.toString(16)} want ${want.sw.toString(16)}`);
          for (const r of live) if (hex80(got.st, r) !== hex80(want.st, r)) problems.push(`st${r} ${hex80(got.st, r)} want ${hex80(want.st, r)}`);
          if (hex80(got.mem, 0) !== hex80(want.mem, 0)) problems.push(`mem ${hex80(got.mem, 0)} want ${hex80(want.mem, 0)}`);
          if (/fu?comi/.test(op.name) && got.eflags !== want.eflags) problems.push(`eflags ${got.eflags.toString(16)} want ${want.eflags.toString(16)}`);
        }
        if (got.tw !== want.tw) problems.push(`tw ${got.tw.toString(16)} want ${want.tw.toString(16)}`);
        if (trans && live.every((r) => hex80(got.st, r) === hex80(want.st, r))) exact++;
        if (problems.length === 0) passed++;
        else if (failures.length < 6) {
          const dv = new DataView(rec.buffer, rec.byteOffset, RECORD);
          failures.push(
            `cw ${dv.getUint16(2, true).toString(16)} nvalid ${rec[6]} st0 ${hex80(rec.subarray(8), 0)} st1 ${hex80(rec.subarray(8), 1)} mem ${hex80(rec.subarray(38), 0)}: ${problems.join('; ')}`,
          );
        }
      }
      summary.push(`${op.name}: ${passed}/${perOp}${trans ? `, ${exact} bit-exact, worst ${worst} ulps` : ''}`);
      if (process.env.X87_REPORT) console.log(summary[summary.length - 1]);
      expect(failures, `${op.name}: ${perOp - passed} of ${perOp} differ`).toEqual([]);
    });
  }
});
