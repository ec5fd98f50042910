// Hover texts: a descriptor literal (`dq`, a `dd` pair, or the `dw`/`db` fields of a GDT entry) decoded field by
// field with what loading it into CS, SS or DS would do; a selector constant decoded into index, TI and RPL, with
// the GDT entry it names when the source defines it.
import type { SegmentFields } from '../../debug-adapter/protocol-types';
import { decodeDescriptor, type DecodedDescriptor } from './descriptor-decode';
import { descriptorSlots, evaluate, findGdtBase, slotForSelector, type DescriptorSlot } from './descriptor-roles';
import { decodeSelector, describeSelector, hex, typeName } from './descriptor-text';
import { checkLoad, type SegmentRole } from './load-check';
import { findSymbol, type NasmDocument, type Statement } from './nasm-document';
import type { Token } from './nasm-lexer';

export interface HoverResult {
  markdown: string;
  line: number;
  start: number;
  end: number;
}

const ROLE_NAMES: Record<SegmentRole, string> = { CS: 'CS (far JMP/CALL)', SS: 'SS', DS: 'DS/ES/FS/GS' };
const SELECTOR_NAME = /sel|seg|(?:^|_)(?:cs|ds|ss|es|fs|gs)(?:$|_)/i;
const SIXTEEN_BIT = /^(?:[abcd]x|[sd]i|[sb]p)$/i;

function flag(v: boolean): string {
  return v ? '1' : '0';
}

export function describeDescriptorMarkdown(d: DecodedDescriptor, title: string, selector?: number): string {
  const f: SegmentFields = d.fields;
  const raw = `0x${d.high.toString(16).padStart(8, '0')}${d.low.toString(16).padStart(8, '0')}`;
  const lines = [`**${title}** \`${raw}\``, ''];
  if (d.gate) {
    lines.push(
      `| field | value |`,
      `| --- | --- |`,
      `| type | ${f.type} = ${typeName(f.s, f.type)} |`,
      `| target selector | \`${hex(d.gate.selector, 4)}\` (${describeSelector(d.gate.selector).replace(/^selector 0x[0-9a-f]+: /, '')}) |`,
      ...(f.type === 5 ? [] : [`| offset | \`${hex(d.gate.offset)}\` |`]),
      ...(f.type === 4 || f.type === 0xc ? [`| parameter count | ${d.gate.paramCount} |`] : []),
      `| DPL | ${f.dpl} |`,
      `| P | ${flag(f.p)} |`,
    );
    return lines.join('\n');
  }
  lines.push(
    `| field | value |`,
    `| --- | --- |`,
    `| base | \`${hex(f.base)}\` |`,
    `| limit | \`${hex(f.limit)}\` (${f.g ? `raw \`${hex(d.rawLimit, 5)}\` × 4 KiB + 0xFFF, G=1` : 'bytes, G=0'}) |`,
    `| type | ${f.type} = ${typeName(f.s, f.type)} |`,
    `| S | ${flag(f.s)} (${f.s ? 'code or data' : 'system'}) |`,
    `| DPL | ${f.dpl} |`,
    `| P | ${flag(f.p)}${f.p ? '' : ' (not present)'} |`,
    `| D/B | ${flag(f.db)} (${f.s && f.type & 8 ? (f.db ? '32-bit code' : '16-bit code') : f.db ? '32-bit stack / 4 GiB expand-down bound' : '16-bit stack / 64 KiB expand-down bound'}) |`,
    `| G | ${flag(f.g)} |`,
    `| AVL | ${flag(f.avl)} |`,
  );
  if (d.l) lines.push(`| L | 1 (64-bit code in IA-32e mode) |`);
  lines.push('', '**If loaded** (at CPL 0 through a selector with RPL 0):');
  for (const role of ['CS', 'SS', 'DS'] as SegmentRole[]) {
    const v = checkLoad(role, f, { selector, rpl: 0, cpl: 0 });
    lines.push(`- into ${ROLE_NAMES[role]}: ${v.ok ? `fine, ${v.reason}` : `**${v.fault}**, ${v.reason}`}`);
  }
  return lines.join('\n');
}

const VECTOR_NAMES: Record<number, string> = {
  0: '#DE', 1: '#DB', 2: 'NMI', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 8: '#DF', 10: '#TS',
  11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC', 18: '#MC', 19: '#XM',
};

/** "GDT entry 2 (selector 0x0010)", "IDT entry 13 (vector 13, #GP)", or the kind of descriptor. */
function slotTitle(doc: NasmDocument, slot: DescriptorSlot, d: DecodedDescriptor): string {
  if (slot.index !== undefined) return `GDT entry ${slot.index} (selector ${hex(slot.index * 8, 4)})`;
  const idt = doc.runs[slot.run].labels.filter((l) => /idt/i.test(l.symbol.name) && l.offset <= slot.offset).pop();
  if (idt && (slot.offset - idt.offset) % 8 === 0) {
    const vector = (slot.offset - idt.offset) / 8;
    return `IDT entry ${vector} (vector ${vector}${VECTOR_NAMES[vector] ? `, ${VECTOR_NAMES[vector]}` : ''})`;
  }
  return d.gate ? 'Gate descriptor' : d.fields.s ? 'Segment descriptor' : 'System descriptor';
}

function tokenAt(statement: Statement, character: number): Token | undefined {
  return statement.tokens.find((t) => character >= t.start && character <= t.end && t.kind !== 'punctuation');
}

/** The descriptor slot whose bytes a token wrote, if the token is part of a descriptor literal. */
function slotOfToken(doc: NasmDocument, token: Token): DescriptorSlot | undefined {
  return descriptorSlots(doc).find((slot) => slot.bytes.some((b) => b.token === token));
}

function selectorMarkdown(doc: NasmDocument, selector: number): string {
  const lines = [`**Selector** \`${hex(selector, 4)}\``, '', describeSelector(selector)];
  const slot = slotForSelector(doc, selector);
  if (slot) {
    const d = decodeDescriptor(slot.low, slot.high);
    const where = slot.labels.length ? `\`${slot.labels[0]}\` (line ${slot.bytes[0].line + 1})` : `line ${slot.bytes[0].line + 1}`;
    lines.push('', `GDT entry ${decodeSelector(selector).index} is ${where}: ${typeName(d.fields.s, d.fields.type)}, base ${hex(d.fields.base)}, limit ${hex(d.fields.limit)}, DPL ${d.fields.dpl}${d.fields.p ? '' : ', not present'}.`);
  } else if (decodeSelector(selector).ti === 0 && findGdtBase(doc) && decodeSelector(selector).index > 0) {
    lines.push('', 'The source defines no GDT entry at this index.');
  }
  return lines.join('\n');
}

