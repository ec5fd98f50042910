// Whether nasm can be run here; tests that assemble skip (and say so) on a machine without it.
import { execFileSync } from 'node:child_process';

export const nasmInstalled = (() => {
  try {
    execFileSync('nasm', ['-v']);
    return true;
  } catch {
    return false;
  }
})();
