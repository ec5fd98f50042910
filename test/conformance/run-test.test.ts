// The runner's view of each captured chip (cpu-profile.ts), checked end to end on the CPU with small vectors.

import { describe, expect, it } from 'vitest';
import { profileFor } from '../../engine/conformance/cpu-profile';
import { readMoo } from '../../engine/conformance/moo-reader';
import { RecordingMemory } from '../../engine/conformance/recording-memory';
import { runTest, TestOutcome } from '../../engine/conformance/run-test';
import { IoBus } from '../../engine/bus/io-bus';
import { encodeMoo, VectorTest } from './moo-encoder';

const memory = new RecordingMemory(16 * 1024 * 1024);

function run(cpuId: string, t: VectorTest): TestOutcome {
  const file = readMoo(encodeMoo({ cpuId, width: 16, tests: [t] }));
  return runTest(file.tests[0], {
    profile: profileFor(file), masks: null, fileMask: null, revoked: new Set(), memory, io: new IoBus(), stepLimit: 64,
  });
}

const REGS = { ax: 0, bx: 0, cx: 0, dx: 0, cs: 0x100, ss: 0x200, ds: 0, es: 0, sp: 0x100, bp: 0, si: 0, di: 0, ip: 0x10 };
const CODE = 0x1010;

describe('8088-class tests', () => {
  it('translate FLAGS bits 12–15 (fixed 1 on the 8088) in the register and in a pushed image', () => {
    const pushf = (imageLow: number): VectorTest => ({
      name: 'pushf', bytes: [0x9c],
      initial: { regs: { ...REGS, flags: 0xf046 }, ram: [[CODE, 0x9c], [CODE + 1, 0x90]] },
      final: { regs: { sp: 0xfe, ip: 0x11 }, ram: [[0x20fe, imageLow], [0x20ff, 0xf0]] },
    });
    expect(run('8088', pushf(0x46))).toEqual({ status: 'passed' });
    expect(run('8088', pushf(0x47))).toMatchObject({ status: 'failed', reason: expect.stringMatching(/memory \[0x20fe\]/) });
  });

  it('run with 20 address lines: CS:IP FFFF:0010 fetches from physical 0', () => {
    const t: VectorTest = {
      name: 'inc ax', bytes: [0x40],
      initial: { regs: { ...REGS, cs: 0xffff, ip: 0x10, flags: 0xf002 }, ram: [[0, 0x40], [1, 0x90]] },
      final: { regs: { ax: 1, ip: 0x11 } },
    };
    expect(run('8088', t)).toEqual({ status: 'passed' });
  });
});

describe('286 tests', () => {
  it('load FLAGS without bits 12–15 (the 286 never held them in real mode) and end at the HLT', () => {
    const t = (finalIp: number): VectorTest => ({
      name: 'nop', bytes: [0x90, 0xf4],
      initial: { regs: { ...REGS, flags: 0xf002 }, ram: [[CODE, 0x90], [CODE + 1, 0xf4]] },
      final: { regs: { ip: finalIp } },
    });
    expect(run('C286', t(0x12))).toEqual({ status: 'passed' });
    expect(run('C286', t(0x11))).toMatchObject({ status: 'failed', reason: 'ip: expected 0x0011, got 0x0012' });
  });

  it('fail with a clear reason when no HLT comes', () => {
    const t: VectorTest = {
      name: 'jmp $', bytes: [0xeb, 0xfe, 0xf4],
      initial: { regs: { ...REGS, flags: 2 }, ram: [[CODE, 0xeb], [CODE + 1, 0xfe], [CODE + 2, 0xf4]] },
      final: { regs: { ip: 0x13 } },
    };
    expect(run('C286', t)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/no HLT within 64 steps/) });
  });
});
