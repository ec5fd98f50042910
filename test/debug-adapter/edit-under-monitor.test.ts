// setVariable while the monitor runs the guest deprivileged (examples/descriptor-cache): the edit goes to the guest's
// view through the monitor, the response and fresh views show the guest's new value, and the guest runs on with it
// — exactly as after the same edits bare (each run is made both ways and compared).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, children, launchStopped, named, ROOT, scopeVariables, startClient } from './dap-client';

const IMAGE = path.join(ROOT, 'examples/descriptor-cache/descriptor-cache.bin');
/** `cmp eax, 'OLD!'` (3D imm32) of step 4, where the guest checks what it read back through DS. */
const CMP_EAX_MARK_OLD = Buffer.from([0x3d, ...Buffer.from('OLD!', 'latin1')]);

let dc: DebugClient | undefined;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

/** What a run showed: results of requests in order, the guest's output and exit code. */
interface RunRecord {
  seen: Record<string, string>;
  /** Under the monitor: what exists only there (its state and panic count after the edits, the Virtual GDT). */
  monitorOnly: Record<string, string>;
  output: string;
  exitCode: number;
}

/** Requests made in one run; `monitorOnly` is null in the bare run. */
type Script = (c: DebugClient, seen: Record<string, string>, monitorOnly: Record<string, string> | null) => Promise<void>;

async function run(monitor: boolean, script: Script): Promise<RunRecord> {
  const c = await startClient();
  dc = c;
  let output = '';
  c.on('output', (e: DebugProtocol.OutputEvent) => {
    if (e.body.category === 'stdout') output += e.body.output;
  });
  await launchStopped(c, { program: IMAGE, monitor });
  const seen: Record<string, string> = {};
  const monitorOnly: Record<string, string> = {};
  await script(c, seen, monitor ? monitorOnly : null);
  if (monitor) {
    const m = await scopeVariables(c, 'Monitor');
    monitorOnly.stateAfterEdits = named(m, 'state').value;
    monitorOnly.panics = named(m, 'panics').value;
  }
  const exited = c.waitForEvent('exited') as Promise<DebugProtocol.ExitedEvent>;
  await c.setExceptionBreakpointsRequest({ filters: [] });
  await setInstructionBreakpoints(c, []);
  await c.continueRequest({ threadId: 1 });
  const exitCode = (await exited).body.exitCode;
  dc = undefined;
  await c.stop();
  return { seen, monitorOnly, output, exitCode };
}

/**
 * Runs `script` bare and under the monitor: both must see the same, and the guest must print the same and exit
 * the same way. The monitor must still run the guest deprivileged after the edits, without a panic.
 */
async function bothWays(script: Script): Promise<{ bare: RunRecord; monitorOnly: Record<string, string> }> {
  const bare = await run(false, script);
  const monitored = await run(true, script);
  expect(monitored.seen).toEqual(bare.seen);
  expect(monitored.output).toBe(bare.output);
  expect(monitored.exitCode).toBe(bare.exitCode);
  expect(monitored.monitorOnly.stateAfterEdits).toMatch(/^direct/);
  expect(monitored.monitorOnly.panics).toBe('0');
  return { bare, monitorOnly: monitored.monitorOnly };
}

/** DebugClient has no helper for setInstructionBreakpoints. */
async function setInstructionBreakpoints(c: DebugClient, references: string[]): Promise<DebugProtocol.SetInstructionBreakpointsResponse['body']> {
  const args: DebugProtocol.SetInstructionBreakpointsArguments = { breakpoints: references.map((instructionReference) => ({ instructionReference })) };
  return ((await c.customRequest('setInstructionBreakpoints', args)) as DebugProtocol.SetInstructionBreakpointsResponse).body;
}

async function continueToStop(c: DebugClient): Promise<DebugProtocol.StoppedEvent> {
  const stop = c.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await c.continueRequest({ threadId: 1 });
  return stop;
}

/** Runs to the instruction after step 2 of the example loads DS from GDT entry 3 (selector 0x18). */
async function stopAtDsLoad(c: DebugClient): Promise<void> {
  await c.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'segment-load', condition: 'reg == DS && selector == 0x18' }] });
  await continueToStop(c);
}

