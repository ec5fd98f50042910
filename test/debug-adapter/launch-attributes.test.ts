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

  it('checks "disks": a list of at most three paths', () => {
    expect(problemsOf({ disks: ['/tmp/a.img', 'b.img'] })).toEqual([]);
    expect(problemsOf({ disks: '/tmp/a.img' })).toEqual(['"disks" must be a list of disk image paths, not the string "/tmp/a.img".']);
    expect(problemsOf({ disks: ['a', 'b', 'c', 'd'] })[0]).toMatch(/"disks" names 4 disks; there is room for 3/);
  });

  it('names a wrong type, the value given and what is expected', () => {
    expect(problemsOf({ monitor: 'yes' })).toEqual(['"monitor" must be true or false, not the string "yes".']);
    expect(problemsOf({ memoryMB: 1.5 })[0]).toMatch(/"memoryMB" must be a whole number from 1 to 3072, not number 1.5/);
    expect(problemsOf({ memoryMB: 3073 })[0]).toMatch(/"memoryMB" must be a whole number from 1 to 3072, not number 3073/);
    expect(problemsOf({ trace: ['segment-load', 'segment-load'] })).toEqual(['"trace" names "segment-load" more than once.']);
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
    expect(problemsOf({ format: 'bin', loadAddress: '0x100000000' })[0]).toMatch(/"loadAddress" must be an address/);
    expect(problemsOf({ format: 'bin', entry: -1 })[0]).toMatch(/"entry" must be an address/);
    expect(problemsOf({ format: 'bin', entry: 'start' })[0]).toMatch(/not the string "start"/);
  });

  it('says that flat-binary attributes do not apply to other formats', () => {
    expect(problemsOf({ format: 'elf', loadAddress: 0x1000 })).toEqual(['"loadAddress" applies only to flat binaries (format "bin"), not to format "elf".']);
  });
});

describe('parseAddress', () => {
  it('reads numbers, 0x and h-suffixed hex and decimal strings (underscores are not accepted: the schema could not say so)', () => {
    expect(parseAddress(0x7c00)).toBe(0x7c00);
    expect(parseAddress('0x7C00')).toBe(0x7c00);
    expect(parseAddress('7c00h')).toBe(0x7c00);
    expect(parseAddress(' 31744 ')).toBe(31744);
    expect(parseAddress('0xffffffff')).toBe(0xffffffff);
    expect(parseAddress('0xffff_ffff')).toBeUndefined();
    expect(parseAddress('0x100000000')).toBeUndefined();
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
    expect(properties.cpu.enum).toEqual(['486sx', '486dx', 'pentium', 'pentium-pro']);
    expect(properties.cpu.default).toBe('pentium-pro');
    const bad = validateLaunchConfig({ ...base, cpu: '80386' });
    expect(bad.ok ? [] : bad.problems).toEqual(['"cpu" must be one of "486sx", "486dx", "pentium", "pentium-pro", not the string "80386".']);
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

  it('accepts exactly the values the launch check accepts, attribute by attribute', () => {
    const probes: Record<string, unknown[]> = {
      program: ['', 'a.bin', 7, null, [], {}],
      symbols: ['', 'a.elf', true, 1],
      format: ['bin', 'exe', '', 3],
      mode: ['real', 'protected', 'v86', true],
      sbe: ['auto', 'on', 'off', 'sometimes', 0],
      serial: ['debugConsole', 'terminal', 'file', null],
      monitor: [true, false, 'true', 0, null],
      stopOnEntry: [true, false, 'yes', 1],
      memoryMB: [0, 1, 16, 1.5, 3072, 3073, 4095, 4096, -1, '16', null, 2 ** 53],
      maxInstructions: [0, 1, 1e9, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, -5, '100'],
      trace: [[], ['segment-load'], ['segment-load', 'segment-load'], ['nope'], [3], 'segment-load', null],
      cpu: ['486sx', '486dx', 'pentium', 'pentium-pro', '80386', '', 5, null],
      disks: [[], ['a.img'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd'], [''], [3], 'a.img', null],
      initrd: ['', 'initrd.img', 3, null],
      append: ['', 'console=ttyS0 quiet', 5, []],
      keys: ['', 'root\\n', 1, null],
      serialIn: ['', 'input.txt', false, {}],
      reverse: [{}, { enabled: false }, { maxMemoryMB: 16 }, { maxMemoryMB: 15 }, { maxMemoryMB: 16384 }, { maxMemoryMB: 16385 }, { enabled: 'yes' }, { other: 1 }, [], null, true],
    };
    const addresses = [0, 0x7c00, 0xffffffff, 0x100000000, -1, 1.5, '0x7c00', '0X7C00', ' 0x7c00 ', '7c00h', '7C00H', 'ffffffffh', '1ffffffffh',
      '31744', '4294967295', '4294967296', '00004294967295', '0xffffffff', '0x00000000ffffffff', '0x100000000', '0x', 'h', '', '12abc', '0x7c_00', '-1', true, null];
    probes.loadAddress = addresses;
    probes.entry = addresses;
    expect(Object.keys(probes).sort()).toEqual(Object.keys(properties).sort());
    for (const [name, values] of Object.entries(probes)) {
      for (const value of values) {
        const byCheck = LAUNCH_ATTRIBUTES[name](value) === undefined;
        expect(schemaAccepts(properties[name] as Schema, value), `${name} = ${JSON.stringify(value)}: the check ${byCheck ? 'accepts' : 'refuses'} it`).toBe(byCheck);
      }
    }
  });

  it('gives a snippet for every image format', () => {
    const formats = debuggerContribution.configurationSnippets.map((s) => (s.body as { format?: string }).format);
    expect(formats.sort()).toEqual([...IMAGE_FORMATS].sort());
  });
});

describe('the cpu attribute reaches the session settings', () => {
  it('defaults to pentium-pro and passes a chosen model through', async () => {
    const { readLaunchSettings } = await import('../../debug-adapter/launch-config');
    expect(readLaunchSettings({ program: '/tmp/guest.bin' }).cpu).toBe('pentium-pro');
    expect(readLaunchSettings({ program: '/tmp/guest.bin', cpu: '486sx' }).cpu).toBe('486sx');
    expect(() => readLaunchSettings({ program: '/tmp/guest.bin', cpu: 'i7' })).toThrow(/"cpu" must be one of/);
  });
});

/** The part of JSON Schema the launch schema uses, evaluated as an editor would. */
interface Schema {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
  items?: Schema;
  uniqueItems?: boolean;
  maxItems?: number;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean;
}

function schemaAccepts(schema: Schema, value: unknown): boolean {
  const typeOf = (v: unknown): string[] => {
    if (v === null) return ['null'];
    if (Array.isArray(v)) return ['array'];
    if (typeof v === 'number') return Number.isInteger(v) ? ['integer', 'number'] : ['number'];
    return [typeof v];
  };
  if (schema.type !== undefined) {
    const allowed = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!typeOf(value).some((t) => allowed.includes(t))) return false;
  }
  if (schema.enum && !schema.enum.includes(value)) return false;
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return false;
    if (schema.maximum !== undefined && value > schema.maximum) return false;
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return false;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) return false;
  }
  if (Array.isArray(value)) {
    if (schema.items && !value.every((x) => schemaAccepts(schema.items!, x))) return false;
    if (schema.uniqueItems && new Set(value).size !== value.length) return false;
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return false;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && schema.properties) {
    for (const [k, v] of Object.entries(value)) {
      const sub = schema.properties[k];
      if (sub ? !schemaAccepts(sub, v) : schema.additionalProperties === false) return false;
    }
  }
  return true;
}
