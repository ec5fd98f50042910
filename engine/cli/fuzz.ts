// `ringside fuzz guest|images [options]`: the project's own fuzzers (engine/fuzz/), bounded by a run count and a
// time limit, reproducible from the seed. Prints one line per finding and a summary line; with --out DIR, writes
// each finding's image there with the command that replays it. Exit code 0 when nothing was found, 4 otherwise.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fuzzGuests, type GuestFuzzReport } from '../fuzz/guest-fuzz';
import { fuzzImages, type ImageFuzzReport } from '../fuzz/image-fuzz';
import type { LoadOptions } from '../machine/loaders';
import { parseArgs, parseNumber, UsageError } from './args';

const SPEC = { values: ['runs', 'seed', 'seconds', 'instructions', 'out'], flags: ['json', 'help'] };

export const FUZZ_HELP = `fuzz options (ringside fuzz guest|images):
  --runs N            programs or images to try (default 100)
  --seed S            first seed (default 1); run k uses seed S + k, so one seed replays one finding
  --seconds T         start no run after T seconds (default: no limit)
  --instructions N    instructions per comparison (guest, default 3000) or per loaded image (images, default 2000)
  --out DIR           write each finding's image there, with the command that replays it
  --json              the summary as one JSON line
`;

function loadArgs(o: LoadOptions): string {
  const parts: string[] = [];
  if (o.format !== undefined) parts.push(`--format ${o.format}`);
  if (o.loadAddress !== undefined) parts.push(`--load 0x${o.loadAddress.toString(16)}`);
  if (o.entry !== undefined) parts.push(`--entry 0x${o.entry.toString(16)}`);
  if (o.mode !== undefined) parts.push(`--mode ${o.mode}`);
  return parts.join(' ');
}

export function fuzzCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  try {
    const { positional, values, flags } = parseArgs(argv, SPEC);
    if (flags.has('help')) {
      out.write(FUZZ_HELP);
      return 0;
    }
    const target = positional[0];
    if (positional.length !== 1 || (target !== 'guest' && target !== 'images')) throw new UsageError('fuzz needs one target: guest or images');
    const num = (name: string, dflt: number | undefined): number | undefined => (values.has(name) ? parseNumber(values.get(name)!, name) : dflt);
    const runs = num('runs', 100)!;
    const seed = num('seed', 1)!;
    const seconds = num('seconds', undefined);
    const instructions = num('instructions', undefined);
    const dir = values.get('out');
    if (dir !== undefined) mkdirSync(dir, { recursive: true });
    const save = (name: string, bytes: Uint8Array): string => {
      const file = join(dir!, name);
      writeFileSync(file, bytes);
      return file;
    };
    let report: GuestFuzzReport | ImageFuzzReport;
    if (target === 'guest') {
      const r = fuzzGuests({ runs, seed, seconds, instructions });
      for (const f of r.findings) {
        const image = dir !== undefined ? save(`guest-${f.seed}.bin`, f.program.image) : `<image of seed ${f.seed}: add --out DIR>`;
        out.write(`${f.kind}: seed ${f.seed} (${f.program.kind}), ${f.comparison}: ${f.summary}\n`);
        out.write(`  replay: ringside lockstep ${image} ${loadArgs(f.program.load)} --instructions ${instructions ?? 3000} --free-run\n`);
        if (f.detail !== '') err.write(`seed ${f.seed}, ${f.comparison}:\n${f.detail}\n`);
      }
      report = r;
      const line = `guest fuzzer: ${r.runs} programs (${Object.entries(r.byKind).map(([k, n]) => `${n} ${k}`).join(', ')}), ${r.instructions} instructions compared, ${r.crashes} crashes, ${r.disagreements} disagreements, ${r.slow} slow, ${r.seconds.toFixed(1)} s`;
      out.write((flags.has('json') ? JSON.stringify({ ...r, findings: r.findings.length }) : line) + '\n');
    } else {
      const r = fuzzImages({ runs, seed, seconds, instructions });
      for (const f of r.findings) {
        const image = dir !== undefined ? save(`image-${f.seed}.bin`, f.image) : `<image of seed ${f.seed}: add --out DIR>`;
        out.write(`${f.kind}: seed ${f.seed} (mutated ${f.base}): ${f.summary}\n`);
        out.write(`  replay: ringside run ${image} ${loadArgs(f.options)} --memory ${f.memoryMB} --max-instructions ${instructions ?? 2000}\n`);
        if (f.detail !== '') err.write(`seed ${f.seed}:\n${f.detail}\n`);
      }
      report = r;
      const line = `image fuzzer: ${r.runs} images (${Object.entries(r.byBase).map(([k, n]) => `${n} ${k}`).join(', ')}), ${r.rejected} refused with an ImageError, ${r.ran} ran, ${r.crashes} crashes, ${r.badMessages} bad messages, ${r.slow} slow, ${r.seconds.toFixed(1)} s`;
      out.write((flags.has('json') ? JSON.stringify({ ...r, findings: r.findings.length }) : line) + '\n');
    }
    return report.findings.length === 0 ? 0 : 4;
  } catch (e) {
    const message = e instanceof UsageError ? e.message : String((e as Error)?.stack ?? e);
    err.write(`ringside: ${message}\n`);
    return 1;
  }
}
