// Breakpoints, stepping, data breakpoints, edits and the views of an ELF guest with DWARF lines and symbols.
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, FIXTURES, launchStopped, named, scopeVariables, startClient, stoppedAfter } from './dap-client';

const ELF = path.join(FIXTURES, 'frames.elf');
const ASM = path.join(FIXTURES, 'frames.asm');

let dc: DebugClient;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
});

const until = (go: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> => stoppedAfter(dc, go);
const cont = (): Promise<DebugProtocol.StoppedEvent> => until(() => dc.continueRequest({ threadId: 1 }));
const repl = async (expression: string): Promise<string> => (await dc.evaluateRequest({ expression, context: 'repl' })).body.result;
async function topFrame(): Promise<DebugProtocol.StackFrame> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
}

describe('breakpoints and stepping on an ELF guest', () => {
  it('conditional source breakpoint, logpoint, EBP-chain stack, stepOut, line step, function breakpoint', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: ELF }, async () => {
      // A line without code moves to the next line that has some.
      const moved = await dc.setBreakpointsRequest({ source: { path: ASM }, breakpoints: [{ line: 21 }, { line: 500 }] });
      expect(moved.body.breakpoints.map((b) => [b.verified, b.line])).toEqual([[true, 23], [false, 500]]);
      const bps = await dc.setBreakpointsRequest({
        source: { path: ASM },
        breakpoints: [{ line: 34, condition: 'dword [counter] == 1' }, { line: 26, logMessage: 'outer returned, counter={dword [counter]}' }],
      });
      expect(bps.body.breakpoints.map((b) => [b.verified, b.line])).toEqual([[true, 34], [true, 26]]);
    });
    const logged: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => logged.push(e.body.output));
    const s = await cont();
    expect(s.body.reason).toBe('breakpoint');
    expect(await repl('dword [counter]')).toBe('0x1');
    expect(logged.join('')).toContain('outer returned, counter=0x1');
    const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    expect(frames.slice(0, 3).map((f) => [f.name.split('+')[0], f.line])).toEqual([['inner', 34], ['outer', 26], ['main_loop', 15]]);
    expect(frames[0].source?.path).toBe(ASM);

    await until(() => dc.stepOutRequest({ threadId: 1 }));
    expect((await topFrame()).line).toBe(26);
    await dc.setBreakpointsRequest({ source: { path: ASM }, breakpoints: [] });
    await until(() => dc.nextRequest({ threadId: 1 }));
    expect((await topFrame()).line).toBe(27);

    const fb = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'inner' }, { name: 'nosuch' }] });
    expect(fb.body.breakpoints.map((b) => b.verified)).toEqual([true, false]);
    const f = await cont();
    expect(f.body.reason).toBe('function breakpoint');
    expect((await topFrame()).line).toBe(32);
    expect(await repl('dword [counter]')).toBe('0x2');
  });

  it('steps into a call by line, and ends at maxInstructions with exit code 2', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: ELF, maxInstructions: 40 }, async () => {
      await dc.setBreakpointsRequest({ source: { path: ASM }, breakpoints: [{ line: 14 }] });
    });
    expect((await cont()).body.reason).toBe('breakpoint');
    expect((await topFrame()).line).toBe(14);
    await until(() => dc.stepInRequest({ threadId: 1 }));
    expect((await topFrame()).line).toBe(23);
    await until(() => dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
    expect((await topFrame()).line).toBe(24);
    await dc.setBreakpointsRequest({ source: { path: ASM }, breakpoints: [] });
    const exited = dc.waitForEvent('exited') as Promise<DebugProtocol.ExitedEvent>;
    await dc.continueRequest({ threadId: 1 });
    expect((await exited).body.exitCode).toBe(2);
  });

  it('debugs a flat binary with the ELF it was made from as "symbols"', async () => {
    dc = await startClient();
    const flat = { program: path.join(FIXTURES, 'frames-flat.bin'), format: 'bin', loadAddress: '0x100000', entry: '0x100000', mode: 'protected', symbols: ELF };
    await launchStopped(dc, flat, async () => {
      const bps = await dc.setBreakpointsRequest({ source: { path: ASM }, breakpoints: [{ line: 36 }] });
      expect(bps.body.breakpoints[0].verified).toBe(true);
    });
    expect((await cont()).body.reason).toBe('breakpoint');
    const top = await topFrame();
    expect([top.name.split('+')[0], top.line, top.source?.path]).toEqual(['inner', 36, ASM]);
    expect(await repl('eax')).toBe('0x1');
  });

  it('data breakpoints on memory (write, then read after a restart) and on a register', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: ELF });
    const info = await dc.dataBreakpointInfoRequest({ name: 'counter', asAddress: true, bytes: 4 } as DebugProtocol.DataBreakpointInfoArguments);
    expect(info.body.accessTypes).toEqual(['read', 'write', 'readWrite']);
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    const w = await cont();
    expect(w.body.reason).toBe('data breakpoint');
    expect(w.body.text).toMatch(/write of 4 byte\(s\).*0x0 -> 0x1/);
    expect((await topFrame()).line).toBe(37); // stopped after `mov [counter], eax`

    // Restart keeps the breakpoints the client set; swap the watch for a read watch.
    const entry = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.customRequest('restart', {});
    expect((await entry).body.reason).toBe('entry');
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'read' }] });
    const r = await cont();
    expect(r.body.text).toMatch(/read of 4 byte/);
    expect((await topFrame()).line).toBe(35); // after `mov eax, [counter]`
    await dc.setDataBreakpointsRequest({ breakpoints: [] });

    const regs = await scopeVariables(dc, 'Registers');
    const ebpInfo = await dc.dataBreakpointInfoRequest({ variablesReference: (await dc.scopesRequest({ frameId: 1 })).body.scopes[0].variablesReference, name: 'EBP' });
    expect(ebpInfo.body.dataId).toBe('reg:ebp');
    expect(named(regs, 'EBP').value).toMatch(/^0x/);
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'reg:ebp', accessType: 'write' }] });
    const e = await cont();
    expect(e.body.reason).toBe('data breakpoint');
    expect(e.body.text).toMatch(/EBP changed/);
    expect((await topFrame()).line).toBe(38); // after `pop ebp`
  });

  it('edits registers, flags, caches and memory; serves modules, sources and the segment map', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: ELF });
    const scopes = (await dc.scopesRequest({ frameId: 1 })).body.scopes;
    expect(scopes.map((s) => s.name)).toEqual(['Registers', 'Segments', 'Descriptor Tables', 'Control', 'FPU', 'Devices', 'Monitor']);
    const regsRef = scopes[0].variablesReference;
    const set = await dc.setVariableRequest({ variablesReference: regsRef, name: 'EAX', value: '0x1234' });
    expect(set.body.value).toBe('0x00001234');
    expect(await repl('eax')).toBe('0x1234');
    const regs = (await dc.variablesRequest({ variablesReference: regsRef })).body.variables;
    const flags = named(regs, 'EFLAGS');
    await dc.setVariableRequest({ variablesReference: flags.variablesReference, name: 'CF', value: '1' });
    expect(await repl('cf')).toBe('true');
    await expect(dc.setVariableRequest({ variablesReference: regsRef, name: 'EAX', value: 'banana' })).rejects.toThrow(/not a number/);

    const segs = (await dc.variablesRequest({ variablesReference: scopes[1].variablesReference })).body.variables;
    const es = named(segs, 'ES');
    const esKids = (await dc.variablesRequest({ variablesReference: es.variablesReference })).body.variables;
    await dc.setVariableRequest({ variablesReference: named(esKids, 'cache').variablesReference, name: 'base', value: '0x1000' });
    expect(await repl('es.base')).toBe('0x1000');
    expect(await repl('es.consistent')).toBe('false');

    await dc.customRequest('writeMemory', { memoryReference: await repl('counter'), data: Buffer.from([5, 0, 0, 0]).toString('base64') });
    expect(await repl('dword [counter]')).toBe('0x5');
    expect(await repl('x/4xb counter')).toMatch(/: 0x05 0x00 0x00 0x00$/);

    const mods = (await dc.customRequest('modules', {})).body;
    expect(mods.modules[0].name).toBe('frames.elf');
    expect(mods.modules[0].symbolStatus).toMatch(/symbols/);
    const sources = (await dc.customRequest('loadedSources', {})).body.sources as DebugProtocol.Source[];
    expect(sources.some((s) => s.path?.endsWith('frames.asm'))).toBe(true);
    const map = (await dc.customRequest('ringside/segmentMap', {})).body;
    expect(map.mode).toBe('protected');
    expect(map.registers.map((r: { name: string }) => r.name)).toEqual(['CS', 'SS', 'DS', 'ES', 'FS', 'GS', 'LDTR', 'TR']);
    expect(map.monitor).toBe(false);
    expect(await repl('help')).toContain('info caches');
    // A composite opens into its fields in the Watch pane.
    const watch = await dc.evaluateRequest({ expression: 'ss', context: 'watch' });
    expect(watch.body.result).toMatch(/^SS 0x0010 base=0x00000000 limit=0xffffffff/);
    const ssFields = (await dc.variablesRequest({ variablesReference: watch.body.variablesReference })).body.variables;
    expect(named(ssFields, 'limit').value).toBe('0xffffffff');
    expect(named(ssFields, 'db').evaluateName).toBe('ss.db');
  });
});
