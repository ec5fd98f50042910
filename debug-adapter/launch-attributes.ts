// Checking a `ringside` launch configuration before a session starts (design/interfaces.md, "Launch
// configuration"). Pure: no VS Code, no file system, so the rules are tested without an editor. Every problem
// becomes one sentence that names the attribute, what it holds and what it should hold.
import { TRACE_EVENT_NAMES } from './protocol-types';
import { CPU_MODEL_NAMES, type PublicCpuModelName } from '../engine/cpu/model';

export const IMAGE_FORMATS = ['bin', 'elf', 'multiboot', 'rom', 'boot', 'linux'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export interface RingsideLaunchConfig {
  type: 'ringside';
  request: 'launch';
  name: string;
  program: string;
  format?: ImageFormat;
  loadAddress?: number | string;
  entry?: number | string;
  mode?: 'real' | 'protected';
  memoryMB?: number;
  cpu?: PublicCpuModelName;
  monitor?: boolean;
  sbe?: 'auto' | 'on' | 'off';
  stopOnEntry?: boolean;
  maxInstructions?: number;
  symbols?: string;
  serial?: 'debugConsole' | 'terminal';
  trace?: string[];
  initrd?: string;
  append?: string;
  keys?: string;
  serialIn?: string;
  disks?: string[];
  reverse?: { enabled?: boolean; maxMemoryMB?: number };
  [other: string]: unknown;
}

type Check = (value: unknown) => string | undefined;

const MAX_ADDRESS = 0xffff_ffff;
/** engine/machine/machine.ts's MAX_MEMORY_MB (not imported: this file is bundled into the extension without the engine). */
export const MAX_MEMORY_MB = 3072;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

const isString: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : `must be a non-empty string, not ${describe(v)}`);
const isBoolean: Check = (v) => (typeof v === 'boolean' ? undefined : `must be true or false, not ${describe(v)}`);

function oneOf(values: readonly string[]): Check {
  return (v) =>
    typeof v === 'string' && values.includes(v)
      ? undefined
      : `must be one of ${values.map((x) => `"${x}"`).join(', ')}, not ${describe(v)}`;
}

function integerIn(min: number, max: number): Check {
  return (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? undefined
      : `must be a whole number from ${min} to ${max}, not ${describe(v)}`;
}

/**
 * Reads an address written as a number, or a string: `0x7c00`, `7c00h` or decimal, with blanks around it allowed;
 * undefined when it is none. package.json's schema for `loadAddress` and `entry` has a pattern that accepts exactly
 * these strings in range (a test holds the two together).
 */
export function parseAddress(value: unknown): number | undefined {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const text = value.trim();
    if (/^0x[0-9a-f]+$/i.test(text)) n = parseInt(text.slice(2), 16);
    else if (/^[0-9a-f]+h$/i.test(text)) n = parseInt(text.slice(0, -1), 16);
    else if (/^[0-9]+$/.test(text)) n = parseInt(text, 10);
  }
  return n !== undefined && Number.isInteger(n) && n >= 0 && n <= MAX_ADDRESS ? n : undefined;
}

const isAddress: Check = (v) =>
  parseAddress(v) !== undefined ? undefined : `must be an address from 0 to 0xFFFFFFFF (a number, or a string such as "0x7c00"), not ${describe(v)}`;

const isTraceList: Check = (v) => {
  if (!Array.isArray(v)) return `must be a list of event names, not ${describe(v)}`;
  const bad = v.filter((x) => typeof x !== 'string' || !(TRACE_EVENT_NAMES as readonly string[]).includes(x));
  const twice = v.filter((x, k) => bad.length === 0 && v.indexOf(x) !== k);
  if (twice.length > 0) return `names ${[...new Set(twice)].map((x) => `"${x}"`).join(', ')} more than once`;
  return bad.length === 0
    ? undefined
    : `holds ${bad.map((x) => (typeof x === 'string' ? `"${x}"` : describe(x))).join(', ')}, which ${bad.length === 1 ? 'is not an event name' : 'are not event names'}; the events are ${TRACE_EVENT_NAMES.join(', ')}`;
};

const isDiskList: Check = (v) => {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0)) return `must be a list of disk image paths, not ${describe(v)}`;
  return v.length <= 3 ? undefined : `names ${v.length} disks; there is room for 3 besides the boot image (primary slave, secondary master, secondary slave)`;
};

/** Memory reverse execution's record may take by default and at most, in MiB. */
export const REVERSE_DEFAULT_MB = 512;
const REVERSE_MAX_MB = 16384;

const isReverse: Check = (v) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return `must be an object such as { "enabled": true, "maxMemoryMB": ${REVERSE_DEFAULT_MB} }, not ${describe(v)}`;
  const o = v as Record<string, unknown>;
  const problems: string[] = [];
  for (const [key, value] of Object.entries(o)) {
    if (key === 'enabled') {
      const p = isBoolean(value);
      if (p) problems.push(`"enabled" ${p}`);
    } else if (key === 'maxMemoryMB') {
      const p = integerIn(16, REVERSE_MAX_MB)(value);
      if (p) problems.push(`"maxMemoryMB" ${p}`);
    } else problems.push(`"${key}" is not one of its fields ("enabled", "maxMemoryMB")`);
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
};