/** One of the guest's own checks failed: it printed FAIL with its message and exited with 1. */
function expectGuestFailure(r: RunRecord, message: string): void {
  expect(r.output).toContain(`FAIL: ${message}`);
  expect(r.exitCode).toBe(1);
}

async function monitorStateRow(c: DebugClient): Promise<string> {
  return named(await scopeVariables(c, 'Monitor'), 'state').value;
}

async function setIn(c: DebugClient, container: DebugProtocol.Variable | number, name: string, value: string): Promise<string> {
  const ref = typeof container === 'number' ? container : container.variablesReference;
  return (await c.setVariableRequest({ variablesReference: ref, name, value })).body.value;
}

async function scopeRef(c: DebugClient, scope: string): Promise<number> {
  const st = await c.stackTraceRequest({ threadId: 1 });
  const sc = await c.scopesRequest({ frameId: st.body.stackFrames[0].id });
  return sc.body.scopes.find((s) => s.name === scope)!.variablesReference;
}

describe('setVariable under the monitor', () => {
  it('EAX and ZF edits reach the guest: it compares the edited EAX, and the edited ZF decides its branch', async () => {
    const { bare } = await bothWays(async (c, seen, monitorOnly) => {
      // The image is loaded where it starts running (the entry stop): the CMP lies at its offset from there.
      const image = fs.readFileSync(IMAGE);
      const offset = image.indexOf(CMP_EAX_MARK_OLD);
      expect(offset).toBeGreaterThan(0);
      expect(image.lastIndexOf(CMP_EAX_MARK_OLD)).toBe(offset);
      const entry = Number((await c.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].instructionPointerReference);
      const bp = await setInstructionBreakpoints(c, [`0x${(entry + offset).toString(16)}`]);
      expect(bp.breakpoints[0].verified).toBe(true);
      expect((await continueToStop(c)).body.reason).toBe('instruction breakpoint');
      if (monitorOnly) expect(await monitorStateRow(c)).toMatch(/^direct/);

      const registers = await scopeRef(c, 'Registers');
      seen.eaxResponse = await setIn(c, registers, 'EAX', '0x11111111');
      // The container of this stop and a fresh one both read the guest's new value.
      seen.eaxSameContainer = named((await c.variablesRequest({ variablesReference: registers })).body.variables, 'EAX').value;
      seen.eaxFresh = named(await scopeVariables(c, 'Registers'), 'EAX').value;
      seen.eaxEvaluated = (await c.evaluateRequest({ expression: 'eax', context: 'watch' })).body.result;

      // Run the CMP: the guest compared what it now holds in EAX, so ZF is clear (it would be set without the edit).
      const step = c.waitForEvent('stopped');
      await c.nextRequest({ threadId: 1, granularity: 'instruction' });
      await step;
      const eflags = named(await scopeVariables(c, 'Registers'), 'EFLAGS');
      seen.zfAfterCmp = named(await children(c, eflags), 'ZF').value;
      seen.zfResponse = await setIn(c, eflags, 'ZF', '1');
      const fresh = named(await scopeVariables(c, 'Registers'), 'EFLAGS');
      seen.eflagsFresh = fresh.value;
      seen.zfFresh = named(await children(c, fresh), 'ZF').value;
    });
    expect(bare.seen).toEqual({
      eaxResponse: '0x11111111',
      eaxSameContainer: '0x11111111',
      eaxFresh: '0x11111111',
      eaxEvaluated: '0x11111111',
      zfAfterCmp: '0',
      zfResponse: '1',
      zfFresh: '1',
      eflagsFresh: expect.stringMatching(/ZF/),
    });
    // With ZF set, the guest's check passed and the run completed.
    expect(bare.exitCode).toBe(0);
    expect(bare.output).not.toContain('FAIL');
  }, 30000);

  it('a GDT row edit and a DS cache edit: the views show them, the Virtual GDT follows, the guest stores through the edited cache', async () => {
    const { bare, monitorOnly } = await bothWays(async (c, seen, monitorOnly) => {
      await stopAtDsLoad(c);
      if (monitorOnly) expect(await monitorStateRow(c)).toMatch(/^direct/);

      // GDT entry 5 (SEL_REAL, loaded in no register now) gets a new base. Under the monitor its virtual entry must
      // follow (entries of loaded data registers may hold their caches instead: the inconsistent return sequence).
      const gdt = named(await scopeVariables(c, 'Descriptor Tables'), 'GDT');
      const entry = (await c.variablesRequest({ variablesReference: gdt.variablesReference, start: 5, count: 1 })).body.variables[0];
      seen.entryResponse = await setIn(c, entry, 'base', '0x40000');
      const tables = await scopeVariables(c, 'Descriptor Tables');
      seen.gdtRow = (await c.variablesRequest({ variablesReference: named(tables, 'GDT').variablesReference, start: 5, count: 1 })).body.variables[0].value;
      if (monitorOnly) {
        const vgdt = named(tables, 'Virtual GDT');
        monitorOnly.virtualRow = (await c.variablesRequest({ variablesReference: vgdt.variablesReference, start: 5, count: 1 })).body.variables[0].value;
      }

      // DS's cache base: the guest's stores through DS go there from now on.
      const ds = named(await scopeVariables(c, 'Segments'), 'DS');
      const cache = named(await children(c, ds), 'cache');
      seen.baseResponse = await setIn(c, cache, 'base', '0x30000');
      seen.baseSameContainer = named(await children(c, cache), 'base').value;
      const dsFresh = await children(c, named(await scopeVariables(c, 'Segments'), 'DS'));
      seen.baseFresh = named(await children(c, named(dsFresh, 'cache')), 'base').value;
      seen.consistent = named(dsFresh, 'consistent').value;
      seen.differs = named(dsFresh, 'differs').value;
      seen.evaluated = (await c.evaluateRequest({ expression: 'ds.base', context: 'watch' })).body.result;
      if (monitorOnly) monitorOnly.virtualEntry = named(dsFresh, 'virtual entry').value;
    });
    expect(bare.seen).toEqual({
      entryResponse: '0x00040000',
      gdtRow: expect.stringContaining('base=0x00040000'),
      baseResponse: '0x00030000',
      baseSameContainer: '0x00030000',
      baseFresh: '0x00030000',
      evaluated: '0x30000',
      consistent: 'false',
      differs: 'base',
    });
    // The guest's own check sees its store through DS land at the edited base, not at 0x00020000.
    expectGuestFailure(bare, 'the store through DS did not reach the old base 0x00020000');
    // The monitor's virtual GDT follows the guest's edited entry; DS's virtual entry (inconsistent now) holds its
    // edited cache.
    expect(monitorOnly.virtualRow).toContain('base=0x00040000');
    expect(monitorOnly.virtualEntry).toContain('base=0x00030000');
  }, 30000);

  it('a selector edit (the cache kept) and a control register edit: the guest reads the edited selector back', async () => {
    const { bare, monitorOnly } = await bothWays(async (c, seen, monitorOnly) => {
      await stopAtDsLoad(c);
      const ds = named(await scopeVariables(c, 'Segments'), 'DS');
      seen.selectorResponse = await setIn(c, ds, 'selector', '0x10');
      const fresh = named(await scopeVariables(c, 'Segments'), 'DS');
      const kids = await children(c, fresh);
      seen.selectorFresh = fresh.value;
      seen.cacheFresh = named(kids, 'cache').value;
      seen.consistent = named(kids, 'consistent').value;
      seen.cr2Response = await setIn(c, await scopeRef(c, 'Control'), 'CR2', '0x1234');
      seen.cr2Fresh = named(await scopeVariables(c, 'Control'), 'CR2').value;
      if (monitorOnly) monitorOnly.virtualEntry = named(kids, 'virtual entry').value;
    });
    expect(bare.seen).toEqual({
      selectorResponse: '0x0010',
      selectorFresh: '0x0010',
      cacheFresh: expect.stringContaining('base=0x00020000'),
      consistent: 'false',
      cr2Response: '0x00001234',
      cr2Fresh: '0x00001234',
    });
    // Step 5 reloads DS from `mov ax, ds`: with the edited selector that is the flat entry, so its store misses
    // the new base of entry 3 (under the monitor MOV from DS is emulated against the guest's view).
    expectGuestFailure(bare, 'after the reload the store did not reach the new base 0x00030000');
    // DS now holds a cache its selector's entry does not match: the monitor returns by the inconsistent sequence,
    // and a reload of 0x10 traps into it (the slot holds the cache written last, ES's, which shares the selector).
    expect(monitorOnly.virtualEntry).toContain('marked inaccessible');
  }, 30000);
});
