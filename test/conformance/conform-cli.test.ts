import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { conformCommand } from '../../engine/cli/conform';
import { encodeMoo, VectorTest } from './moo-encoder';

/** A real-mode 386 test of HLT itself: CS:IP 0x100:0x10, the HLT at 0x1010; EIP ends past it. */
function hltTest(finalEip: number, extra: Partial<VectorTest> = {}): VectorTest {
  return {
    name: 'hlt',
    bytes: [0xf4, 0xf4],
    initial: {
      regs: { cr0: 0x10, cr3: 0, eax: 1, ebx: 2, ecx: 3, edx: 4, esi: 5, edi: 6, ebp: 7, esp: 0x100, cs: 0x100, ds: 0, es: 0, fs: 0, gs: 0, ss: 0x200, eip: 0x10, eflags: 0x2, dr6: 0xffff0ff0, dr7: 0x400 },
      ram: [[0x1010, 0xf4], [0x1011, 0xf4]],
    },
    final: { regs: { eip: finalEip } },
    ...extra,
  };
}

function writeSet(files: Record<string, VectorTest[]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-conform-cli-'));
  for (const [name, tests] of Object.entries(files)) {
    writeFileSync(join(dir, name), encodeMoo({ cpuId: '386E', width: 32, tests, gzip: name.endsWith('.gz') }));
  }
  return dir;
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
  const code = await conformCommand(argv);
  vi.restoreAllMocks();
  return { code, out, err };
}

afterEach(() => vi.restoreAllMocks());

describe('ringside conform', () => {
  it('ends with exactly "N passed, M failed" and exits 0 when nothing failed', async () => {
    const dir = writeSet({ 'F4.MOO': [hltTest(0x11), hltTest(0x11)] });
    const r = await run([dir]);
    expect(r.out.trimEnd().split('\n').at(-1)).toBe('2 passed, 0 failed');
    expect(r.code).toBe(0);
  });

  it('describes failing tests with --show and exits 1', async () => {
    const dir = writeSet({ 'F4.MOO.gz': [hltTest(0x11), hltTest(0x12)] });
    const r = await run([dir, '--show', '1']);
    const lines = r.out.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('1 passed, 1 failed');
    expect(r.out).toMatch(/FAIL F4\.MOO\.gz #1 hlt \[f4 f4\]: eip: expected 0x00000012, got 0x00000011/);
    expect(r.code).toBe(1);
  });

  it('counts revoked tests as skipped, honours --limit and --filter, and prints JSON before the summary', async () => {
    const dir = writeSet({ 'F4.MOO': [hltTest(0x11, { hash: 'ab'.repeat(20) }), hltTest(0x11), hltTest(0x11)], '90.MOO': [hltTest(0x99)] });
    writeFileSync(join(dir, 'revocation_list.txt'), `# revoked\n${'ab'.repeat(20)}\n`);
    const r = await run([dir, '--filter', 'F4*', '--limit', '2', '--json']);
    const lines = r.out.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('1 passed, 0 failed, 1 skipped');
    const json = JSON.parse(lines.at(-2)!);
    expect(json).toMatchObject({ passed: 1, failed: 0, skipped: 1 });
    expect(r.out).toMatch(/skipped 1: revoked/);
    expect(r.code).toBe(0);
  });

  it('rejects bad options and missing paths with a one-line message and exit 1', async () => {
    expect((await run([])).code).toBe(1);
    const bad = await run(['x', '--limit', 'many']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--limit needs a non-negative integer/);
    const missing = await run(['/nonexistent/dir']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no such file or directory/);
  });

  it('reports an unreadable file and exits 1 even when no test failed', async () => {
    const dir = writeSet({ 'F4.MOO': [hltTest(0x11)] });
    writeFileSync(join(dir, 'broken.MOO'), 'not a moo file');
    const r = await run([dir]);
    expect(r.out).toMatch(/broken\.MOO: error: not a MOO file/);
    expect(r.out.trimEnd().split('\n').at(-1)).toBe('1 passed, 0 failed');
    expect(r.code).toBe(1);
  });
});
