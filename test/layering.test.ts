// Dependencies point one way: extension → debug-adapter → engine (README, style.md). This test is the lint rule
// that enforces it: it reads every import of every source file and rejects the ones that point backwards.

import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const root = join(__dirname, '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|mts|cts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers of static imports, re-exports, dynamic imports and require calls. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return specs;
}

/** The top-level folder a relative import lands in, or the package name. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  return relative(root, resolve(dirname(file), spec)).split(/[\\/]/)[0];
}

function violations(folder: string, forbidden: (t: string) => boolean): string[] {
  const bad: string[] = [];
  for (const f of sources(join(root, folder))) {
    for (const spec of importsOf(f)) {
      if (forbidden(target(f, spec))) bad.push(`${relative(root, f)} imports ${spec}`);
    }
  }
  return bad;
}

const isVscodeOrDap = (t: string): boolean => t === 'vscode' || t.startsWith('@vscode/') || t.startsWith('vscode-');

describe('layering', () => {
  it('engine imports neither VS Code, the DAP packages, the adapter nor the extension', () => {
    expect(violations('engine', (t) => isVscodeOrDap(t) || t === 'debug-adapter' || t === 'extension')).toEqual([]);
  });

  it('the debug adapter never imports VS Code or the extension', () => {
    expect(violations('debug-adapter', (t) => t === 'vscode' || t === 'extension')).toEqual([]);
  });

  it('the bus (memory, port bus, MMIO, store watch) sits below the CPU; the CPU sits below the machine and devices', () => {
    // engine/bus is what the CPU sees; engine/machine composes CPU, bus and devices from above (issue 12).
    const below = (folder: string, above: string[]) =>
      violations(folder, () => false).concat(
        sources(join(root, folder)).flatMap((f) =>
          importsOf(f)
            .filter((spec) => spec.startsWith('.'))
            .map((spec) => relative(root, resolve(dirname(f), spec)).split(/[\\/]/).slice(0, 2).join('/'))
            .filter((t) => above.includes(t))
            .map((t) => `${relative(root, f)} imports ${t}`),
        ),
      );
    expect(below('engine/bus', ['engine/cpu', 'engine/machine', 'engine/devices', 'engine/monitor'])).toEqual([]);
    expect(below('engine/cpu', ['engine/machine', 'engine/devices', 'engine/monitor'])).toEqual([]);
  });

  it('finds imports at all (the scanner itself works)', () => {
    expect(importsOf(join(root, 'engine', 'machine', 'machine.ts')).length).toBeGreaterThan(3);
  });
});
