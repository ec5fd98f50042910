// A C kernel under the debugger (issue 15): examples/c-kernel built with Debian's gcc -m32 at -O0 and -O2, driven
// through the DAP client as a user would: function breakpoints after the prologue, Locals/Arguments/Globals with
// C values, the call stack through CFI, C expressions beside Ringside's own names, setVariable, stepping by line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findSection, parseElf } from '../../engine/machine/loaders/elf-file';
import { readDwarf } from '../../engine/machine/loaders/dwarf';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, children, launchStopped, named, scopeVariables, startClient } from './dap-client';
import { buildKernel, evaluate, frames, hasGcc, KERNEL_SOURCE, lineOf, scopeNames, scopeOf, stepAndWait } from './c-kernel-helpers';

let dc: DebugClient;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
});

async function launchAt(elf: string, breakpoints: DebugProtocol.FunctionBreakpoint[], extra: Record<string, unknown> = {}): Promise<DebugProtocol.StoppedEvent> {
  dc = await startClient();
  await launchStopped(dc, { program: elf, ...extra }, async () => {
    const r = await dc.setFunctionBreakpointsRequest({ breakpoints });
    expect(r.body.breakpoints.every((b) => b.verified)).toBe(true);
  });
  return stepAndWait(dc, 'continue');
}

