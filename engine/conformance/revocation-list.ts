// `revocation_list.txt` of the SingleStepTests sets: one SHA-1 (hex) per line naming a test known to be wrong;
// lines starting with '#' are comments. A revoked test is skipped, never run.

import { readFileSync } from 'node:fs';

const SHA1_HEX = /^[0-9a-f]{40}$/;

export function parseRevocationList(text: string, source: string): Set<string> {
  const hashes = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim().toLowerCase();
    if (line === '' || line.startsWith('#')) return;
    if (!SHA1_HEX.test(line)) throw new Error(`${source}:${i + 1}: not a SHA-1 hash: "${raw.trim()}"`);
    hashes.add(line);
  });
  return hashes;
}

export function loadRevocationList(path: string): Set<string> {
  return parseRevocationList(readFileSync(path, 'utf8'), path);
}
