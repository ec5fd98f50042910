// Debug Console commands beside expressions: `info gdt|ldt|idt|caches|registers|tss`, `x/NFU ADDR` (examine
// memory, after gdb) and `help`. Anything else is evaluated as an expression (expression/).

import type { Cpu } from '../engine/cpu/cpu';
import { inspectIvt, inspectSegment, inspectTable, SEGMENT_ORDER, tableBounds, type TableName } from '../engine/cpu/inspect';
import { inspectTss } from '../engine/cpu/inspect-tss';
import { describeDescriptor } from './expression/cpu-values';
import { evaluateExpression, formatValue, toNumber, type EvalContext } from './expression/evaluate';
import { flagsText } from './scopes/registers';
import { readLinearBytes } from './code-reader';

export const HELP = `Ringside Debug Console
  EXPRESSION          registers (eax, ax, al, eip, eflags, zf …), segment fields (ds.base, cs.selector, ss.dpl),
                      control registers (cr0, cpl, mode), tables (gdt[2], gdt[2].base, idt[13].offset),
                      x87 (st0 … st7, st1.raw, fpu.cw, fpu.sw, fpu.tw, fpu.top, fpu.fip),
                      memory: [ds:esi] (through DS's cache), dword [0x1000] (linear), byte/word/dword [seg:off],
                      1234:0010 style real-mode addresses, operators + - * / % & | ^ << >> == != < <= > >= && || ! ~
  info gdt | ldt | idt   decoded descriptor table entries
  info caches            every segment register: selector, hidden cache, table entry, consistency
  info registers         general registers and EFLAGS
  info tss               the task-state segment TR names
  x/NFU ADDR             examine memory: N units, format x (hex) d (decimal) u (unsigned) c (char),
                         unit b (byte) h (word) w (dword); ADDR is any expression (linear) or seg:offset
  help                   this text`;

const hex8 = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');
const hex4 = (v: number): string => '0x' + (v & 0xffff).toString(16).padStart(4, '0');

export class ConsoleCommandError extends Error {}

/** A command rather than an expression: `help`, `?`, `info …`, `x …`, `x/…`. */
export function isConsoleCommand(line: string): boolean {
  return /^\s*(help|\?|info(\s|$)|x(\/|\s))/.test(line);
}

/** Runs a console line; returns its text. Throws for problems (the caller answers with an error). */
export function runConsoleLine(line: string, cpu: Cpu, ctx: EvalContext): string {
  const text = line.trim();
  if (text === 'help' || text === '?') return HELP;
  const info = /^info\s+(\w+)$/.exec(text);
  if (info) return infoCommand(info[1].toLowerCase(), cpu);
  const x = /^x(?:\/(\d*)([xduc]?)([bhw]?))?\s+(.+)$/.exec(text);
  if (x) return examine(x, cpu, ctx);
  return formatValue(evaluateExpression(text, ctx));
}

function infoCommand(what: string, cpu: Cpu): string {
  switch (what) {
    case 'gdt':
    case 'ldt':
    case 'idt': {
      const table = what.toUpperCase() as TableName;
      const b = tableBounds(cpu, table);
      if (!b) return `${table}: none (LDTR is unusable)`;
      if (table === 'IDT' && cpu.mode === 'real') {
        return [`IVT base=${hex8(b.base)} limit=${hex4(b.limit)}`, ...inspectIvt(cpu).map((v) => `  [${v.vector}] ${hex4(v.segment)}:${hex4(v.offset)}`)].join('\n');
      }
      const entries = inspectTable(cpu, table, 0, 1024);
      return [`${table} base=${hex8(b.base)} limit=${hex4(b.limit)}`, ...entries.map((d) => '  ' + describeDescriptor(table, d))].join('\n');
    }
    case 'caches':
    case 'segments':
      return SEGMENT_ORDER.map((reg) => {
        const s = inspectSegment(cpu, reg);
        const c = s.cache;
        const cache = c.usable ? `base=${hex8(c.base)} limit=${hex8(c.limit)} ${c.description} dpl=${c.dpl}${c.db ? ' db' : ''}${c.g ? ' g' : ''}` : 'unusable';
        const entry = s.tableEntry ? describeDescriptor(s.ti ? 'LDT' : 'GDT', s.tableEntry) : 'no table entry';
        const state = s.consistent ? 'consistent' : `INCONSISTENT (${s.differs.join(', ')})`;
        return `${s.name.padEnd(4)} ${hex4(s.selector)} cache: ${cache}\n       entry: ${entry}\n       ${state}${s.unreal ? ', unreal' : ''}`;
      }).join('\n');
    case 'registers':
    case 'regs': {
      const names = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
      return [...names.map((n, k) => `${n} ${hex8(cpu.regs[k])}`), `eip ${hex8(cpu.eip)}`, `eflags ${flagsText(cpu.getEflags())}`].join('\n');
    }
    case 'tss': {
      const t = inspectTss(cpu);
      if (!t) return 'TR holds no task';
      return [`${t.width}-bit TSS${t.busy ? ' (busy)' : ''} base=${hex8(t.base)} limit=${hex8(t.limit)}`, ...t.fields.map((f) => `  ${f.name} ${f.size === 4 ? hex8(f.value) : hex4(f.value)}`)].join('\n');
    }
  }
  throw new ConsoleCommandError(`unknown "info ${what}"; try info gdt, ldt, idt, caches, registers or tss`);
}

function examine(m: RegExpExecArray, cpu: Cpu, ctx: EvalContext): string {
  const count = m[1] ? Number(m[1]) : 16;
  if (count < 1 || count > 4096) throw new ConsoleCommandError('x: the count must be from 1 to 4096');
  const format = m[2] || 'x';
  const unit = m[3] === 'h' ? 2 : m[3] === 'w' ? 4 : 1;
  const addrText = m[4].trim();
  const seg = /^([^:\[\]]+):([^:\[\]]+)$/.exec(addrText);
  const linear = seg
    ? ctx.segmentedAddress(evaluateExpression(seg[1], ctx), toNumber(evaluateExpression(seg[2], ctx)) >>> 0)
    : toNumber(evaluateExpression(addrText, ctx), 'address') >>> 0;
  const perLine = unit === 1 ? 16 : unit === 2 ? 8 : 4;
  const lines: string[] = [];
  for (let k = 0; k < count; k += perLine) {
    const n = Math.min(perLine, count - k);
    const start = (linear + k * unit) >>> 0;
    const bytes = readLinearBytes(cpu, start, n * unit);
    const items: string[] = [];
    for (let j = 0; j < n; j++) {
      const part = bytes.slice(j * unit, j * unit + unit);
      if (part.some((b) => b === null)) {
        items.push('??');
        continue;
      }
      const v = part.reduceRight((acc: number, b) => acc * 256 + (b as number), 0);
      items.push(formatUnit(v, unit, format));
    }
    lines.push(`${hex8(start)}: ${items.join(' ')}`);
  }
  return lines.join('\n');
}

function formatUnit(v: number, unit: number, format: string): string {
  switch (format) {
    case 'd':
      return String(unit === 4 ? v | 0 : unit === 2 ? (v << 16) >> 16 : (v << 24) >> 24);
    case 'u':
      return String(v);
    case 'c':
      return v >= 0x20 && v < 0x7f ? `'${String.fromCharCode(v)}'` : `\\x${v.toString(16).padStart(2, '0')}`;
    default:
      return '0x' + v.toString(16).padStart(unit * 2, '0');
  }
}
