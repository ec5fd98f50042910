// Options shared by the commands that load an image (run, lockstep): --format, --load, --entry, --mode, --cpu,
// --initrd, --append, and the image file itself, with one-line errors for bad input.

import { readFileSync, statSync } from 'node:fs';
import { IMAGE_FORMATS, type ImageFormat, type LoadOptions } from '../machine/loaders';
import { MAX_ADDRESS, parseNumber, UsageError } from './args';
import { CPU_MODEL_NAMES, DEFAULT_CPU_MODEL, isPublicCpuModel, type PublicCpuModelName } from '../cpu/model';

export function parseLoadOptions(values: Map<string, string>): LoadOptions {
  const opts: LoadOptions = {};
  const format = values.get('format');
  if (format !== undefined) {
    if (!IMAGE_FORMATS.includes(format as ImageFormat)) {
      throw new UsageError(`option --format: unknown format "${format}" (expected ${IMAGE_FORMATS.join('|')})`);
    }
    opts.format = format as ImageFormat;
  }
  if (values.has('load')) opts.loadAddress = parseNumber(values.get('load')!, 'load', MAX_ADDRESS);
  if (values.has('entry')) opts.entry = parseNumber(values.get('entry')!, 'entry', MAX_ADDRESS);
  const mode = values.get('mode');
  if (mode !== undefined) {
    if (mode !== 'real' && mode !== 'protected') throw new UsageError(`option --mode: expected real or protected, got "${mode}"`);
    opts.mode = mode;
  }
  const initrd = values.get('initrd');
  if (initrd !== undefined) opts.initrd = readInputFile(initrd, 'initrd');
  if (values.has('append')) opts.append = values.get('append');
  return opts;
}

/** A file named by an option (--initrd, --serial-in), with a one-line error when it cannot be read. */
export function readInputFile(path: string, option: string): Uint8Array {
  try {
    if (!statSync(path).isFile()) throw new UsageError(`option --${option}: ${path} is not a file`);
    return readFileSync(path);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`option --${option}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function readImageFile(path: string): Uint8Array {
  try {
    if (!statSync(path).isFile()) throw new UsageError(`image ${path} is not a file`);
    return readFileSync(path);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read image ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The files of `--disk FILE` (repeatable): further ATA disks after the boot image; a missing one is a one-line error. */
export function readDiskFiles(paths: readonly string[]): Uint8Array[] {
  if (paths.length > 3) throw new UsageError(`option --disk: at most 3 disks (primary slave, secondary master, secondary slave), not ${paths.length}`);
  return paths.map((path) => {
    try {
      if (!statSync(path).isFile()) throw new UsageError(`disk ${path} is not a file`);
      const bytes = readFileSync(path);
      if (bytes.length === 0) throw new UsageError(`disk ${path} is empty`);
      return bytes;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`cannot read disk ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  });
}

/** `--cpu MODEL` (run, lockstep): one of the public models (engine/cpu/model.ts), default pentium-pro. */
export function parseCpuOption(values: Map<string, string>): PublicCpuModelName {
  const name = values.get('cpu');
  if (name === undefined) return DEFAULT_CPU_MODEL;
  if (!isPublicCpuModel(name)) throw new UsageError(`option --cpu: unknown model "${name}" (expected ${CPU_MODEL_NAMES.join('|')})`);
  return name;
}
