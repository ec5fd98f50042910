// Shared by the loader tests: fixture files and whether an external tool can be run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(__dirname, '..', '..', '..', 'fixtures');

export function fixture(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, ...parts)));
}

export function hasTool(name: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(name, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Rows of `readelf --debug-dump=decodedline` as (addr, line) pairs, end-of-sequence rows left out. */
export function readelfLineRows(file: string): { addr: number; line: number }[] {
  const out = execFileSync('readelf', ['--debug-dump=decodedline', file], { encoding: 'utf8' });
  const rows: { addr: number; line: number }[] = [];
  for (const l of out.split('\n')) {
    const m = /^\S+\s+(\d+)\s+(0x[0-9a-f]+)/.exec(l);
    if (m) rows.push({ line: Number(m[1]), addr: Number.parseInt(m[2], 16) });
  }
  return rows;
}

/** 1-based number of the first line of `source` that contains `marker`. */
export function lineOf(source: string, marker: string): number {
  const i = source.split('\n').findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`marker ${marker} not in source`);
  return i + 1;
}
