// Running one MOO test on a fresh CPU: load the initial state, execute, compare with the final state.
//
// How a test ends (READMEs of SingleStepTests/80386 and /80286): the instruction is followed by HLT (F4). When it
// transfers control or raises an exception, a HLT is waiting at the target (the handler the IVT names, in the
// test's RAM), so the runner steps until the CPU halts. The 8088-class sets run exactly one instruction. A step
// cap keeps a CPU bug from hanging the runner; a REP string instruction runs one iteration per step at most, and
// the sets mask CX to 7 bits, so the cap is generous.

import { Cpu, CR0_PE } from '../cpu/cpu';
import { IoBus } from '../bus/io-bus';
import { CpuProfile } from './cpu-profile';
import { compareMemory, compareRegisters, describeDifference, Difference } from './compare-state';
import { FlagMaskTable } from './flag-masks';
import { analyzeInstruction } from './instruction-form';
import { MooRegisters, MooTest } from './moo-types';
import { RecordingMemory } from './recording-memory';
import { isSegmentName, writeCpuRegister } from './register-map';
import { loadTestSegments, VectorSetupError } from './segment-setup';

export const DEFAULT_STEP_LIMIT = 4096;

export type TestOutcome =
  | { status: 'passed' }
  | { status: 'failed'; reason: string; difference: Difference | null }
  | { status: 'skipped'; reason: string };

export interface TestEnvironment {
  profile: CpuProfile;
  masks: FlagMaskTable | null;
  fileMask: MooRegisters | null;
  revoked: Set<string>;
  memory: RecordingMemory;
  io: IoBus;
  stepLimit: number;
}

const ALL_FLAGS = 0xffffffff;
const FLAGS_NAMES = new Set(['flags', 'eflags']);
const FIXED_FLAG_BIT1 = 0x2;

/** The undefined-flag AND mask of the test's instruction form (all ones when the set has none). */
export function flagMaskFor(test: MooTest, env: TestEnvironment): number {
  if (!env.masks) return ALL_FLAGS;
  const form = analyzeInstruction(test.bytes);
  const mask = env.masks.lookup(form.opcode, form.modrm?.reg ?? null);
  if (mask === null) return ALL_FLAGS;
  // 16-bit masks say nothing about EFLAGS bits 16 and up: those stay compared (as the moo tools do).
  return (mask & 0xffff0000) === 0 ? (mask | 0xffff0000) >>> 0 : mask >>> 0;
}

export function runTest(test: MooTest, env: TestEnvironment): TestOutcome {
  if (test.hash !== null && env.revoked.has(test.hash)) return { status: 'skipped', reason: 'revoked (revocation_list.txt)' };
  const difference = env.profile.difference(test);
  if (difference !== null) return { status: 'skipped', reason: difference };
  const mem = env.memory;
  try {
    const cpu = new Cpu(mem, env.io, { model: '386' });
    loadInitialState(cpu, test, env.profile);
    const stop = execute(cpu, env);
    if (stop) return { status: 'failed', reason: stop, difference: null };
    const flagMask = flagMaskFor(test, env);
    const d = compareRegisters(cpu, test, env.profile, flagMask, env.fileMask) ?? compareMemory(cpu, test, env.profile, flagMask);
    return d ? { status: 'failed', reason: describeDifference(d), difference: d } : { status: 'passed' };
  } catch (e) {
    if (e instanceof VectorSetupError) return { status: 'failed', reason: `bad vector: ${e.message}`, difference: null };
    return { status: 'failed', reason: `engine error: ${engineErrorText(e)}`, difference: null };
  } finally {
    mem.clearTouched(); // the initial RAM was stored through the same memory, so this clears it too
  }
}

function loadInitialState(cpu: Cpu, test: MooTest, profile: CpuProfile): void {
  const state = test.initial;
  for (const { address, value } of state.ram) cpu.mem.write8(address, value);
  const regs = state.regs!.values;
  for (const [name, value] of regs) {
    if (!isSegmentName(name) && !FLAGS_NAMES.has(name)) writeCpuRegister(cpu, name, value);
  }
  const flags = regs.get('eflags') ?? regs.get('flags') ?? FIXED_FLAG_BIT1;
  cpu.setEflags(flags & profile.initialFlagsMask);
  cpu.a20Enabled = profile.a20;
  cpu.modeChanged();
  loadTestSegments(cpu, state, (cpu.cr0 & CR0_PE) !== 0);
  if (state.idtr) {
    cpu.idtrBase = state.idtr.base | 0;
    cpu.idtrLimit = state.idtr.limit;
  }
  cpu.modeChanged();
}

/** Runs the test's instruction; returns why it did not end properly, or null. */
function execute(cpu: Cpu, env: TestEnvironment): string | null {
  if (!env.profile.endsWithHalt) {
    cpu.step();
    return cpu.shutdown ? 'the CPU shut down (triple fault)' : null;
  }
  for (let steps = 0; steps < env.stepLimit; steps++) {
    cpu.step();
    if (cpu.halted) return null;
    if (cpu.shutdown) return 'the CPU shut down (triple fault)';
  }
  return `no HLT within ${env.stepLimit} steps (CS:EIP ${cpu.segSel[1].toString(16)}:${cpu.eip.toString(16)})`;
}

/** An engine exception as one line: its message and where it was thrown. */
function engineErrorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const at = e.stack?.split('\n').find((l) => l.trim().startsWith('at '))?.trim();
  return at ? `${e.message} (${at})` : e.message;
}
