import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRACE_EVENT_NAMES } from '../../debug-adapter/protocol-types';
import { IMAGE_FORMATS, LAUNCH_ATTRIBUTES, parseAddress, resolvePath, validateLaunchConfig } from '../../debug-adapter/launch-attributes';
import pkg from '../../package.json';

const base = { type: 'ringside', request: 'launch', name: 'x', program: '/tmp/guest.bin' };

function problemsOf(extra: Record<string, unknown>): string[] {
  const result = validateLaunchConfig({ ...base, ...extra });
  return result.ok ? [] : result.problems;
}

describe('validateLaunchConfig', () => {
  it('accepts a configuration with every attribute well typed', () => {
    const result = validateLaunchConfig({
      ...base,
      format: 'bin',
      loadAddress: '0x7c00',
      entry: 31744,
      mode: 'protected',
      memoryMB: 32,
      monitor: false,
      sbe: 'on',
      stopOnEntry: true,
      maxInstructions: 1000,
      symbols: '/tmp/guest.elf',
      serial: 'terminal',
      trace: ['segment-load', 'cpu-exception'],
      __configurationTarget: 5,
      preLaunchTask: 'build',
    });
    expect(result).toMatchObject({ ok: true, config: { program: '/tmp/guest.bin', mode: 'protected' } });
  });

  it('names a wrong type, the value given and what is expected', () => {
    expect(problemsOf({ monitor: 'yes' })).toEqual(['"monitor" must be true or false, not the string "yes".']);
    expect(problemsOf({ memoryMB: 1.5 })[0]).toMatch(/"memoryMB" must be a whole number from 1 to 4095, not number 1.5/);
  });

  it('rejects an unknown format and lists the known ones', () => {
    expect(problemsOf({ format: 'exe' })).toEqual(['"format" must be one of "bin", "elf", "multiboot", "rom", "boot", "linux", not the string "exe".']);
  });

  it('rejects unknown attributes and suggests a near name', () => {
    expect(problemsOf({ stopOnEntyr: true })).toEqual(['"stopOnEntyr" is not a Ringside launch attribute (did you mean "stopOnEntry"?).']);
    expect(problemsOf({ colour: 'red' })).toEqual(['"colour" is not a Ringside launch attribute.']);
  });

  it('reports every problem at once, including a missing program', () => {
    const result = validateLaunchConfig({ type: 'ringside', request: 'attach', name: 'x', sbe: 'sometimes', trace: ['segment-load', 'bogus', 7] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(4);
    expect(result.problems.join('\n')).toMatch(/"request" must be "launch"/);
    expect(result.problems.join('\n')).toMatch(/"program" is missing/);
    expect(result.problems.join('\n')).toMatch(/"trace" holds "bogus", number 7, which are not event names/);
  });

  it('rejects addresses that are not numbers in range', () => {
    expect(problemsOf({ format: 'bin', loadAddress: '0x1_0000_0000' })[0]).toMatch(/"loadAddress" must be an address/);
    expect(problemsOf({ format: 'bin', entry: -1 })[0]).toMatch(/"entry" must be an address/);
    expect(problemsOf({ format: 'bin', entry: 'start' })[0]).toMatch(/not the string "start"/);
  });

  it('says that flat-binary attributes do not apply to other formats', () => {
    expect(problemsOf({ format: 'elf', loadAddress: 0x1000 })).toEqual(['"loadAddress" applies only to flat binaries (format "bin"), not to format "elf".']);
  });
});

describe('parseAddress', () => {
  it('reads numbers, 0x and h-suffixed hex, decimal strings and underscores', () => {
    expect(parseAddress(0x7c00)).toBe(0x7c00);
    expect(parseAddress('0x7C00')).toBe(0x7c00);
    expect(parseAddress('7c00h')).toBe(0x7c00);
    expect(parseAddress('31744')).toBe(31744);
    expect(parseAddress('0xffff_ffff')).toBe(0xffffffff);
    expect(parseAddress('0x1_0000_0000')).toBeUndefined();
    expect(parseAddress('12abc')).toBeUndefined();
    expect(parseAddress(true)).toBeUndefined();
  });
});

describe('resolvePath', () => {
  const ctx = { workspaceFolder: '/ws', file: '/ws/src/boot.asm', env: { IMAGES: '/images' } };
  const resolve = (p: string, c = ctx) => resolvePath(p, c, path.posix.join, path.posix.isAbsolute);
  it('expands workspace, file and environment variables', () => {
    expect(resolve('${workspaceFolder}/a.bin')).toBe('/ws/a.bin');
    expect(resolve('${fileDirname}/${fileBasenameNoExtension}.bin')).toBe('/ws/src/boot.bin');
    expect(resolve('${env:IMAGES}/x.rom')).toBe('/images/x.rom');
  });
  it('makes relative paths absolute against the workspace folder', () => {
    expect(resolve('build/a.bin')).toBe('/ws/build/a.bin');
    expect(resolve('/abs/a.bin')).toBe('/abs/a.bin');
  });
  it('explains a variable that cannot be expanded', () => {
    expect(() => resolve('${workspaceFolder}/a.bin', { ...ctx, workspaceFolder: undefined as unknown as string })).toThrow(/no folder is open/);
    expect(() => resolve('${env:NOPE}/a')).toThrow(/\$\{env:NOPE\} cannot be expanded/);
  });
});

describe('package.json launch schema', () => {
  const debuggerContribution = pkg.contributes.debuggers.find((d) => d.type === 'ringside')!;
  const properties = debuggerContribution.configurationAttributes.launch.properties as Record<string, { enum?: string[]; items?: { enum?: string[] }; default?: unknown }>;

  it('lets the editor flag unknown attributes, as the launch check does', () => {
    expect(debuggerContribution.configurationAttributes.launch.additionalProperties).toBe(false);
    expect(debuggerContribution.configurationAttributes.launch.required).toEqual(['program']);
  });

  it('declares exactly the attributes the extension validates', () => {
    expect(Object.keys(properties).sort()).toEqual(Object.keys(LAUNCH_ATTRIBUTES).sort());
  });

  it('offers the same enums the validation accepts', () => {
    expect(properties.format.enum).toEqual([...IMAGE_FORMATS]);
    expect(properties.trace.items!.enum).toEqual([...TRACE_EVENT_NAMES]);
    for (const [name, prop] of Object.entries(properties)) {
      for (const value of prop.enum ?? []) expect(validateLaunchConfig({ ...base, ...(name === 'mode' ? { format: 'bin' } : {}), [name]: value }).ok, `${name}=${value}`).toBe(true);
    }
  });

  it('has defaults that pass validation and initial configurations that are valid', () => {
    for (const [name, prop] of Object.entries(properties)) {
      if (prop.default === undefined || name === 'program') continue;
      const extra = name === 'loadAddress' || name === 'entry' || name === 'mode' ? { format: 'bin' } : {};
      expect(validateLaunchConfig({ ...base, ...extra, [name]: prop.default }).ok, name).toBe(true);
    }
    for (const config of debuggerContribution.initialConfigurations) expect(validateLaunchConfig(config).ok).toBe(true);
    expect(properties.monitor.default).toBe(true);
  });

  it('gives a snippet for every image format', () => {
    const formats = debuggerContribution.configurationSnippets.map((s) => (s.body as { format?: string }).format);
    expect(formats.sort()).toEqual([...IMAGE_FORMATS].sort());
  });
});
