// Runs `npm run package` on a private copy of the project, so the e2e test packages exactly what the work tree
// holds without rewriting the work tree's dist/ bundles while other suites (run in parallel by vitest) execute
// them. node_modules is linked, not copied.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Top-level entries that packaging never reads (tests, examples, build output, installs, the real guests' packages). */
const NOT_COPIED = new Set(['node_modules', '.git', '.e2e', '.guests', 'dist', 'out', 'test', 'examples', 'bench']);

export function packageInCopy(projectRoot: string, workDir: string): string {
  const copy = join(workDir, 'project');
  mkdirSync(copy, { recursive: true });
  for (const entry of readdirSync(projectRoot)) {
    if (NOT_COPIED.has(entry) || entry.endsWith('.vsix')) continue;
    cpSync(join(projectRoot, entry), join(copy, entry), { recursive: true });
  }
  symlinkSync(join(projectRoot, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const result = spawnSync('npm', ['run', 'package'], { cwd: copy, encoding: 'utf8', timeout: 170_000 });
  if (result.status !== 0) {
    throw new Error(`npm run package failed (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  const vsix = join(copy, 'ringside.vsix');
  if (!existsSync(vsix)) throw new Error(`npm run package succeeded but ${vsix} was not produced:\n${result.stdout}`);
  return vsix;
}
