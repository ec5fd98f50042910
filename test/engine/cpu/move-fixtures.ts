// Fixtures shared by the move, stack, control, string and I/O tests: assembling NASM snippets, recording the
// exceptions the CPU raises, and real-mode interrupt vectors that halt so a test can see which one was taken.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestMachine } from './harness';

export const HAS_NASM = spawnSync('nasm', ['-v']).status === 0;

/** Assembles `source` as a flat binary (`bits` 16 or 32, origin `org`); throws with nasm's message on an error. */
export function assemble(source: string, bits: 16 | 32 = 16, org = 0x1000): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-asm-'));
  try {
    const src = join(dir, 'snippet.asm');
    const bin = join(dir, 'snippet.bin');
    writeFileSync(src, `bits ${bits}\norg 0x${org.toString(16)}\n${source}\n`);
    const r = spawnSync('nasm', ['-f', 'bin', '-o', bin, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nasm failed: ${r.stderr}`);
    return new Uint8Array(readFileSync(bin));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RecordedException {
  vector: number;
  errorCode: number;
  ruleId: string;
  eip: number;
}

/** Records every `cpu-exception` event of the machine's CPU. */
export function recordExceptions(m: TestMachine): RecordedException[] {
  const list: RecordedException[] = [];
  m.cpu.events.on('cpu-exception', (e) => list.push({ vector: e.vector, errorCode: e.errorCode, ruleId: e.ruleId, eip: e.eip }));
  return list;
}

/** Address of the HLT that real-mode vector `v` is pointed at by `haltingVectors` (after HLT, IP = this + 1). */
export const VECTOR_STUBS = 0x600;

/** Points every real-mode IVT entry at its own HLT byte (0000:VECTOR_STUBS + v), so a taken vector is visible. */
export function haltingVectors(m: TestMachine): void {
  const stubs = new Uint8Array(256).fill(0xf4);
  m.mem.load(VECTOR_STUBS, stubs);
  const ivt = new Uint8Array(1024);
  for (let v = 0; v < 256; v++) {
    const off = VECTOR_STUBS + v;
    ivt[v * 4] = off & 0xff;
    ivt[v * 4 + 1] = off >> 8;
  }
  m.mem.load(0, ivt);
}

/**
 * Runs until HLT, tolerating an engine error thrown by a mechanism that is not built yet (protected-mode
 * delivery), which happens only after the `cpu-exception` event has been recorded.
 */
export function runAllowingUnbuiltDelivery(m: TestMachine, max = 10_000): void {
  try {
    m.cpu.run(max);
  } catch (e) {
    if (!(e instanceof Error) || !/not built yet/.test(e.message)) throw e;
  }
}