/** Whether a number in this statement is used as a selector: `mov ax, N`, `push N`, `jmp N:off`, a *_SEL constant. */
function looksLikeSelectorUse(statement: Statement, token: Token): boolean {
  const m = statement.mnemonic?.text.toLowerCase();
  if (m === 'mov' && statement.operands.length === 2 && statement.operands[0].length === 1 && SIXTEEN_BIT.test(statement.operands[0][0].text)) {
    return statement.operands[1].includes(token);
  }
  if (m === 'push' && statement.operands[0]?.includes(token)) return true;
  if ((m === 'jmp' || m === 'call') && statement.operands.length === 1) {
    const ops = statement.operands[0];
    const colon = ops.findIndex((t) => t.text === ':');
    return colon > 0 && ops.indexOf(token) >= 0 && ops.indexOf(token) < colon;
  }
  const named = statement.label?.kind === 'equ' ? statement.label.name : undefined;
  return named !== undefined && SELECTOR_NAME.test(named);
}

export function hoverAt(doc: NasmDocument, line: number, character: number): HoverResult | undefined {
  const statement = doc.statements[line];
  if (!statement) return undefined;
  const token = tokenAt(statement, character);
  if (!token) return undefined;
  const result = (markdown: string): HoverResult => ({ markdown, line, start: token.start, end: token.end });

  if (token.kind === 'number') {
    const slot = slotOfToken(doc, token);
    if (slot) {
      const d = decodeDescriptor(slot.low, slot.high);
      return result(describeDescriptorMarkdown(d, slotTitle(doc, slot, d), slot.index !== undefined ? slot.index * 8 : undefined));
    }
    if (token.value !== undefined && token.value <= 0xffffn && looksLikeSelectorUse(statement, token)) {
      return result(selectorMarkdown(doc, Number(token.value)));
    }
    return undefined;
  }

  if (token.kind === 'identifier') {
    // A label on a descriptor: decode it.
    const labelled = descriptorSlots(doc).find((s) => s.labels.includes(token.text));
    if (labelled) {
      const d = decodeDescriptor(labelled.low, labelled.high);
      return result(describeDescriptorMarkdown(d, `\`${token.text}\`: ${slotTitle(doc, labelled, d)}`, labelled.index !== undefined ? labelled.index * 8 : undefined));
    }
    // A constant whose name or use says it is a selector.
    const symbol = findSymbol(doc, token.text, statement.scope);
    if (symbol?.value && (SELECTOR_NAME.test(symbol.name) || looksLikeSelectorUse(statement, token))) {
      const v = evaluate(doc, symbol.value, symbol.parent ?? statement.scope);
      if (v?.kind === 'number' && v.value >= 0 && v.value <= 0xffff) return result(`\`${symbol.name}\` = \`${hex(v.value, 4)}\`\n\n${selectorMarkdown(doc, v.value)}`);
    }
  }
  return undefined;
}
