// Deciding whether F5 on a NASM source must assemble it first, and whether nasm is there to do it. Node only (no
// VS Code), so the decisions are tested on real files; running the build as a VS Code task is nasm-task.ts.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';

/** The flat binary that `nasm -f bin X.asm` is told to write: X.bin beside the source. */
export function imagePathFor(sourcePath: string): string {
  return join(dirname(sourcePath), basename(sourcePath, extname(sourcePath)) + '.bin');
}

/** The listing written beside the image (X.lst), from which the adapter maps source lines to addresses. */
export function listingPathFor(imagePath: string): string {
  return join(dirname(imagePath), basename(imagePath, extname(imagePath)) + '.lst');
}

export function nasmArguments(sourcePath: string, imagePath: string, includeDirs: string[] = []): string[] {
  // nasm joins an -i prefix to the file name as text, so each directory ends with a separator.
  const includes = includeDirs.flatMap((d) => ['-i', d.endsWith(sep) ? d : d + sep]);
  return ['-f', 'bin', ...includes, sourcePath, '-o', imagePath, '-l', listingPathFor(imagePath)];
}

/**
 * Folders named `include` beside the source and in its ancestors up to the workspace folder (at most three
 * levels up), where sources such as the examples keep their shared `%include` files; nasm itself searches the
 * source's own folder.
 */
export async function nasmIncludeDirs(sourcePath: string, workspaceFolder?: string): Promise<string[]> {
  const dirs: string[] = [];
  let dir = dirname(sourcePath);
  for (let level = 0; level < 4; level++) {
    const candidate = join(dir, 'include');
    try {
      if ((await stat(candidate)).isDirectory()) dirs.push(candidate);
    } catch {
      // no include folder here
    }
    const parent = dirname(dir);
    const outside = workspaceFolder !== undefined && relative(workspaceFolder, dir).startsWith('..');
    if (parent === dir || outside || dir === workspaceFolder) break;
    dir = parent;
  }
  return dirs;
}

export type ImageState = 'missing' | 'stale' | 'fresh';

/**
 * An image needs building when it or its listing does not exist, or is older than its source. (Included files
 * are not followed: edit-and-F5 on an include rebuilds nothing; save the main source or rebuild by hand.)
 */
export async function imageState(sourcePath: string, imagePath: string): Promise<ImageState> {
  const source = await stat(sourcePath);
  let oldest = Infinity;
  for (const output of [imagePath, listingPathFor(imagePath)]) {
    try {
      oldest = Math.min(oldest, (await stat(output)).mtimeMs);
    } catch {
      return 'missing';
    }
  }
  return oldest < source.mtimeMs ? 'stale' : 'fresh';
}

export type NasmProbe = { ok: true; version: string } | { ok: false; message: string };

/** Runs `nasm -v` to learn whether the configured nasm can be started, without blocking the caller. */
export function probeNasm(nasmPath: string, timeoutMs = 10_000): Promise<NasmProbe> {
  return new Promise((resolve) => {
    execFile(nasmPath, ['-v'], { timeout: timeoutMs }, (error, stdout) => {
      if (!error) {
        resolve({ ok: true, version: stdout.trim() });
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      resolve({
        ok: false,
        message:
          code === 'ENOENT'
            ? `nasm is not installed (or "${nasmPath}" is not on PATH). Install NASM (for example "sudo apt install nasm") or set "ringside.nasmPath" to the nasm executable.`
            : `"${nasmPath} -v" failed: ${error.message.trim()}. Set "ringside.nasmPath" to a working nasm.`,
      });
    });
  });
}
