// The image-loader fuzzer (issue 17): mutated images of every format — and random load options — through the
// loaders, then a short run. Each must end in an ImageError with a one-line message, or load and run normally
// (any stop reason); anything else — another exception, a multi-line or empty message, a run over the wall-clock
// bound — is a finding, with the seed that rebuilds the image.

import { ImageError, IMAGE_FORMATS, readElfDebugInfo, type LoadOptions } from '../machine/loaders';
import { Machine } from '../machine/machine';
import { Rng } from '../monitor/random-program';
import { seedImages, type SeedImage } from './seed-images';

export interface ImageFuzzOptions {
  runs: number;
  seed: number;
  /** Instructions each loaded image runs (default 2000). */
  instructions?: number;
  seconds?: number;
  /** A run over this wall-clock time is reported (default 5 s). */
  slowSeconds?: number;
  /** More valid images to mutate (e.g. the examples), besides the built-in ones. */
  corpus?: { name: string; bytes: Uint8Array }[];
}

export interface ImageFinding {
  kind: 'crash' | 'bad-message' | 'slow';
  seed: number;
  base: string;
  summary: string;
  detail: string;
  image: Uint8Array;
  options: LoadOptions;
  memoryMB: number;
}

export interface ImageFuzzReport {
  runs: number;
  /** Runs that ended in an ImageError (the image or an option was refused). */
  rejected: number;
  /** Runs that loaded and ran. */
  ran: number;
  crashes: number;
  badMessages: number;
  slow: number;
  byBase: Record<string, number>;
  findings: ImageFinding[];
  seconds: number;
}

const INTERESTING8 = [0, 1, 0x7f, 0x80, 0xff, 0x55, 0xaa];
const INTERESTING32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0, 0x1000, 0x100000, 0x7c00, 0xfff0, 0x10000, 52, 32, 40];

/** One mutation of `b` (a copy is returned when the length changes). */
function mutate(r: Rng, b: Uint8Array, seed: SeedImage): Uint8Array {
  const at = (): number => (b.length === 0 ? 0 : r.below(b.length));
  const put32 = (o: number, v: number): void => {
    for (let k = 0; k < 4 && o + k < b.length; k++) b[o + k] = (v >>> (8 * k)) & 0xff;
  };
  switch (r.below(11)) {
    case 0: if (b.length) b[at()] ^= 1 << r.below(8); return b;
    case 1: if (b.length) b[at()] = r.pick(INTERESTING8); return b;
    case 2: if (b.length) b[at()] = r.below(256); return b;
    case 3: put32(at(), r.chance(0.5) ? r.pick(INTERESTING32) : r.next()); return b;
    case 4: if (seed.fields32.length) put32(r.pick(seed.fields32), r.chance(0.6) ? r.pick(INTERESTING32) : r.next()); return b;
    case 5: {
      if (seed.fields16.length === 0) return b;
      const o = r.pick(seed.fields16);
      const v = r.chance(0.5) ? r.pick([0, 1, 0xffff, 0x8000, 32, 40, 52]) : r.below(0x10000);
      if (o + 1 < b.length) [b[o], b[o + 1]] = [v & 0xff, v >>> 8];
      return b;
    }
    case 6: return b.slice(0, r.below(b.length + 1)); // truncate
    case 7: { // extend with random bytes
      const out = new Uint8Array(b.length + 1 + r.below(r.chance(0.1) ? 70_000 : 600));
      out.set(b);
      for (let k = b.length; k < out.length; k++) out[k] = r.below(256);
      return out;
    }
    case 8: { // delete a chunk
      const s = at();
      const n = 1 + r.below(64);
      return Uint8Array.from([...b.subarray(0, s), ...b.subarray(Math.min(b.length, s + n))]);
    }
    case 9: { // copy a chunk over another place
      const from = at();
      const to = at();
      const n = Math.min(1 + r.below(64), b.length - from, b.length - to);
      if (n > 0) b.copyWithin(to, from, from + n);
      return b;
    }
    default: { // fill a chunk with one value
      const s = at();
      b.fill(r.pick(INTERESTING8), s, Math.min(b.length, s + 1 + r.below(256)));
      return b;
    }
  }
}

