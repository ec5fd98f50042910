// `ringside lockstep IMAGE [options]`: runs an image bare and under the monitor side by side, comparing the
// guest-visible state after every guest instruction (engine/monitor/lockstep.ts); `--random N` runs generated
// protected-mode programs instead of an image.

import { ImageError, type LoadOptions } from '../machine/loaders';
import { describeDivergence, lockstep } from '../monitor/lockstep';
import type { SbeMode } from '../monitor/monitor';
import { PROGRAM_BASE, randomProgram } from '../monitor/random-program';
import { parseArgs, parseNumber, UsageError } from './args';
import { parseCpuOption, parseLoadOptions, readDiskFiles, readImageFile } from './load-options';
import { freeRunChecks } from './lockstep-free-run';

const SPEC = {
  values: ['instructions', 'sbe', 'format', 'load', 'entry', 'mode', 'memory', 'random', 'seed', 'disk', 'cpu', 'slice', 'initrd', 'append'],
  flags: ['json', 'free-run'],
};

export const LOCKSTEP_HELP = `lockstep options:
  --instructions N                      guest instructions to compare (default 1000000; per program with --random)
  --sbe on|off|auto                     the monitored side's SBE (off where the conditions fail shows a divergence)
  --random N                            instead of IMAGE: N generated protected-mode programs (--seed S, default 1;
                                        programs of even seeds turn paging on and rewrite their page tables)
  --free-run                            also run each image freely (in slices, translation on, as run and the
                                        debugger do) against one instruction per step, bare and monitored;
                                        compared after every instruction that prints and at the end
  --slice N                             instructions per free-running slice (default 65536)
  --format --load --entry --mode --memory --disk --cpu   as for run
`;

export function lockstepCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  try {
    const { positional, values, flags, lists } = parseArgs(argv, SPEC);
    const disks = readDiskFiles(lists.get('disk') ?? []);
    const sbe = values.get('sbe') ?? 'auto';
    if (!['on', 'off', 'auto'].includes(sbe)) throw new UsageError(`option --sbe: expected on|off|auto, got "${sbe}"`);
    const max = values.has('instructions') ? parseNumber(values.get('instructions')!, 'instructions') : 1_000_000;
    const cpu = parseCpuOption(values);
    const memoryMB = values.has('memory') ? parseNumber(values.get('memory')!, 'memory') : 4;
    if (memoryMB < 1 || memoryMB > 3072) throw new UsageError(`option --memory: ${memoryMB} MiB is out of range (1–3072)`);
    const runs: { name: string; image: Uint8Array; load: LoadOptions }[] = [];
    if (values.has('random')) {
      if (positional.length !== 0) throw new UsageError('lockstep --random takes no IMAGE');
      const n = parseNumber(values.get('random')!, 'random');
      const seed = values.has('seed') ? parseNumber(values.get('seed')!, 'seed') : 1;
      const load: LoadOptions = { format: 'bin', loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' };
      // Programs of even seeds page (the monitor runs them on its shadow page tables), as in the test suite.
      for (let k = 0; k < n; k++) {
        const paging = (seed + k) % 2 === 0;
        runs.push({ name: `random seed ${seed + k}${paging ? ' (paging)' : ''}`, image: randomProgram(seed + k, 400, { paging }).image, load });
      }
    } else {
      if (positional.length !== 1) throw new UsageError('lockstep needs exactly one IMAGE argument (or --random N)');
      runs.push({ name: positional[0], image: readImageFile(positional[0]), load: parseLoadOptions(values) });
    }
    const slice = values.has('slice') ? parseNumber(values.get('slice')!, 'slice') : undefined;
    if (slice !== undefined && slice < 1) throw new UsageError('option --slice: a slice runs at least 1 instruction');
    const freeRun = flags.has('free-run') ? { memoryMB, maxInstructions: max, sbe: sbe as SbeMode, slice, json: flags.has('json') } : null;
    let total = 0;
    for (const run of runs) {
      const r = lockstep(run.image, { load: run.load, memoryMB, model: cpu, maxInstructions: max, sbe: sbe as SbeMode, disks });
      total += r.instructions;
      const c = r.monitor.counters;
      const summary = {
        image: run.name,
        cpu,
        instructions: r.instructions,
        stop: r.stop,
        divergence: r.divergence === null ? null : r.divergence.field,
        traps: c.totalTraps,
        panics: c.panics,
        sbeOffInstructions: r.monitor.sbeTime().off,
      };
      if (flags.has('json')) out.write(JSON.stringify(summary) + '\n');
      else {
        const panics = c.panics > 0 ? `, ${c.panics} monitor panics (last: ${r.monitor.lastPanic})` : '';
        out.write(`${run.name}: ${r.instructions} instructions compared, stop ${r.stop ?? 'none'}, ${c.totalTraps} monitor traps${panics}, ${r.divergence === null ? 'no divergence' : 'DIVERGED'}\n`);
      }
      if (r.divergence !== null) {
        err.write(describeDivergence(r.divergence) + '\n');
        return 4;
      }
      if (freeRun !== null && !freeRunChecks(run.name, run.image, { ...freeRun, load: run.load }, out, err)) return 4;
    }
    if (runs.length > 1) out.write(`${runs.length} programs, ${total} instructions compared, no divergence\n`);
    return 0;
  } catch (e) {
    const message = e instanceof UsageError || e instanceof ImageError || e instanceof RangeError ? e.message : String((e as Error)?.stack ?? e);
    err.write(`ringside: ${message}\n`);
    return 1;
  }
}