describe.skipIf(!hasGcc()).each(['-O0', '-O2'] as const)('C kernel at %s', (opt) => {
  it('stops in gdt_set after its prologue with C scopes, arguments, locals, globals and the callers by name', async () => {
    const elf = buildKernel(opt);
    const stop = await launchAt(elf, [{ name: 'gdt_set', condition: 'n == 3' }]);
    expect(stop.body.reason).toBe('function breakpoint');
    const st = await frames(dc);
    expect(st.map((f) => f.name).slice(0, 2)).toEqual(['gdt_set', 'kmain']);
    // After the prologue: on a statement of the body, not on the line that declares the function.
    expect(st[0].line).toBeGreaterThan(lineOf('void gdt_set(int n'));
    expect(st[0].line).toBeLessThanOrEqual(lineOf('last_kind = n == 1'));
    expect(st[0].source?.name).toBe('kernel.c');
    expect(st[1].line).toBe(lineOf('gdt_set(3, (u32)scratch'));
    expect(await scopeNames(dc)).toEqual(['Locals', 'Arguments', 'Globals', 'Registers', 'Segments', 'Descriptor Tables', 'Control', 'FPU', 'Devices', 'Monitor']);

    const args = await scopeOf(dc, 'Arguments');
    expect(args.map((a) => a.name)).toEqual(['n', 'base', 'limit', 'access', 'flags']);
    expect(named(args, 'n')).toMatchObject({ value: '3', type: 'int' });
    expect(named(args, 'limit').value).toBe('63');
    expect(named(args, 'access')).toMatchObject({ value: "146 '\\222'", type: 'u8' });
    expect(named(args, 'flags').value).toBe("4 '\\004'");
    const scratch = Number((await evaluate(dc, '(u32)scratch')).result);
    expect(named(args, 'base').value).toBe(String(scratch));
    expect(scratch).toBeGreaterThan(0x100000);
    expect((await scopeOf(dc, 'Locals')).map((l) => l.name)).toEqual(['e', 'low']);

    const globals = await scopeOf(dc, 'Globals');
    expect(named(globals, 'ratio')).toMatchObject({ value: '1.5', type: 'float' });
    expect(named(globals, 'precise')).toMatchObject({ value: '-2.25', type: 'double' });
    expect(named(globals, 'greeting').value).toMatch(/^0x[0-9a-f]{8} "ring 0 in C"$/);
    expect(named(globals, 'magic').value).toBe('{word = 287454020, bytes = "D3\\"\\021"}');
    expect(named(globals, 'last_kind')).toMatchObject({ value: 'SEG_DATA', type: 'enum seg_kind' });
    expect(named(globals, 'ready').value).toBe('false');
    const gdt = named(globals, 'gdt');
    expect(gdt.type).toBe('struct gdt_entry [5]');
    expect(gdt.memoryReference).toBe('0x' + Number((await evaluate(dc, '(u32)&gdt')).result).toString(16).padStart(8, '0'));
    const entries = await children(dc, gdt);
    expect(entries.map((e) => e.name)).toEqual(['[0]', '[1]', '[2]', '[3]', '[4]']);
    const code = await children(dc, named(entries, '[1]'));
    expect(code.map((m) => `${m.name}=${m.value}`)).toEqual([
      'limit_low=65535', 'base_low=0', "base_mid=0 '\\0'", "access=154 '\\232'", "limit_high=15 '\\017'", "flags=12 '\\f'", "base_high=0 '\\0'",
    ]);
    // Every unit's globals stay reachable.
    const all = named(globals, '[all compile units]');
    const units = await children(dc, all);
    expect(units.map((u) => u.name)).toEqual(['kernel.c']);
    expect((await children(dc, units[0])).map((v) => v.name)).toContain('gdt');
  });

  it('evaluates C expressions mixed with Ringside names, and $ reaches the CPU where the program has the name', async () => {
    const elf = buildKernel(opt);
    await launchAt(elf, [{ name: 'gdt_set', condition: 'n == 3' }]);
    expect((await evaluate(dc, 'gdt[1].access')).result).toBe("154 '\\232'");
    expect((await evaluate(dc, 'gdt[1].access == 0x9a && gdt[2].flags == 12')).result).toBe('true');
    const e = await evaluate(dc, 'e');
    expect(e.type).toBe('struct gdt_entry *');
    expect((await evaluate(dc, '&gdt[n]')).result).toBe((await evaluate(dc, '&gdt[3]')).result);
    expect((await evaluate(dc, '&gdt[n]')).variablesReference).toBeGreaterThan(0);
    expect((await evaluate(dc, 'e->limit_low')).result).toBe((await evaluate(dc, '(*e).limit_low')).result);
    expect((await evaluate(dc, '(e + 1) - e')).result).toBe('0x1');
    expect(Number((await evaluate(dc, '(u32)(e + 1) - (u32)e')).result)).toBe(8);
    expect(Number((await evaluate(dc, 'sizeof(struct gdt_entry)')).result)).toBe(8);
    expect(Number((await evaluate(dc, 'sizeof gdt')).result)).toBe(40);
    expect(Number((await evaluate(dc, 'sizeof(struct table_ptr)')).result)).toBe(6);
    expect((await evaluate(dc, '(u8)0x1ff')).result).toBe("255 '\\377'");
    expect((await evaluate(dc, '(struct gdt_entry *)&gdt[1]')).type).toBe('struct gdt_entry *');
    expect((await evaluate(dc, '((struct gdt_entry *)&gdt[1])->access')).result).toBe("154 '\\232'");
    expect((await evaluate(dc, 'last_kind == SEG_DATA')).result).toBe('true');
    expect((await evaluate(dc, 'magic.bytes[0]')).result).toBe("68 'D'");
    expect((await evaluate(dc, 'greeting[5]')).result).toBe("48 '0'");
    // The program's gdt wins; $gdt is the CPU's table, $ works for registers too.
    expect((await evaluate(dc, 'gdt')).type).toBe('struct gdt_entry [5]');
    expect((await evaluate(dc, '$gdt')).result).toMatch(/^GDT base=/);
    expect((await evaluate(dc, '$eip')).result).toBe((await evaluate(dc, 'eip')).result);
    expect(Number((await evaluate(dc, 'n * 2 + ds.base')).result)).toBe(6);
    await expect(dc.evaluateRequest({ expression: 'nosuchthing', context: 'watch' })).rejects.toThrow(/nosuchthing/);
    await expect(dc.evaluateRequest({ expression: '*n', context: 'watch' })).rejects.toThrow(/not a pointer/);
  });

  it('steps out of gdt_set and sees gdt[3].base_low change; setVariable writes memory and bitfields', async () => {
    const elf = buildKernel(opt);
    await launchAt(elf, [{ name: 'gdt_set', condition: 'n == 3' }]);
    const scratch = Number((await evaluate(dc, '(u32)scratch')).result);
    expect((await evaluate(dc, 'gdt[3].base_low')).result).toBe('0');
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    await stepAndWait(dc, 'stepOut');
    expect((await frames(dc))[0].name).toBe('kmain');
    expect((await evaluate(dc, 'gdt[3].base_low')).result).toBe(String(scratch & 0xffff));
    expect((await evaluate(dc, 'gdt[3].limit_low')).result).toBe('63');

    // A bitfield: flags (4 bits) changes, its neighbour limit_high (the low 4 bits of the same byte) does not.
    const g = named(await scopeOf(dc, 'Globals'), 'gdt');
    const e3 = named(await children(dc, g), '[3]');
    const r = await dc.setVariableRequest({ variablesReference: e3.variablesReference, name: 'flags', value: '9' });
    expect(r.body.value).toBe("9 '\\t'");
    expect((await evaluate(dc, 'gdt[3].flags')).result).toBe("9 '\\t'");
    expect((await evaluate(dc, 'gdt[3].limit_high')).result).toBe("0 '\\0'");
    expect((await evaluate(dc, 'byte [(u32)&gdt[3] + 6]')).result).toBe('0x90');
    await dc.setVariableRequest({ variablesReference: e3.variablesReference, name: 'limit_high', value: '5' });
    expect((await evaluate(dc, 'byte [(u32)&gdt[3] + 6]')).result).toBe('0x95');
    // An enum by name, a float from its text.
    const globals = await scopeOf(dc, 'Globals');
    const scope = (await dc.scopesRequest({ frameId: (await frames(dc))[0].id })).body.scopes.find((s) => s.name === 'Globals')!;
    expect((await dc.setVariableRequest({ variablesReference: scope.variablesReference, name: 'last_kind', value: 'SEG_CODE' })).body.value).toBe('SEG_CODE');
    expect((await dc.setVariableRequest({ variablesReference: scope.variablesReference, name: 'ratio', value: '-0.75' })).body.value).toBe('-0.75');
    expect(named(globals, 'ratio').value).toBe('1.5');
    expect((await evaluate(dc, 'ratio')).result).toBe('-0.75');
  });

  it('shows the recursion of walk frame by frame, each frame with its own arguments', async () => {
    const elf = buildKernel(opt);
    await launchAt(elf, [{ name: 'walk', condition: 'n == 0' }]);
    const st = await frames(dc);
    expect(st.map((f) => f.name).slice(0, 5)).toEqual(['walk', 'walk', 'walk', 'walk', 'kmain']);
    for (let k = 0; k < 4; k++) {
      const sc = await dc.scopesRequest({ frameId: st[k].id });
      const argsRef = sc.body.scopes.find((s) => s.name === 'Arguments')!.variablesReference;
      const args = (await dc.variablesRequest({ variablesReference: argsRef })).body.variables;
      expect(named(args, 'n').value).toBe(String(k));
      // The callers have marked their level; the innermost frame stopped before its first statement.
      if (k > 0) expect((await evaluate(dc, 'mark[0]', st[k].id)).result).toBe(`${48 + k} '${k}'`);
    }
    expect(st[1].line).toBe(lineOf('int below = walk(n - 1);'));
    expect(st[4].line).toBe(lineOf('ready = walk(3) == 6;'));
  });

  it('stops in the C interrupt handler with the interrupted kmain below an interrupt frame', async () => {
    const elf = buildKernel(opt);
    await launchAt(elf, [{ name: 'on_soft_int' }]);
    const st = await frames(dc);
    expect(st[0].name).toBe('on_soft_int');
    expect(st[1].name).toMatch(/^\[interrupt at 0008:/);
    expect(st[2].name).toBe('kmain');
    expect(st[2].line).toBe(lineOf('__asm__ volatile("int $0x30")'));
    expect((await evaluate(dc, 'ticks')).result).toBe('0');
    await stepAndWait(dc, 'stepOut');
    expect((await frames(dc))[0].name).toBe('kmain');
    expect((await evaluate(dc, 'ticks')).result).toBe('1');
  });

  it('steps by C line over and into calls, with source breakpoints and logpoints in kernel.c', async () => {
    const elf = buildKernel(opt);
    dc = await startClient();
    const at = lineOf('gdt_set(2, 0, 0xfffff');
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    await launchStopped(dc, { program: elf }, async () => {
      const r = await dc.setBreakpointsRequest({
        source: { path: KERNEL_SOURCE },
        breakpoints: [{ line: at }, { line: lineOf('e->base_low = low;'), logMessage: 'entry {n} base_low {low}' }],
      });
      expect(r.body.breakpoints[0]).toMatchObject({ verified: true, line: at });
    });
    await stepAndWait(dc, 'continue');
    expect((await frames(dc))[0]).toMatchObject({ name: 'kmain', line: at });
    await stepAndWait(dc, 'next');
    let top = (await frames(dc))[0];
    expect(top).toMatchObject({ name: 'kmain', line: lineOf('gdt_set(3, (u32)scratch') });
    expect(out.join('')).toContain('entry 2 base_low 0');
    await stepAndWait(dc, 'stepIn');
    top = (await frames(dc))[0];
    expect(top.name).toBe('gdt_set');
    // Stepping in stops after the prologue, where the arguments are in place.
    expect(top.line).toBeGreaterThan(lineOf('void gdt_set(int n'));
    expect(named(await scopeOf(dc, 'Arguments'), 'n').value).toBe('3');
    await stepAndWait(dc, 'stepOut');
    top = (await frames(dc))[0];
    expect(top.name).toBe('kmain');
    // The Disassembly view: instructions carry their kernel.c lines.
    const dis = await dc.disassembleRequest({ memoryReference: top.instructionPointerReference!, instructionOffset: -8, instructionCount: 16 });
    expect(dis.body!.instructions.some((i) => i.location?.name === 'kernel.c' && typeof i.line === 'number')).toBe(true);
  });
});

describe.skipIf(!hasGcc())('C kernel beside the segment views', () => {
  it('catches the DS reload to the scratch segment and shows gdt[3] in C beside DS in Segments, under the monitor', async () => {
    const elf = buildKernel('-O0');
    dc = await startClient();
    await launchStopped(dc, { program: elf, monitor: true });
    await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'segment-load', condition: 'reg == DS && selector == 0x18' }] });
    await stepAndWait(dc, 'continue');
    const st = await frames(dc);
    expect(st[0].name).toBe('scratch_write');
    expect(st[1].name).toBe('kmain');
    const ds = named(await scopeVariables(dc, 'Segments'), 'DS');
    expect(ds.value).toBe('0x0018');
    const base = Number((await evaluate(dc, 'gdt[3].base_low | gdt[3].base_mid << 16 | gdt[3].base_high << 24')).result);
    expect(base).toBe(Number((await evaluate(dc, '(u32)scratch')).result));
    expect(Number((await evaluate(dc, '$ds.base')).result)).toBe(base);
    // setVariable under the monitor goes through the guest's view.
    const args = (await dc.scopesRequest({ frameId: st[0].id })).body.scopes.find((s) => s.name === 'Arguments')!;
    const r = await dc.setVariableRequest({ variablesReference: args.variablesReference, name: 'value', value: '0x1234' });
    expect(r.body.value).toBe(String(0x1234));
    expect((await evaluate(dc, 'value')).result).toBe(String(0x1234));
  });
});

