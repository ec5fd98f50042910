// Finding MOO files and the files that travel with them.
//
// `conform DIR` walks DIR recursively for `*.MOO` and `*.MOO.gz` (any case), in name order. A set's companions
// (`revocation_list.txt`, `80386.csv`, `metadata.json`) lie beside the files or a level or two up (the 80286
// repository keeps metadata.json beside the files and the revocation list at its root), so each is looked up in the
// file's folder first, then in up to COMPANION_LEVELS folders above it; the nearest wins.

import { readdirSync, statSync, existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const MOO_NAME = /\.moo(\.gz)?$/i;
const COMPANION_LEVELS = 2;

export function isMooName(name: string): boolean {
  return MOO_NAME.test(name);
}

/** The MOO files named by a FILE or DIR argument, sorted; throws with a clear message when there is nothing. */
export function findMooFiles(target: string): string[] {
  if (!existsSync(target)) throw new Error(`${target}: no such file or directory`);
  if (statSync(target).isFile()) return [target];
  const out: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && isMooName(e.name)) out.push(p);
    }
  };
  walk(target);
  return out;
}

/** The nearest companion file called `name` for a MOO file, or null. */
export function findCompanion(mooPath: string, name: string): string | null {
  let dir = dirname(mooPath);
  for (let level = 0; level <= COMPANION_LEVELS; level++) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** A shell-style glob (`*`, `?`, `[...]`) as an anchored, case-insensitive regular expression. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, close).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body}]`;
        i = close;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

/** True when the glob matches the file's name, with or without its `.MOO` / `.MOO.gz` suffix. */
export function matchesFilter(path: string, filter: RegExp): boolean {
  const name = basename(path);
  return filter.test(name) || filter.test(name.replace(MOO_NAME, ''));
}
