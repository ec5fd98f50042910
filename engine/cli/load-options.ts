// Options shared by the commands that load an image (run, lockstep): --format, --load, --entry, --mode, --initrd,
// --append, and the image file itself, with one-line errors for bad input.

import { readFileSync, statSync } from 'node:fs';
import { IMAGE_FORMATS, type ImageFormat, type LoadOptions } from '../machine/loaders';
import { parseNumber, UsageError } from './args';

export function parseLoadOptions(values: Map<string, string>): LoadOptions {
  const opts: LoadOptions = {};
  const format = values.get('format');
  if (format !== undefined) {
    if (!IMAGE_FORMATS.includes(format as ImageFormat)) {
      throw new UsageError(`option --format: unknown format "${format}" (expected ${IMAGE_FORMATS.join('|')})`);
    }
    opts.format = format as ImageFormat;
  }
  if (values.has('load')) opts.loadAddress = parseNumber(values.get('load')!, 'load');
  if (values.has('entry')) opts.entry = parseNumber(values.get('entry')!, 'entry');
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