describe.skipIf(!hasGcc())('C kernel: inlined calls and bad debugging information', () => {
  it('shows calls inlined at -O2 as frames of their own, innermost first', async () => {
    const elf = buildKernel('-O2');
    const d = readDwarf(parseElf(readFileSync(elf)), () => undefined);
    const kmain = d.program!.findFunction('kmain')!;
    const puts = kmain.inlined.find((i) => i.name === 'puts_e9' && i.inlined.some((x) => x.name === 'out_byte'))!;
    const out = puts.inlined.find((x) => x.name === 'out_byte')!;
    dc = await startClient();
    await launchStopped(dc, { program: elf }, () => dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: '0x' + out.ranges[0].low.toString(16) }] }));
    await stepAndWait(dc, 'continue');
    const st = await frames(dc);
    expect(st.map((f) => f.name).slice(0, 3)).toEqual(['out_byte', 'puts_e9', 'kmain']);
    expect(st[1].line).toBe(out.callLine);
    expect(st[2].line).toBe(puts.callLine);
    // The inlined frame has its own arguments.
    const sc = await dc.scopesRequest({ frameId: st[0].id });
    const args = (await dc.variablesRequest({ variablesReference: sc.body.scopes.find((s) => s.name === 'Arguments')!.variablesReference })).body.variables;
    expect(args.map((a) => a.name)).toEqual(['port', 'value']);
    expect(named(args, 'port').value).toBe('233');
  });

  it('corrupt DWARF and a missing symbols file are warnings in the Debug Console; the session runs', async () => {
    const bytes = new Uint8Array(readFileSync(buildKernel('-O0')));
    const elfFile = parseElf(bytes);
    const abbrev = findSection(elfFile, '.debug_abbrev')!;
    bytes.fill(0x7f, abbrev.offset + 3, abbrev.offset + 6);
    const line = findSection(elfFile, '.debug_line')!;
    bytes[line.offset + 4] = 9; // DWARF version 9
    const bad = path.join(mkdtempSync(path.join(tmpdir(), 'ringside-bad-dwarf-')), 'bad.elf');
    writeFileSync(bad, bytes);
    dc = await startClient();
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    await launchStopped(dc, { program: bad, symbols: '/nonexistent/kernel.elf' }, async () => {
      const r = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'gdt_set' }] });
      expect(r.body.breakpoints[0].verified).toBe(true); // from the symbol table
    });
    const text = () => out.join('');
    expect(text()).toMatch(/symbols.*\/nonexistent\/kernel\.elf/);
    expect(text()).toMatch(/DWARF version 9.*no source lines/);
    await stepAndWait(dc, 'continue');
    const st = await frames(dc);
    expect(st[0].name).toMatch(/gdt_set/);
    expect(text()).toMatch(/\.debug_info: the unit at 0x0 cannot be read/);
    expect(await scopeNames(dc)).toEqual(['Registers', 'Segments', 'Descriptor Tables', 'Control', 'FPU', 'Devices', 'Monitor']);
    expect((await evaluate(dc, 'eax')).result).toMatch(/^0x/);
  });
});

