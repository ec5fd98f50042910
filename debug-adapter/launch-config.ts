// The launch request's arguments, checked before anything runs (design/interfaces.md, "Launch configuration").
// The rules themselves live in extension/config.ts (pure, no VS Code), so the F5 path in the editor and every
// other DAP client get the same sentences; this file adds what only the adapter sees: attributes that clients
// other than VS Code add, path resolution against `cwd`, and the defaults.

import * as path from 'node:path';
import { parseAddress, REVERSE_DEFAULT_MB, validateLaunchConfig } from './launch-attributes';
import type { ImageFormat } from '../engine/machine/loaders';
import type { EventName } from '../engine/events';
import { DEFAULT_CPU_MODEL, type PublicCpuModelName } from '../engine/cpu/model';

/** Attributes DAP clients add that are not Ringside's to judge (VS Code's own and `__`-prefixed ones are
 * already allowed by the shared validator). */
const CLIENT_ATTRIBUTES = ['cwd', 'env', 'console', 'noDebug', '__restart'];

export interface LaunchSettings {
  /** Absolute path of the guest image. */
  program: string;
  format?: ImageFormat;
  loadAddress?: number;
  entry?: number;
  mode?: 'real' | 'protected';
  memoryMB: number;
  /** The CPU model (engine/cpu/model.ts). */
  cpu: PublicCpuModelName;
  monitor: boolean;
  sbe: 'auto' | 'on' | 'off';
  stopOnEntry: boolean;
  maxInstructions?: number;
  /** Absolute path of an ELF file with symbols and DWARF lines for an image that has none. */
  symbols?: string;
  serial: 'debugConsole' | 'terminal';
  trace: EventName[];
  /** Absolute paths of further ATA disks (primary slave, secondary master, secondary slave). */
  disks: string[];
  /** Reverse execution's record: on by default, within a memory cap. */
  reverse: { enabled: boolean; maxMemoryMB: number };
  noDebug: boolean;
  /** format linux: absolute path of the initrd, and the kernel command line. */
  initrd?: string;
  append?: string;
  /** Text typed on the keyboard as the guest reads it (C escapes), and a file COM1 receives as the guest reads it. */
  keys?: string;
  serialIn?: string;
}

export class LaunchConfigError extends Error {}

/** Checks the raw launch arguments; throws LaunchConfigError whose message names every bad attribute. */
export function readLaunchSettings(raw: unknown): LaunchSettings {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new LaunchConfigError('the launch arguments must be an object with at least "program"');
  }
  const args = raw as Record<string, unknown>;
  const judged: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) if (!CLIENT_ATTRIBUTES.includes(k)) judged[k] = v;
  const problems: string[] = [];
  if (args.cwd !== undefined && typeof args.cwd !== 'string') problems.push('"cwd" must be a string (a folder).');
  if (args.noDebug !== undefined && typeof args.noDebug !== 'boolean') problems.push('"noDebug" must be true or false.');
  const checked = validateLaunchConfig(judged);
  if (!checked.ok) problems.push(...checked.problems);
  if (problems.length > 0) throw new LaunchConfigError(`invalid launch configuration: ${problems.join(' ')}`);
  const c = judged as Record<string, never>;
  const base = typeof args.cwd === 'string' ? args.cwd : process.cwd();
  const resolve = (p: string): string => (path.isAbsolute(p) ? p : path.resolve(base, p));
  return {
    program: resolve(c.program),
    format: c.format,
    loadAddress: c.loadAddress === undefined ? undefined : parseAddress(c.loadAddress),
    entry: c.entry === undefined ? undefined : parseAddress(c.entry),
    mode: c.mode,
    memoryMB: c.memoryMB ?? 16,
    cpu: c.cpu ?? DEFAULT_CPU_MODEL,
    monitor: c.monitor ?? true,
    sbe: c.sbe ?? 'auto',
    stopOnEntry: c.stopOnEntry ?? false,
    maxInstructions: c.maxInstructions,
    symbols: c.symbols === undefined ? undefined : resolve(c.symbols),
    serial: c.serial ?? 'debugConsole',
    trace: c.trace ?? [],
    disks: ((c.disks ?? []) as string[]).map(resolve),
    reverse: {
      enabled: (c.reverse as { enabled?: boolean } | undefined)?.enabled ?? true,
      maxMemoryMB: (c.reverse as { maxMemoryMB?: number } | undefined)?.maxMemoryMB ?? REVERSE_DEFAULT_MB,
    },
    noDebug: args.noDebug === true,
    initrd: c.initrd === undefined ? undefined : resolve(c.initrd),
    append: c.append,
    keys: c.keys,
    serialIn: c.serialIn === undefined ? undefined : resolve(c.serialIn),
  };
}
