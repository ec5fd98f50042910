// The adapter as a client drives it: over stdio, through DebugClient, on tiny NASM guests.
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, children, FIXTURES, launchStopped, named, scopeVariables, startClient } from './dap-client';

const BASICS = path.join(FIXTURES, 'basics.bin');
const SPIN = path.join(FIXTURES, 'spin.bin');

let dc: DebugClient;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
});

describe('ringside dap', () => {
  it('advertises the capabilities and the eight exception filters of interfaces.md', async () => {
    dc = await startClient();
    const r = await dc.initializeRequest({ adapterID: 'ringside', pathFormat: 'path' });
    const c = r.body!;
    expect(c.exceptionBreakpointFilters!.map((f) => f.filter)).toEqual([
      'segment-load', 'cache-inconsistent', 'cache-consistent', 'descriptor-write', 'monitor-trap', 'sbe-change', 'cpu-exception', 'triple-fault',
    ]);
    expect(c.exceptionBreakpointFilters!.every((f) => f.supportsCondition && f.label && f.conditionDescription)).toBe(true);
    for (const k of ['supportsInstructionBreakpoints', 'supportsDisassembleRequest', 'supportsReadMemoryRequest', 'supportsDataBreakpoints', 'supportsDataBreakpointBytes', 'supportsSteppingGranularity', 'supportsLogPoints', 'supportsExceptionInfoRequest'] as const) {
      expect(c[k], k).toBe(true);
    }
  });

  it('rejects a bad launch attribute by name before anything runs', async () => {
    dc = await startClient();
    await dc.initializeRequest({ adapterID: 'ringside', pathFormat: 'path' });
    await expect(dc.launch({ program: BASICS, memoryMB: 'lots' })).rejects.toThrow(/memoryMB/);
    dc = await startClient();
    await dc.initializeRequest({ adapterID: 'ringside', pathFormat: 'path' });
    await expect(dc.launch({ program: BASICS, stopOnEntri: true })).rejects.toThrow(/stopOnEntri.*stopOnEntry/);
    dc = await startClient();
    await dc.initializeRequest({ adapterID: 'ringside', pathFormat: 'path' });
    await expect(dc.launch({ program: path.join(FIXTURES, 'missing.bin') })).rejects.toThrow(/no such file/);
  });

  it('stops on entry, stops on the DS load by filter condition, shows it, steps and ends with the exit code', async () => {
    dc = await startClient();
    const entry = await launchStopped(dc, { program: BASICS });
    expect(entry.body.reason).toBe('entry');
    const regs = await scopeVariables(dc, 'Registers');
    expect(named(regs, 'EIP').value).toBe('0x00007c00');

    const f = await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'segment-load', condition: 'reg == DS' }] });
    expect(f.body?.breakpoints?.[0].verified).toBe(true);
    const stop = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    const s = await stop;
    expect(s.body.reason).toBe('exception');
    expect(s.body.description).toBe('segment-load');
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    expect(info.body.exceptionId).toBe('segment-load');
    expect(info.body.description).toContain('DS loaded: 0x0000 -> 0x2000');

    const segs = await scopeVariables(dc, 'Segments');
    expect(segs.map((v) => v.name)).toEqual(['CS', 'SS', 'DS', 'ES', 'FS', 'GS', 'LDTR', 'TR']);
    const ds = named(segs, 'DS');
    expect(ds.value).toBe('0x2000');
    const dsKids = await children(dc, ds);
    expect(dsKids.map((v) => v.name).slice(0, 8)).toEqual(['selector', 'index', 'ti', 'rpl', 'cache', 'table entry', 'consistent', 'differs']);
    const cache = await children(dc, named(dsKids, 'cache'));
    expect(named(cache, 'base').value).toBe('0x00020000');
    expect(named(cache, 'limit').value).toBe('0x0000ffff');

    // Stopped after `mov ds, bx`: the next instruction is the CALL at 0x7C08; step over it.
    expect(named(await scopeVariables(dc, 'Registers'), 'EIP').value).toBe('0x00007c08');
    // A flat binary has no source lines: the frame's source is a disassembly listing with the instructions before.
    const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    expect(frame.instructionPointerReference).toBe('0x00007c08');
    const listing = (await dc.sourceRequest({ sourceReference: frame.source!.sourceReference!, source: frame.source })).body.content.split('\n');
    expect(listing[frame.line - 1]).toMatch(/^00007c08 +e8 0b 00 +call 0x7c16$/);
    expect(listing.slice(0, frame.line - 1).join('\n')).toMatch(/00007c00 +b8 34 12 +mov ax, 0x1234\n00007c03 .*\n00007c06 +8e db +mov ds, bx$/);
    const out = dc.waitForEvent('output');
    const stepped = dc.waitForEvent('stopped');
    await dc.nextRequest({ threadId: 1, granularity: 'instruction' });
    await stepped;
    expect(named(await scopeVariables(dc, 'Registers'), 'EIP').value).toBe('0x00007c0b');
    // Stepping within the image keeps the same listing document; only the line moves.
    const after = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    expect(after.source?.sourceReference).toBe(frame.source?.sourceReference);
    expect(after.line).toBeGreaterThan(frame.line);
    expect((await out).body.output).toMatch(/hi/);

    const dis = await dc.disassembleRequest({ memoryReference: '0x7c00', instructionCount: 4 });
    expect(dis.body!.instructions.map((i) => i.instruction)).toEqual(['mov ax, 0x1234', 'mov bx, 0x2000', 'mov ds, bx', 'call 0x7c16']);
    // The Disassembly view asks for instructions before an address too.
    const around = await dc.disassembleRequest({ memoryReference: '0x7c08', instructionOffset: -3, instructionCount: 5 });
    expect(around.body!.instructions.map((i) => [i.address, i.instruction])).toEqual([
      ['0x00007c00', 'mov ax, 0x1234'], ['0x00007c03', 'mov bx, 0x2000'], ['0x00007c06', 'mov ds, bx'], ['0x00007c08', 'call 0x7c16'], ['0x00007c0b', 'mov es, bx'],
    ]);
    const mem = await dc.customRequest('readMemory', { memoryReference: '0x7c00', count: 3 });
    expect(Buffer.from(mem.body.data, 'base64').toString('hex')).toBe('b83412');
    const ev = await dc.evaluateRequest({ expression: 'ds.base + ax', context: 'repl' });
    expect(ev.body.result).toBe('0x2120a'); // AX = 0x120A after greet's last MOV AL, 10

    const exited = dc.waitForEvent('exited');
    const terminated = dc.waitForEvent('terminated');
    await dc.setExceptionBreakpointsRequest({ filters: [] });
    await dc.continueRequest({ threadId: 1 });
    expect((await exited).body.exitCode).toBe(0);
    await terminated;
  });

  it('takes relative paths from the client\'s cwd and accepts the attributes clients add', async () => {
    dc = await startClient();
    const entry = await launchStopped(dc, { program: 'basics.bin', cwd: FIXTURES, type: 'ringside', request: 'launch', name: 'x', __sessionId: 'abc', noDebug: false });
    expect(entry.body.reason).toBe('entry');
    const mods = (await dc.customRequest('modules', {})).body;
    expect(mods.modules[0].path).toBe(BASICS);
  });

  it('runs under the monitor by default and says so once', async () => {
    dc = await startClient();
    const said = dc.waitForEvent('output') as Promise<DebugProtocol.OutputEvent>;
    await launchStopped(dc, { program: BASICS, monitor: undefined });
    const first = await said;
    expect(first.body.category).toBe('console');
    expect(first.body.output).toContain('monitor: on, SBE auto');
    const monitor = await scopeVariables(dc, 'Monitor');
    expect(named(monitor, 'on').value).toBe('true');
    // Real mode runs emulated: there is no virtual GDT yet.
    expect(named(monitor, 'state').value).toMatch(/^emulated/);
    expect(named(await scopeVariables(dc, 'Descriptor Tables'), 'Virtual GDT').value).toMatch(/not in use/);
  });

  it('sends COM1 to the terminal as ringside/serial events and takes keys through ringside/serialInput', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: path.join(FIXTURES, 'serial.bin'), serial: 'terminal' });
    const text = dc.waitForEvent('ringside/serial');
    await dc.continueRequest({ threadId: 1 });
    expect((await text).body.data).toBe('com1');
    const echo = dc.waitForEvent('ringside/serial');
    const exited = dc.waitForEvent('exited');
    await dc.customRequest('ringside/serialInput', { data: 'k' });
    expect((await echo).body.data).toBe('k');
    expect((await exited).body.exitCode).toBe(0);
  });

  it('bounds ringside/serialInput: past 64 KiB waiting it says how many bytes it took; characters above 0xFF are refused', async () => {
    dc = await startClient();
    // The guest is stopped: nothing leaves the queue.
    await launchStopped(dc, { program: path.join(FIXTURES, 'serial.bin'), serial: 'terminal' });
    const refused = (data: string) => dc.customRequest('ringside/serialInput', { data }).then(() => 'accepted', (e: Error) => e.message);
    expect(await refused('\u20ac')).toMatch(/character 1 of the input \(U\+20AC\) is not a byte/);
    expect(await refused('a'.repeat(60000))).toBe('accepted');
    expect(await refused('b'.repeat(10000))).toMatch(/accepted 5536 of 10000 bytes .*at most 65536 bytes wait .* 60000 were waiting/);
    expect(await refused('c')).toMatch(/accepted 0 of 1 bytes/);
    // The guest reads what was accepted (this one echoes its first byte and exits).
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    expect((await exited).body.exitCode).toBe(0);
  });

  it('traces the launch\'s events as Debug Console lines and ringside/event events', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: BASICS, trace: ['segment-load'] });
    const event = dc.waitForEvent('ringside/event');
    const line = new Promise<string>((resolve) => dc.on('output', (e: DebugProtocol.OutputEvent) => e.body.output.startsWith('segment-load') && resolve(e.body.output)));
    await dc.continueRequest({ threadId: 1 });
    const body = (await event).body;
    expect(body.kind).toBe('segment-load');
    expect(body.summary).toMatch(/^segment-load DS 0x0000 -> 0x2000/);
    expect(body.detail.newSelector).toBe(0x2000);
    expect(await line).toMatch(/^segment-load DS 0x0000 -> 0x2000 .* cause=mov at 0000:00007c06/);
  });

  it('sends its own log as ringside/log events at the level RINGSIDE_LOG_LEVEL names', async () => {
    dc = await startClient({ RINGSIDE_LOG_LEVEL: 'info' });
    const logs: { level: string; message: string }[] = [];
    dc.on('ringside/log', (e: DebugProtocol.Event) => logs.push(e.body));
    await launchStopped(dc, { program: BASICS });
    expect(logs.some((l) => l.level === 'info' && /^launched .*basics\.bin as bin \(.* at 0x7c00\)/.test(l.message))).toBe(true);
    expect(logs.some((l) => l.message.startsWith('stopped: entry'))).toBe(true);
    expect(logs.every((l) => l.level !== 'debug')).toBe(true);
  });

  it('stops for the triple-fault filter with the CPU state, then ends with exit code 3', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: path.join(FIXTURES, 'triple.bin') });
    await dc.setExceptionBreakpointsRequest({ filters: ['triple-fault'] });
    const stop = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    expect((await stop).body.description).toBe('triple-fault');
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    expect(info.body.details?.message).toContain('exception 13 while delivering a double fault');
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    expect((await exited).body.exitCode).toBe(3);
  });

  it('pauses a guest that runs flat out within 50 ms, and terminates it', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: SPIN });
    // The median of five pauses, so that one scheduling hiccup of a loaded test machine does not decide it.
    const latencies: number[] = [];
    for (let k = 0; k < 5; k++) {
      await dc.continueRequest({ threadId: 1 });
      await new Promise((r) => setTimeout(r, 60));
      const stop = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
      const t0 = Date.now();
      await dc.pauseRequest({ threadId: 1 });
      const s = await stop;
      latencies.push(Date.now() - t0);
      expect(s.body.reason).toBe('pause');
    }
    latencies.sort((a, b) => a - b);
    expect(latencies[2]).toBeLessThan(50);
    const eax = Number((await dc.evaluateRequest({ expression: 'eax', context: 'watch' })).body.result);
    expect(eax).toBeGreaterThan(1000);
    const terminated = dc.waitForEvent('terminated');
    await dc.terminateRequest();
    await terminated;
  });
});
