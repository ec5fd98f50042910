// A C guest compiled by Debian's gcc -m32 with its defaults (-march=i686: CMOVcc), with and without
// -fcf-protection (ENDBR32 at every function entry), linked with Debian's 32-bit libgcc (whose division helpers start
// with ENDBR32): it runs correctly on pentium-pro and raises #UD on a 486 model at its first P6 instruction.
// Source: test/fixtures/c-guest/p6-integer.c. Needs gcc with 32-bit support (gcc-multilib) and ld; without them
// the test says so and is skipped.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CpuModelName } from '../../../engine/cpu/cpu';
import { Machine } from '../../../engine/machine/machine';

const DIR = path.join(__dirname, '..', '..', 'fixtures', 'c-guest');
const SOURCE = path.join(DIR, 'p6-integer.c');
const work = mkdtempSync(path.join(tmpdir(), 'ringside-c-guest-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function tool(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}` };
}

const libgcc = tool('gcc', ['-m32', '-print-libgcc-file-name']);
const HAVE_GCC32 = libgcc.ok && tool('gcc', ['-m32', '-E', '-x', 'c', '/dev/null']).ok && tool('ld', ['-v']).ok;
if (!HAVE_GCC32) console.warn('skipping the C guest: gcc -m32 (gcc-multilib) or ld is not installed');

/** Builds the guest; `extra` are gcc flags beyond Debian's defaults and what a freestanding guest needs. */
function build(name: string, extra: string[]): Uint8Array {
  const obj = path.join(work, `${name}.o`);
  const elf = path.join(work, `${name}.elf`);
  const cc = tool('gcc', ['-m32', '-O2', '-ffreestanding', '-fno-pic', '-fno-stack-protector', '-nostdlib', ...extra, '-c', '-o', obj, SOURCE]);
  if (!cc.ok) throw new Error(`gcc failed: ${cc.out}`);
  const ld = tool('ld', ['-m', 'elf_i386', '-T', path.join(DIR, 'link.ld'), '-o', elf, obj, libgcc.out.trim()]);
  if (!ld.ok) throw new Error(`ld failed: ${ld.out}`);
  return readFileSync(elf);
}

/** What the guest must print, computed here independently (BigInt for its 64-bit part). */
function expectedOutput(): string {
  const data = [37, -5, 1024, 7, -300, 99, 0, 12, -1, 65, 4, 250, -77, 18, 3, 500];
  const clamp = data.reduce((s, v) => s + Math.min(100, Math.max(0, v)), 0);
  const sorted = [...data].sort((a, b) => a - b);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const digits = [...(0x123456789abcdefn).toString()].reduce((s, d) => s + Number(d), 0);
  let steps = 0n;
  for (let k = 0n; k < 3n; k++) {
    for (let x = 837799n + k * 1000003n; x !== 1n; steps++) x = x % 2n === 0n ? x / 2n : 3n * x + 1n;
  }
  return `max ${Math.max(...data)} min ${-Math.min(...data)} clamp ${clamp} sorted ${sorted.join(' ')} gcd ${gcd(1071 * 4096, 462 * 4096)} ` +
    `digits64 ${digits} collatz ${Number(steps % 2n ** 32n)}\n`;
}

interface Outcome {
  output: string;
  exitCode: number | null;
  reason: string;
  /** The first exception: vector, rule id, and the bytes at its EIP. */
  first: { vector: number; rule: string; bytes: number[] } | null;
}

function run(image: Uint8Array, model: CpuModelName): Outcome {
  const m = new Machine({ memoryMB: 4, model });
  m.load(image, { format: 'elf' });
  let first: Outcome['first'] = null;
  m.cpu.events.on('cpu-exception', (e) => {
    if (first === null) first = { vector: e.vector, rule: e.ruleId, bytes: Array.from(m.mem.u8.subarray(e.eip, e.eip + 4)) };
  });
  const r = m.run(5_000_000);
  return { output: m.consoleText(), exitCode: m.exitCode, reason: r.reason, first };
}

function symbolBytes(image: Uint8Array, name: string, n: number): number[] {
  const m = new Machine({ memoryMB: 4 });
  const loaded = m.load(image, { format: 'elf' });
  const sym = loaded.symbols.find((s) => s.name === name);
  if (!sym) throw new Error(`no symbol ${name}`);
  return Array.from(m.mem.u8.subarray(sym.addr, sym.addr + n));
}

const ENDBR32 = [0xf3, 0x0f, 0x1e, 0xfb];
const isCmov = (bytes: number[]): boolean => bytes[0] === 0x0f && (bytes[1] & 0xf0) === 0x40;

describe.skipIf(!HAVE_GCC32)('a C guest from Debian gcc -m32 (i686 defaults)', () => {
  it('defaults (CMOVcc; libgcc with ENDBR32): correct on pentium-pro, #UD at the first CMOV on the 486 models', () => {
    const image = build('defaults', []);
    expect(symbolBytes(image, '__udivmoddi4', 4)).toEqual(ENDBR32); // Debian's libgcc (gcc 12 divides through it), as linked
    const ok = run(image, 'pentium-pro');
    expect(ok.first).toBeNull();
    expect([ok.reason, ok.exitCode]).toEqual(['exit', 0]);
    expect(ok.output).toBe(expectedOutput());
    for (const model of ['486dx', '486sx', 'pentium'] as const) {
      const old = run(image, model);
      expect(old.first?.vector, model).toBe(6);
      expect(old.first?.rule, model).toBe('p6.cmov-without-cmov');
      expect(isCmov(old.first!.bytes), `${model}: ${old.first!.bytes}`).toBe(true);
      expect(old.exitCode, model).toBeNull(); // no exit: the guest has no IDT, the #UD ends in a triple fault
    }
  });

  it('-fcf-protection (ENDBR32 at every function): the hint NOP runs on pentium-pro; a 486 stops at the first one', () => {
    const image = build('cet', ['-fcf-protection']);
    expect(symbolBytes(image, '_start', 4)).toEqual(ENDBR32);
    const ok = run(image, 'pentium-pro');
    expect(ok.first).toBeNull();
    expect([ok.reason, ok.exitCode]).toEqual(['exit', 0]);
    expect(ok.output).toBe(expectedOutput());
    const old = run(image, '486dx');
    expect(old.first).toEqual({ vector: 6, rule: 'p6.not-on-this-model', bytes: ENDBR32 });
    expect(old.output).toBe('');
  });
});