/** Load options at random: usually none, sometimes every kind of value (good, odd and out of range). */
function randomOptions(r: Rng): LoadOptions {
  const o: LoadOptions = {};
  if (r.chance(0.3)) o.format = r.chance(0.9) ? r.pick(IMAGE_FORMATS) : ('exe' as LoadOptions['format']);
  const address = (): number => r.pick([0, 0x7c00, 0x100000, 0xffff0, 0xfffff, 0xffffffff, 0x100000000, -1, 0.5, NaN, r.next()]);
  if (r.chance(0.2)) o.loadAddress = address();
  if (r.chance(0.2)) o.entry = address();
  if (r.chance(0.2)) o.mode = r.chance(0.9) ? r.pick(['real', 'protected'] as const) : ('long' as LoadOptions['mode']);
  return o;
}

/** Runs the fuzzer; bounded by `runs` and `seconds`. */
export function fuzzImages(options: ImageFuzzOptions): ImageFuzzReport {
  const bases: SeedImage[] = [...seedImages(), ...(options.corpus ?? []).map((c) => ({ name: c.name, bytes: c.bytes, fields32: [], fields16: [] }))];
  const instructions = options.instructions ?? 2000;
  const slowMs = (options.slowSeconds ?? 5) * 1000;
  const t0 = Date.now();
  const report: ImageFuzzReport = { runs: 0, rejected: 0, ran: 0, crashes: 0, badMessages: 0, slow: 0, byBase: {}, findings: [], seconds: 0 };
  for (let n = 0; n < options.runs; n++) {
    if (options.seconds !== undefined && Date.now() - t0 > options.seconds * 1000) break;
    const seed = options.seed + n;
    const r = new Rng(seed * 2246822519);
    const base = r.pick(bases);
    let image: Uint8Array = base.bytes.slice();
    for (let m = 1 + r.below(r.chance(0.2) ? 40 : 6); m > 0; m--) image = mutate(r, image, base);
    const loadOptions = randomOptions(r);
    const memoryMB = r.pick([1, 2, 4, 16]);
    const finding = (kind: ImageFinding['kind'], summary: string, detail: string): void => {
      report.findings.push({ kind, seed, base: base.name, summary, detail, image, options: loadOptions, memoryMB });
      if (kind === 'crash') report.crashes++;
      else if (kind === 'bad-message') report.badMessages++;
      else report.slow++;
    };
    const started = Date.now();
    try {
      const machine = new Machine({ memoryMB });
      machine.load(image, loadOptions);
      machine.run(instructions);
      report.ran++;
    } catch (e) {
      if (e instanceof ImageError) {
        report.rejected++;
        if (e.message.length === 0 || /[\r\n]/.test(e.message)) finding('bad-message', `ImageError message ${JSON.stringify(e.message)}`, String(e.stack));
      } else {
        const err = e as Error;
        finding('crash', `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`, String(err?.stack ?? e));
      }
    }
    // The `symbols` launch attribute reads any file as an ELF for its symbols and lines.
    try {
      readElfDebugInfo(image);
    } catch (e) {
      if (!(e instanceof ImageError)) {
        const err = e as Error;
        finding('crash', `readElfDebugInfo: ${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`, String(err?.stack ?? e));
      } else if (e.message.length === 0 || /[\r\n]/.test(e.message)) {
        finding('bad-message', `readElfDebugInfo: ImageError message ${JSON.stringify(e.message)}`, String(e.stack));
      }
    }
    const took = Date.now() - started;
    if (took > slowMs) finding('slow', `took ${(took / 1000).toFixed(1)} s (bound ${slowMs / 1000} s)`, '');
    report.runs++;
    report.byBase[base.name] = (report.byBase[base.name] ?? 0) + 1;
  }
  report.seconds = (Date.now() - t0) / 1000;
  return report;
}
