// The FPU scope (debug-adapter/scopes/fpu.ts), the x87 names of expressions (expression/fpu-values.ts) and
// setVariable on ST(i) and the words, bare and under the monitor: the guest (test/fixtures/fpu-view/fpu-scope.asm)
// prints ST0 and ST1 rounded by the control word after the edits, so its output proves the edits reached the FPU.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, children, launchStopped, named, ROOT, scopeVariables, startClient, stoppedAfter } from './dap-client';

const SOURCE = path.join(ROOT, 'test/fixtures/fpu-view/fpu-scope.asm');
const MARK = 0x7c40;
let image = '';
let hasNasm = true;

let dc: DebugClient | undefined;
beforeAll(() => {
  buildOnce();
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringside-fpu-scope-'));
    image = path.join(dir, 'fpu-scope.bin');
    execFileSync('nasm', ['-f', 'bin', SOURCE, '-o', image], { stdio: 'pipe' });
  } catch {
    hasNasm = false;
  }
}, 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

async function stopAtMark(c: DebugClient, args: Record<string, unknown>): Promise<void> {
  await launchStopped(c, { program: image, format: 'bin', mode: 'protected', ...args }, () =>
    c.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: '0x' + MARK.toString(16) }] }),
  );
  const stop = await stoppedAfter(c, () => c.continueRequest({ threadId: 1 }));
  expect(stop.body.reason).toBe('instruction breakpoint');
}

async function fpuScope(c: DebugClient): Promise<{ rows: DebugProtocol.Variable[]; ref: number }> {
  const st = await c.stackTraceRequest({ threadId: 1 });
  const scopes = (await c.scopesRequest({ frameId: st.body.stackFrames[0].id })).body.scopes;
  const names = scopes.map((s) => s.name);
  // After the register scopes Ringside has always had, before Devices and Monitor.
  expect(names.indexOf('FPU')).toBe(names.indexOf('Control') + 1);
  const s = scopes.find((x) => x.name === 'FPU')!;
  return { rows: (await c.variablesRequest({ variablesReference: s.variablesReference })).body.variables, ref: s.variablesReference };
}

const evaluate = async (c: DebugClient, expression: string): Promise<string> =>
  (await c.evaluateRequest({ expression, context: 'watch', frameId: 1 })).body.result;

/** Reads the scope, edits it, and runs to the end; returns what was seen and what the guest printed. */
async function session(monitor: boolean): Promise<{ seen: Record<string, string>; output: string }> {
  const c = await startClient();
  dc = c;
  let output = '';
  c.on('output', (e: DebugProtocol.OutputEvent) => {
    if (e.body.category === 'stdout') output += e.body.output;
  });
  await stopAtMark(c, { monitor });
  const seen: Record<string, string> = {};
  const { rows, ref } = await fpuScope(c);
  for (const r of rows) seen[r.name] = r.value;
  const st1 = await children(c, named(rows, 'ST1'));
  for (const r of st1) seen[`ST1.${r.name}`] = r.value;
  for (const r of await children(c, named(rows, 'FCW'))) seen[`FCW.${r.name}`] = r.value;
  for (const r of await children(c, named(rows, 'FSW'))) seen[`FSW.${r.name}`] = r.value;
  for (const r of await children(c, named(rows, 'FTW'))) seen[`FTW.${r.name}`] = r.value;
  for (const e of ['st0', 'st1.raw', 'st3.tag', 'fpu.cw', 'fpu.top', 'fpu.c3', 'st0 > 2 && st0 < 3']) seen[`eval ${e}`] = await evaluate(c, e);
  expect(named(rows, 'ST0').evaluateName).toBe('st0');
  expect(named(rows, 'FCW').evaluateName).toBe('fpu.cw');

  // ST0 by decimal, ST1 by its raw 80 bits, rounding control up: the guest then prints 8 (7.25 up) and 3.
  seen['set ST0'] = (await c.setVariableRequest({ variablesReference: ref, name: 'ST0', value: '7.25' })).body.value;
  seen['set ST1'] = (await c.setVariableRequest({ variablesReference: ref, name: 'ST1', value: '0x4000c000000000000000' })).body.value;
  seen['set FCW'] = (await c.setVariableRequest({ variablesReference: ref, name: 'FCW', value: '0x0b7f' })).body.value;
  seen['set FSW'] = (await c.setVariableRequest({ variablesReference: ref, name: 'FSW', value: '0x6800' })).body.value;
  seen['set FTW'] = (await c.setVariableRequest({ variablesReference: ref, name: 'FTW', value: '0xc3ff' })).body.value;
  const after = (await fpuScope(c)).rows;
  seen['ST2 after FTW'] = named(after, 'ST2').value;
  seen['eval st0 after'] = await evaluate(c, 'st0');
  seen['eval fpu.cw after'] = await evaluate(c, 'fpu.cw');
  await expect(c.setVariableRequest({ variablesReference: ref, name: 'ST0', value: '1.2.3' })).rejects.toThrow(/neither a decimal number/);
  await expect(c.setVariableRequest({ variablesReference: ref, name: 'FCW', value: '0x10000' })).rejects.toThrow(/0xffff/);
  await expect(c.setVariableRequest({ variablesReference: ref, name: 'FIP', value: '0' })).rejects.toThrow(/cannot be changed/);
  // The tag word made ST2 empty again; restore it so the guest's two FISTPs see valid registers.
  await c.setVariableRequest({ variablesReference: ref, name: 'FTW', value: '0x03ff' });

  const exited = c.waitForEvent('exited');
  await c.customRequest('setInstructionBreakpoints', { breakpoints: [] });
  await c.continueRequest({ threadId: 1 });
  await exited;
  dc = undefined;
  await c.stop();
  return { seen, output };
}