/** The launch attributes of interfaces.md and how each is checked. */
export const LAUNCH_ATTRIBUTES: Record<string, Check> = {
  program: isString,
  format: oneOf(IMAGE_FORMATS),
  loadAddress: isAddress,
  entry: isAddress,
  mode: oneOf(['real', 'protected']),
  memoryMB: integerIn(1, MAX_MEMORY_MB),
  cpu: oneOf(CPU_MODEL_NAMES),
  monitor: isBoolean,
  sbe: oneOf(['auto', 'on', 'off']),
  stopOnEntry: isBoolean,
  maxInstructions: integerIn(1, Number.MAX_SAFE_INTEGER),
  symbols: isString,
  serial: oneOf(['debugConsole', 'terminal']),
  trace: isTraceList,
  initrd: isString,
  append: isString,
  keys: isString,
  serialIn: isString,
  disks: isDiskList,
  reverse: isReverse,
};

/**
 * Attributes that VS Code itself understands or adds to every configuration; they are not the adapter's to judge.
 * VS Code also adds private ones that start with `__` (`__configurationTarget`, `__sessionId`, ...).
 */
const VSCODE_ATTRIBUTES = new Set([
  'type', 'request', 'name', 'preLaunchTask', 'postDebugTask', 'internalConsoleOptions', 'debugServer',
  'presentation', 'noDebug', 'suppressMultipleSessionWarning', 'windows', 'osx', 'linux',
]);

export type Validation = { ok: true; config: RingsideLaunchConfig } | { ok: false; problems: string[] };

/** Checks every attribute of a launch configuration; lists all problems, not just the first. */
export function validateLaunchConfig(raw: Record<string, unknown>): Validation {
  const problems: string[] = [];
  if (raw.request !== undefined && raw.request !== 'launch') {
    problems.push(`"request" must be "launch" (Ringside starts its own guest; it cannot attach), not ${describe(raw.request)}.`);
  }
  if (raw.program === undefined) problems.push('"program" is missing: give the path of the guest image to run.');
  for (const [key, value] of Object.entries(raw)) {
    if (VSCODE_ATTRIBUTES.has(key) || key.startsWith('__')) continue;
    const check = LAUNCH_ATTRIBUTES[key];
    if (!check) {
      const near = closestName(key, Object.keys(LAUNCH_ATTRIBUTES));
      problems.push(`"${key}" is not a Ringside launch attribute${near ? ` (did you mean "${near}"?)` : ''}.`);
      continue;
    }
    if (value === undefined) continue;
    const problem = check(value);
    if (problem) problems.push(`"${key}" ${problem}.`);
  }
  if (raw.format !== undefined && raw.format !== 'bin') {
    for (const key of ['loadAddress', 'entry', 'mode'] as const) {
      if (raw[key] !== undefined) problems.push(`"${key}" applies only to flat binaries (format "bin"), not to format "${String(raw.format)}".`);
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: { ...raw, type: 'ringside', request: 'launch', name: String(raw.name ?? 'Ringside') } as RingsideLaunchConfig };
}

/** The attribute whose name is within two edits of a misspelt one, to suggest it. */
function closestName(name: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of names) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Places `${…}` variables that VS Code leaves alone (no folder open) or that a user writes in a setting. */
export interface PathContext {
  workspaceFolder?: string;
  file?: string;
  env?: Record<string, string | undefined>;
}

/**
 * Expands `${workspaceFolder}`, `${file}`, `${fileDirname}`, `${fileBasenameNoExtension}` and `${env:NAME}`, and makes a
 * relative path absolute against the workspace folder. Throws with a sentence when a variable cannot be expanded.
 */
export function resolvePath(value: string, ctx: PathContext, join: (a: string, b: string) => string, isAbsolute: (p: string) => boolean): string {
  const expanded = value.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    const file = ctx.file;
    const lastSlash = file ? Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) : -1;
    const base = file ? file.slice(lastSlash + 1) : undefined;
    const values: Record<string, string | undefined> = {
      workspaceFolder: ctx.workspaceFolder,
      workspaceRoot: ctx.workspaceFolder,
      file,
      fileDirname: file && lastSlash >= 0 ? file.slice(0, lastSlash) : undefined,
      fileBasename: base,
      fileBasenameNoExtension: base?.replace(/\.[^.]*$/, ''),
    };
    const v = name.startsWith('env:') ? ctx.env?.[name.slice(4)] : values[name];
    if (v === undefined) {
      throw new Error(
        name === 'workspaceFolder' || name === 'workspaceRoot'
          ? `${whole} cannot be expanded because no folder is open; open the folder that holds the image or give an absolute path.`
          : `${whole} cannot be expanded here.`,
      );
    }
    return v;
  });
  if (isAbsolute(expanded)) return expanded;
  if (!ctx.workspaceFolder) throw new Error(`"${value}" is a relative path and no folder is open to resolve it against.`);
  return join(ctx.workspaceFolder, expanded);
}

/** File extensions F5 recognises as guest images, and the format each implies (undefined: detect by content). */
export const IMAGE_EXTENSIONS: Record<string, ImageFormat | undefined> = {
  '.bin': undefined,
  '.img': 'boot',
  '.elf': undefined,
  '.rom': 'rom',
};
/** NASM sources F5 builds; `.inc` files are left out because they are included, not assembled on their own. */
export const NASM_EXTENSIONS = ['.asm', '.nasm'];
