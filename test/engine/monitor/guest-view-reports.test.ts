// Every report shows the guest's view under the monitor (interfaces.md, wave 2): `--json`'s cs/eip, and the
// CS:EIP of every trace line, are what a bare run reports, never the deprivileged CPU's (CS RPL 3, the monitor's
// own code offsets). The lines only the monitor makes (monitor-trap, sbe-change) and the consistency events (whose
// timing the monitor owns; events.test.ts compares their net sequence) are left out of the comparison.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listExamples } from '../../examples/example-folders';

const ROOT = join(__dirname, '../../..');
const BIN = join(ROOT, 'bin/ringside.js');
const TRACED = 'segment-load,descriptor-write,cpu-exception,triple-fault,mode-change,port-io';

function run(image: string, monitor: boolean): { json: { cs: number; eip: number; instructions: number; stop: string }; trace: string[] } {
  const args = [BIN, 'run', image, '--json', '--trace', TRACED, '--max-instructions', '3000000', '--serial', 'off'];
  if (monitor) args.push('--monitor');
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 256 << 20 });
  const json = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { json, trace: r.stderr.split('\n').filter((l) => / at [0-9a-f]{4}:[0-9a-f]{8}/.test(l)) };
}

describe('reports under the monitor show the guest, as bare', () => {
  for (const example of listExamples().filter((e) => e.name !== 'bench-loop')) {
    it(`${example.name}: --json cs/eip and every trace line's CS:EIP`, () => {
      const bare = run(example.bin, false);
      const mon = run(example.bin, true);
      expect(mon.json.stop).toBe(bare.json.stop);
      expect(mon.json.instructions).toBe(bare.json.instructions);
      expect({ cs: mon.json.cs, eip: mon.json.eip }).toEqual({ cs: bare.json.cs, eip: bare.json.eip });
      expect(mon.trace.length).toBe(bare.trace.length);
      for (let k = 0; k < bare.trace.length; k++) expect(mon.trace[k], `trace line ${k}`).toBe(bare.trace[k]);
    }, 120_000);
  }

  it('the examples end in ring 0 code with CS 0x08 (so a CS of 0x0B would be the deprivileged one)', () => {
    const r = run(join(ROOT, 'examples/hello/hello.bin'), true);
    expect(r.json.cs).toBe(0x08);
  }, 60_000);
});
