// Turns what the user asked for into a configuration the adapter can run, or into a clear message and no session:
// F5 without a launch.json uses the open image or NASM source (assembling the source first when its image is
// missing or older), paths are made absolute, and every attribute is checked before the adapter starts.
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { IMAGE_EXTENSIONS, NASM_EXTENSIONS, resolvePath, validateLaunchConfig } from '../debug-adapter/launch-attributes';
import type { RingsideLog } from './log-channel';
import { refreshListing } from './listing-refresh';
import { imagePathFor, imageState, nasmIncludeDirs, probeNasm } from './nasm-build-plan';
import { launchHintsFromSource } from './nasm-source-config';
import { runNasmTask } from './nasm-task';

/** Private attribute naming the NASM source F5 started from; removed before the adapter sees the configuration. */
const BUILD_FROM = '__ringsideBuildFrom';

export class RingsideConfigurationProvider implements vscode.DebugConfigurationProvider {
  constructor(private readonly log: RingsideLog) {}

  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [
      {
        type: 'ringside',
        request: 'launch',
        name: 'Ringside: flat binary',
        program: '${workspaceFolder}/guest.bin',
        format: 'bin',
        loadAddress: '0x7c00',
        entry: '0x7c00',
        mode: 'real',
        monitor: true,
        stopOnEntry: true,
      },
    ];
  }

  /** Before variables are substituted: fill an empty configuration (F5 with no launch.json) from the open file. */
  async resolveDebugConfiguration(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    if (config.type || config.request || config.name) return config;
    const document = vscode.window.activeTextEditor?.document;
    const file = document?.uri.scheme === 'file' ? document.uri.fsPath : undefined;
    const ext = file ? path.extname(file).toLowerCase() : '';
    if (file && NASM_EXTENSIONS.includes(ext)) {
      if (document?.isDirty) await document.save();
      const hints = launchHintsFromSource(document?.getText() ?? (await readFile(file, 'utf8')));
      return {
        type: 'ringside',
        request: 'launch',
        name: `Ringside: ${path.basename(file)}`,
        program: imagePathFor(file),
        ...hints,
        stopOnEntry: true,
        [BUILD_FROM]: file,
      };
    }
    if (file && ext in IMAGE_EXTENSIONS) {
      const format = IMAGE_EXTENSIONS[ext];
      return { type: 'ringside', request: 'launch', name: `Ringside: ${path.basename(file)}`, program: file, ...(format ? { format } : {}), stopOnEntry: true };
    }
    const includeNote = ext === '.inc' ? `${path.basename(file!)} is an include file, assembled as part of another source; ` : '';
    void vscode.window.showErrorMessage(
      `Ringside: ${includeNote}open a guest image (.bin, .img, .elf, .rom) or a NASM source (.asm, .nasm) and press F5 again, or add a "ringside" configuration to launch.json.`,
    );
    return undefined;
  }

  /** After substitution: resolve paths, check attributes, build a stale NASM image, make sure the image exists. */
  async resolveDebugConfigurationWithSubstitutedVariables(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    const fail = (problems: string[]) => {
      const lead = `Ringside cannot start "${config.name ?? 'the session'}"`;
      this.log.write('error', `${lead}: ${problems.join(' ')}`);
      void vscode.window.showErrorMessage(problems.length === 1 ? `${lead}: ${problems[0]}` : `${lead}:\n${problems.map((p) => `• ${p}`).join('\n')}`, { modal: problems.length > 1 });
      return undefined;
    };
    const buildFrom = typeof config[BUILD_FROM] === 'string' ? (config[BUILD_FROM] as string) : undefined;
    const { [BUILD_FROM]: _omit, ...raw } = config;
    const checked = validateLaunchConfig(raw);
    if (!checked.ok) return fail(checked.problems);
    const resolved = { ...checked.config };
    const context = { workspaceFolder: folder?.uri.fsPath, file: vscode.window.activeTextEditor?.document.uri.fsPath, env: process.env };
    try {
      resolved.program = resolvePath(resolved.program, context, path.join, path.isAbsolute);
      if (resolved.symbols) resolved.symbols = resolvePath(resolved.symbols, context, path.join, path.isAbsolute);
    } catch (e) {
      return fail([(e as Error).message]);
    }
    if (buildFrom) {
      const built = await this.buildIfNeeded(buildFrom, resolved.program, folder);
      if (built !== true) return fail([built]);
    }
    const problem = await imageProblem(resolved.program, 'program');
    if (problem) return fail([problem]);
    if (resolved.symbols) {
      const symbolsProblem = await imageProblem(resolved.symbols, 'symbols');
      if (symbolsProblem) return fail([symbolsProblem]);
    }
    if (!buildFrom && !['elf', 'multiboot'].includes(resolved.format ?? '')) {
      // Source breakpoints for a flat binary come from its nasm listing; a missing one is not an error.
      const outcome = await refreshListing(resolved.program, this.nasmPath(), folder?.uri.fsPath);
      this.log.write('info', outcome.state === 'skipped' ? `no source lines for ${path.basename(resolved.program)}: ${outcome.reason}` : `source lines from ${outcome.listing} (${outcome.state})`);
    }
    this.log.write('info', `launching ${JSON.stringify(resolved)}`);
    return resolved;
  }

  private nasmPath(): string {
    return vscode.workspace.getConfiguration('ringside').get<string>('nasmPath') || 'nasm';
  }

  /** Assembles `source` when its image is missing or stale; true when the image is ready, else the reason. */
  private async buildIfNeeded(source: string, image: string, folder: vscode.WorkspaceFolder | undefined): Promise<true | string> {
    const state = await imageState(source, image);
    if (state === 'fresh') return true;
    const nasmPath = this.nasmPath();
    const probe = await probeNasm(nasmPath);
    if (!probe.ok) {
      return `${path.basename(image)} ${state === 'missing' ? 'or its listing is missing' : 'is older than its source'} and must be assembled from ${path.basename(source)}, but ${probe.message}`;
    }
    this.log.write('info', `${path.basename(image)} is ${state}; assembling ${source} with ${probe.version}`);
    const exitCode = await runNasmTask(nasmPath, source, image, folder, await nasmIncludeDirs(source, folder?.uri.fsPath));
    if (exitCode !== 0) {
      return `nasm could not assemble ${path.basename(source)} (exit code ${exitCode ?? 'unknown'}); its messages are in the Problems view and the task's terminal.`;
    }
    return (await imageProblem(image, 'program')) === undefined ? true : `nasm finished but did not write ${image}.`;
  }
}

/** A sentence saying why `file` cannot be loaded, or undefined when it is a readable, non-empty file. */
async function imageProblem(file: string, attribute: string): Promise<string | undefined> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return `"${attribute}" names ${file}, which is not a file.`;
    if (info.size === 0) return `"${attribute}" names ${file}, which is empty.`;
    return undefined;
  } catch {
    return `"${attribute}" names ${file}, which does not exist.`;
  }
}
