// Deciding whether F5 on a NASM source must assemble it first, and whether nasm is there to do it. Node only (no
// VS Code), so the decisions are tested on real files; running the build as a VS Code task is nasm-task.ts.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

/** The flat binary that `nasm -f bin X.asm` is told to write: X.bin beside the source. */
export function imagePathFor(sourcePath: string): string {
  return join(dirname(sourcePath), basename(sourcePath, extname(sourcePath)) + '.bin');
}

export function nasmArguments(sourcePath: string, imagePath: string): string[] {
  return ['-f', 'bin', sourcePath, '-o', imagePath];
}

export type ImageState = 'missing' | 'stale' | 'fresh';

/** An image needs building when it does not exist or is older than its source. */
export async function imageState(sourcePath: string, imagePath: string): Promise<ImageState> {
  const source = await stat(sourcePath);
  let image;
  try {
    image = await stat(imagePath);
  } catch {
    return 'missing';
  }
  return image.mtimeMs < source.mtimeMs ? 'stale' : 'fresh';
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
