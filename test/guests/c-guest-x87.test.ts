// A floating-point C guest compiled by Debian's gcc -m32 -mfpmath=387 with its i686 defaults (FCOMI, FCMOVcc,
// CMOVcc, 64-bit FILD/FISTP under a changed control word), with and without -fcf-protection (ENDBR32), linked with
// Debian's libgcc: its output must equal, byte for byte, what the same C file prints when built for the host and
// run on the host's own x87 (test/fixtures/c-guest/x87-float.c). Bare and under the monitor on pentium-pro; on a
// 486dx the i686 build stops with #UD at its first CMOV.
//
// The host build: `gcc -m32` when this machine runs i386 programs; where it cannot (a kernel without IA32
// emulation, as on the machine this was written on: "Exec format error"), the same file built with `-m64
// -mfpmath=387`. Both use -fexcess-precision=standard, so every assignment, argument and return rounds to its C
// type as the C standard says (FLT_EVAL_METHOD 2): the text is defined by the source, not by register allocation,
// and the x87 does every operation on both sides.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CpuModelName } from '../../engine/cpu/cpu';
import { Machine } from '../../engine/machine/machine';
import { attachMonitor } from '../../engine/monitor/monitor';

const DIR = path.join(__dirname, '..', 'fixtures', 'c-guest');
const SOURCE = path.join(DIR, 'x87-float.c');
const FLOAT_FLAGS = ['-O2', '-mfpmath=387', '-fexcess-precision=standard', '-fno-math-errno'];
const work = mkdtempSync(path.join(tmpdir(), 'ringside-x87-guest-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function tool(cmd: string, args: string[]): { ok: boolean; out: string; stdout: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}`, stdout: r.stdout ?? '' };
}

const libgcc = tool('gcc', ['-m32', '-print-libgcc-file-name']);
const HAVE_GCC32 = libgcc.ok && tool('gcc', ['-m32', '-E', '-x', 'c', '/dev/null']).ok && tool('ld', ['-v']).ok;
if (!HAVE_GCC32) console.warn('skipping the x87 C guest: gcc -m32 (gcc-multilib) or ld is not installed');

function buildGuest(name: string, extra: string[]): Uint8Array {
  const obj = path.join(work, `${name}.o`);
  const elf = path.join(work, `${name}.elf`);
  const cc = tool('gcc', ['-m32', ...FLOAT_FLAGS, '-g', '-ffreestanding', '-fno-pic', '-fno-stack-protector', '-nostdlib', ...extra, '-c', '-o', obj, SOURCE]);
  if (!cc.ok) throw new Error(`gcc failed: ${cc.out}`);
  const ld = tool('ld', ['-m', 'elf_i386', '-T', path.join(DIR, 'link.ld'), '-o', elf, obj, libgcc.out.trim()]);
  if (!ld.ok) throw new Error(`ld failed: ${ld.out}`);
  return readFileSync(elf);
}

/** The host's text: the -m32 build where i386 programs run here, else the -m64 one (see the file comment). */
function hostOutput(): { text: string; build: string } {
  for (const arch of ['-m32', '-m64']) {
    const exe = path.join(work, `host${arch}`);
    if (!tool('gcc', [arch, ...FLOAT_FLAGS, '-DHOST', '-o', exe, SOURCE]).ok) continue;
    const r = tool(exe, []);
    if (r.ok) return { text: r.stdout, build: `gcc ${arch} ${FLOAT_FLAGS.join(' ')}` };
  }
  throw new Error('the host build of x87-float.c neither builds nor runs with -m32 or -m64');
}

interface Outcome {
  output: string;
  exitCode: number | null;
  first: { vector: number; rule: string; bytes: number[] } | null;
}

function run(image: Uint8Array, model: CpuModelName, monitor: boolean): Outcome {
  const m = new Machine({ memoryMB: 4, model });
  if (monitor) attachMonitor(m);
  m.load(image, { format: 'elf' });
  let first: Outcome['first'] = null;
  m.cpu.events.on('cpu-exception', (e) => {
    if (first === null) first = { vector: e.vector, rule: e.ruleId, bytes: Array.from(m.mem.u8.subarray(e.eip, e.eip + 3)) };
  });
  m.run(20_000_000);
  return { output: m.consoleText(), exitCode: m.exitCode, first };
}

/** How many times each x87/P6 mnemonic appears in the guest's code (objdump), to know what the run exercised. */
function mnemonics(elf: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of tool('objdump', ['-d', elf]).stdout.split('\n')) {
    const m = /^\s+[0-9a-f]+:\t(?:[0-9a-f]{2} )+\s*\t([a-z0-9]+)/.exec(l);
    if (m) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  }
  return counts;
}

describe.skipIf(!HAVE_GCC32)('a floating-point C guest from Debian gcc -m32 -mfpmath=387', () => {
  it('prints what the same C prints on the host x87, bare and monitored; #UD at the first CMOV on a 486dx', () => {
    const host = hostOutput();
    console.log(`x87 C guest: host oracle built with ${host.build}`);
    expect(host.text.split('\n').length).toBeGreaterThan(20);
    const image = buildGuest('defaults', []);
    const used = mnemonics(path.join(work, 'defaults.elf'));
    for (const op of ['fsqrt', 'fsin', 'fcos', 'fpatan', 'fyl2x', 'f2xm1', 'fdivrp', 'fcomi', 'fucomi', 'fcmovbe', 'cmovne', 'fildll', 'fistpll', 'fldcw']) {
      expect(used.get(op) ?? 0, op).toBeGreaterThan(0);
    }
    for (const monitor of [false, true]) {
      const ok = run(image, 'pentium-pro', monitor);
      expect(ok.first, `monitor ${monitor}`).toBeNull();
      expect(ok.exitCode).toBe(0);
      expect(ok.output, `monitor ${monitor}`).toBe(host.text);
    }
    const old = run(image, '486dx', false);
    expect(old.first?.vector).toBe(6);
    expect(old.first?.rule).toBe('p6.cmov-without-cmov');
    expect(old.first!.bytes[0]).toBe(0x0f);
    expect(old.first!.bytes[1] & 0xf0).toBe(0x40);
    expect(old.exitCode).toBeNull();
  });

  it('-fcf-protection (ENDBR32 at every function): the same text on pentium-pro', () => {
    const host = hostOutput();
    const image = buildGuest('cet', ['-fcf-protection']);
    const ok = run(image, 'pentium-pro', false);
    expect(ok.first).toBeNull();
    expect(ok.output).toBe(host.text);
  });
});