describe.skipIf(!hasGcc())('C kernel: block-scoped locals', () => {
  it('shows a block\'s locals only while the address is inside the block', async () => {
    const elf = buildKernel('-O0');
    dc = await startClient();
    await launchStopped(dc, { program: elf }, async () => {
      await dc.setBreakpointsRequest({ source: { path: KERNEL_SOURCE }, breakpoints: [{ line: lineOf('ticks = ticks + twice;') }, { line: lineOf('ready = walk(3) == 6;') }] });
    });
    await stepAndWait(dc, 'continue');
    let locals = await scopeOf(dc, 'Locals');
    expect(locals.map((l) => l.name)).toEqual(['twice', 'round']);
    expect(named(locals, 'round').value).toBe('0');
    await stepAndWait(dc, 'continue');
    locals = await scopeOf(dc, 'Locals');
    expect(named(locals, 'round').value).toBe('1');
    expect(named(locals, 'twice').value).toBe('2');
    await stepAndWait(dc, 'continue');
    expect((await frames(dc))[0].line).toBe(lineOf('ready = walk(3) == 6;'));
    expect((await scopeOf(dc, 'Locals')).map((l) => l.name)).toEqual([]);
  });
});

describe.skipIf(!hasGcc())('C kernel: DWARF from the "symbols" file', () => {
  it('debugs a flat image of the kernel in C with the ELF given as "symbols"', async () => {
    const elf = buildKernel('-O0');
    const flat = path.join(mkdtempSync(path.join(tmpdir(), 'ringside-flat-kernel-')), 'kernel.bin');
    execFileSync('objcopy', ['-O', 'binary', elf, flat]);
    const start = parseElf(readFileSync(elf)).entry;
    dc = await startClient();
    await launchStopped(dc, { program: flat, format: 'bin', loadAddress: '0x100000', entry: '0x' + start.toString(16), mode: 'protected', symbols: elf }, async () => {
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'gdt_set', condition: 'n == 2' }] });
    });
    await stepAndWait(dc, 'continue');
    expect((await frames(dc)).map((f) => f.name).slice(0, 2)).toEqual(['gdt_set', 'kmain']);
    expect(named(await scopeOf(dc, 'Arguments'), 'access').value).toBe("146 '\\222'");
    expect((await evaluate(dc, 'gdt[1].access')).result).toBe("154 '\\232'");
  });
});
