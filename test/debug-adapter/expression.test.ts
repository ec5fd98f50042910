// The expression language of conditions, logpoints, filters and the Debug Console, on a real stopped CPU.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../engine/machine/machine';
import { DS } from '../../engine/cpu/cpu';
import { cpuContext } from '../../debug-adapter/expression/cpu-values';
import { evaluateExpression, formatValue, layeredContext } from '../../debug-adapter/expression/evaluate';
import { ExpressionError, parseExpression } from '../../debug-adapter/expression/parse';
import { runConsoleLine } from '../../debug-adapter/console-commands';
import { parseHitCondition, parseLogMessage, renderLogMessage } from '../../debug-adapter/breakpoints';
import { FIXTURES } from './dap-client';

function machine(): Machine {
  const m = new Machine({ memoryMB: 1 });
  m.load(fs.readFileSync(path.join(FIXTURES, 'basics.bin')));
  m.cpu.regs[0] = 0x12345678; // EAX
  m.cpu.regs[6] = 0x10; // ESI
  m.cpu.setSegmentReal(DS, 0x2000);
  m.mem.load(0x20010, Uint8Array.from([0xef, 0xbe, 0xad, 0xde]));
  return m;
}

describe('expressions', () => {
  const m = machine();
  const ctx = cpuContext(m.cpu);
  const ev = (s: string): string => formatValue(evaluateExpression(s, ctx));

  it('reads registers in every width, flags, segment fields and memory', () => {
    expect(ev('eax')).toBe('0x12345678');
    expect(ev('AX')).toBe('0x5678');
    expect(ev('ah')).toBe('0x56');
    expect(ev('ds.base')).toBe('0x20000');
    expect(ev('ds.selector == 0x2000')).toBe('true');
    expect(ev('[ds:esi]')).toBe('0xdeadbeef');
    expect(ev('byte [ds:esi+3]')).toBe('0xde');
    expect(ev('word [0x20010]')).toBe('0xbeef');
    expect(ev('dword [0x2000:0x10]')).toBe('0xdeadbeef');
    expect(ev('cs.selector')).toBe('0x0');
    expect(ev('mode')).toBe('"real"');
    expect(ev('(eax >> 16) & 0xff')).toBe('0x34');
    expect(ev('-1 < 0 && !zf')).toBe('true');
    expect(ev('1000h + 0b11')).toBe('0x1003');
  });

  it('compares a register name with a segment register (filter conditions)', () => {
    const fields = layeredContext({ reg: 'DS', selector: 0x10, cause: 'pop', vector: 13 }, ctx);
    expect(evaluateExpression('reg == DS', fields)).toBe(true);
    expect(evaluateExpression('reg == ES', fields)).toBe(false);
    expect(evaluateExpression('reg == "DS" && selector == 0x10', fields)).toBe(true);
    expect(evaluateExpression('cause == "pop"', fields)).toBe(true);
    expect(evaluateExpression('cause == "mov"', fields)).toBe(false);
  });

  it('reports mistakes with a reason, never a crash', () => {
    expect(() => parseExpression('eax +')).toThrow(ExpressionError);
    expect(() => parseExpression('(((eax')).toThrow(/expected "\)"/);
    expect(() => parseExpression('('.repeat(5000) + '1' + ')'.repeat(5000))).toThrow(ExpressionError);
    expect(() => evaluateExpression('nosuch', ctx)).toThrow(/not a register/);
    expect(() => evaluateExpression('ds.nosuch', ctx)).toThrow(/no field "nosuch"/);
    expect(() => evaluateExpression('1 / 0', ctx)).toThrow(/division by zero/);
    expect(() => evaluateExpression('dword [0xfffffffe]', ctx)).not.toThrow();
    expect(() => evaluateExpression('gdt[100000]', ctx)).toThrow(/beyond its limit/);
  });

  it('runs console commands', () => {
    expect(runConsoleLine('x/4xb 0x20010', m.cpu, ctx)).toBe('0x00020010: 0xef 0xbe 0xad 0xde');
    expect(runConsoleLine('x/1xw ds:esi', m.cpu, ctx)).toBe('0x00020010: 0xdeadbeef');
    expect(runConsoleLine('info caches', m.cpu, ctx)).toMatch(/^CS +0x0000 cache: base=0x00000000/);
    expect(runConsoleLine('info registers', m.cpu, ctx)).toContain('eax 0x12345678');
    expect(runConsoleLine('info idt', m.cpu, ctx)).toContain('IVT base=0x00000000');
    expect(() => runConsoleLine('info frob', m.cpu, ctx)).toThrow(/unknown "info frob"/);
  });

  it('parses hit counts and logpoint templates', () => {
    expect(parseHitCondition('3')).toEqual({ op: '==', n: 3 });
    expect(parseHitCondition('>= 2')).toEqual({ op: '>=', n: 2 });
    expect(() => parseHitCondition('% 0')).toThrow();
    expect(() => parseHitCondition('often')).toThrow();
    expect(renderLogMessage(parseLogMessage('ax={ax} {{literal}} bad={nosuch}'), ctx)).toBe('ax=0x5678 {literal} bad={error: "nosuch" is not a register, field or table here}');
    expect(() => parseLogMessage('{eax')).toThrow(/not closed/);
  });
});

describe('C syntax in expressions', () => {
  const m = machine();
  const ctx = cpuContext(m.cpu);

  it('parses member arrows, unary * and &, casts and sizeof', () => {
    expect(parseExpression('p->next->a')).toEqual({ kind: 'member', arrow: true, name: 'a', object: { kind: 'member', arrow: true, name: 'next', object: { kind: 'name', name: 'p' } } });
    expect(parseExpression('*&x')).toEqual({ kind: 'unary', op: '*', operand: { kind: 'unary', op: '&', operand: { kind: 'name', name: 'x' } } });
    expect(parseExpression('(struct cpu *)0x1000')).toEqual({ kind: 'cast', type: { base: 'struct cpu', pointers: 1 }, operand: { kind: 'number', value: 0x1000 } });
    expect(parseExpression('(unsigned char)eax')).toMatchObject({ kind: 'cast', type: { base: 'unsigned char', pointers: 0 } });
    expect(parseExpression('sizeof(struct gdt_entry)')).toEqual({ kind: 'sizeof', type: { base: 'struct gdt_entry', pointers: 0 } });
    expect(parseExpression('sizeof gdt[1]')).toMatchObject({ kind: 'sizeof', operand: { kind: 'index' } });
    // A typedef name in parentheses is a cast only when the program says it is a type.
    expect(parseExpression('(u32)x', { isTypeName: (n) => n === 'u32' })).toMatchObject({ kind: 'cast', type: { base: 'u32' } });
    expect(parseExpression('(u32)*x', { isTypeName: () => false })).toMatchObject({ kind: 'binary', op: '*' });
    expect(parseExpression('a * b')).toMatchObject({ kind: 'binary', op: '*' });
    expect(parseExpression('a & b')).toMatchObject({ kind: 'binary', op: '&' });
  });

  it('without DWARF the C operators say what they need, and $ names are Ringside names', () => {
    expect(() => evaluateExpression('*eax', ctx)).toThrow(/needs C debugging information/);
    expect(() => evaluateExpression('(int)eax', ctx)).toThrow(/needs C debugging information/);
    expect(() => evaluateExpression('ds->base', ctx)).toThrow(/needs C debugging information/);
    expect(formatValue(evaluateExpression('$eax', ctx))).toBe('0x12345678');
    expect(formatValue(evaluateExpression('$ds.base + 1', ctx))).toBe('0x20001');
  });
});