describe.skipIf(!hasNasm)('FPU scope', () => {
  it('shows the stack, the words and the pointers, writes them, and the guest computes with what was written (bare and monitored alike)', async () => {
    const bare = await session(false);
    const s = bare.seen;
    expect(s.ST0).toBe('2.5 (R5 valid 0x4000a000000000000000)');
    expect(s.ST1).toBe('3.1415926535897932385 (R6 valid 0x4000c90fdaa22168c235)');
    expect(s.ST2).toBe('1 (R7 valid 0x3fff8000000000000000)');
    expect(s.ST3).toBe('empty (R0 0x00000000000000000000)');
    expect(s['ST1.value']).toBe('3.1415926535897932385');
    expect(s['ST1.raw']).toBe('0x4000c90fdaa22168c235');
    expect(s['ST1.tag']).toBe('valid');
    expect(s['ST1.register']).toBe('R6');
    expect(s.FCW).toBe('0x037f [PC=64 RC=nearest masked: IM DM ZM OM UM PM]');
    expect(s['FCW.PC']).toBe('64-bit (extended)');
    expect(s['FCW.RC']).toBe('nearest');
    expect(s['FCW.ZM']).toBe('1');
    expect(s.FSW).toBe('0x2800 [TOP=5]');
    expect(s['FSW.TOP']).toBe('5');
    expect(s['FSW.C3']).toBe('0');
    expect(s.FTW).toBe('0x03ff');
    expect(s['FTW.R5']).toBe('valid');
    expect(s['FTW.R0']).toBe('empty');
    // The last non-control instruction: FLD m80 (DB /5) at 0x7C06, its operand at 0x7C70.
    expect(s.FIP).toBe('0x00007c06');
    expect(s.FOP).toBe('0x32d (DB 2D)');
    expect(s.FDP).toBe('0x00007c70');
    expect(s['eval st0']).toBe('ST0 = 2.5 (R5 valid 0x4000a000000000000000)');
    expect(s['eval st1.raw']).toBe('"0x4000c90fdaa22168c235"');
    expect(s['eval st3.tag']).toBe('"empty"');
    expect(s['eval fpu.cw']).toBe('0x37f');
    expect(s['eval fpu.top']).toBe('0x5');
    expect(s['eval fpu.c3']).toBe('0x0');
    expect(s['eval st0 > 2 && st0 < 3']).toBe('true');
    expect(s['set ST0']).toBe('7.25 (R5 valid 0x4001e800000000000000)');
    expect(s['set ST1']).toBe('3 (R6 valid 0x4000c000000000000000)');
    expect(s['set FCW']).toBe('0x0b7f [PC=64 RC=up masked: IM DM ZM OM UM PM]');
    expect(s['set FSW']).toBe('0x6800 [TOP=5 C3]');
    expect(s['set FTW']).toBe('0xc3ff');
    expect(s['ST2 after FTW']).toBe('empty (R7 0x3fff8000000000000000)');
    expect(s['eval st0 after']).toBe('ST0 = 7.25 (R5 valid 0x4001e800000000000000)');
    expect(s['eval fpu.cw after']).toBe('0xb7f');
    // Without the edits the guest prints "23" (2.5 to even, pi): 7.25 rounded up, then 3.
    expect(bare.output).toBe('83');

    const monitored = await session(true);
    const differs = Object.keys(s).filter((k) => monitored.seen[k] !== s[k] && k !== 'FCS' && k !== 'FDS');
    expect(differs).toEqual([]);
    expect(monitored.seen.FCS).toMatch(/monitor's selector/);
    expect(monitored.output).toBe('83');
  }, 60000);

  it('says there is no FPU on a 486sx, and the x87 names are an error there', async () => {
    const c = await startClient();
    dc = c;
    await stopAtMark(c, { monitor: false, cpu: '486sx' });
    const rows = await scopeVariables(c, 'FPU');
    expect(rows.map((r) => [r.name, r.value])).toEqual([['FPU', 'no FPU (the 486sx has none)']]);
    await expect(evaluate(c, 'st0')).rejects.toThrow(/486sx\) has no FPU/);
    await expect(evaluate(c, 'fpu.cw')).rejects.toThrow(/has no FPU/);
  }, 30000);
});
