// `ringside lockstep --free-run`: besides bare against monitored, each image runs freely (in slices, translation on,
// as `ringside run` and the debug adapter run it) against one instruction per step, bare and monitored
// (engine/monitor/free-run.ts). One line per comparison; a divergence is described on stderr.

import type { LoadOptions } from '../machine/loaders';
import { FREE_RUN_LABELS, freeRunCompare } from '../monitor/free-run';
import { describeDivergence } from '../monitor/lockstep';
import type { SbeMode } from '../monitor/monitor';

export interface FreeRunCliOptions {
  load: LoadOptions;
  memoryMB: number;
  maxInstructions: number;
  sbe: SbeMode;
  /** Instructions per free-running slice (default: what `ringside run` uses). */
  slice?: number;
  json: boolean;
}

/** Compares free running with stepping for one image, bare then monitored; false at the first divergence. */
export function freeRunChecks(name: string, image: Uint8Array, o: FreeRunCliOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): boolean {
  for (const monitored of [false, true]) {
    const r = freeRunCompare(image, { load: o.load, memoryMB: o.memoryMB, maxInstructions: o.maxInstructions, monitored, sbe: o.sbe, slice: o.slice });
    const side = monitored ? 'monitored' : 'bare';
    if (o.json) {
      const summary = {
        image: name,
        compare: `free run vs steps, ${side}`,
        instructions: r.instructions,
        comparisons: r.comparisons,
        outputBytes: r.outputBytes,
        stop: r.stop,
        divergence: r.divergence === null ? null : r.divergence.field,
      };
      out.write(JSON.stringify(summary) + '\n');
    } else {
      const verdict = r.divergence === null ? 'no divergence' : 'DIVERGED';
      out.write(`${name}: free run vs steps (${side}): ${r.instructions} instructions, ${r.comparisons} comparisons, ${r.outputBytes} output bytes, stop ${r.stop ?? 'none'}, ${verdict}\n`);
    }
    if (r.divergence !== null) {
      err.write(`free run vs steps (${side}): ${describeDivergence(r.divergence, FREE_RUN_LABELS)}\n`);
      return false;
    }
  }
  return true;
}
