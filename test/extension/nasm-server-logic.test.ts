// The language server's pure parts on the committed fixture (test/extension/fixtures/gdt.asm, built to gdt.bin):
// the byte layout it reads must agree with what nasm assembled.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeDescriptor, splitQuadword } from '../../extension/server/descriptor-decode';
import { descriptorSlots, evaluate, findGdtBase, segmentLoads } from '../../extension/server/descriptor-roles';
import { decodeSelector, typeName } from '../../extension/server/descriptor-text';
import { descriptorDiagnostics } from '../../extension/server/diagnostics';
import { hoverAt } from '../../extension/server/hover';
import { checkLoad } from '../../extension/server/load-check';
import { parseNasm } from '../../extension/server/nasm-document';
import { tokenizeLine } from '../../extension/server/nasm-lexer';
import { definitionAt, documentOutline } from '../../extension/server/symbols';

const fixtures = join(__dirname, 'fixtures');
const source = readFileSync(join(fixtures, 'gdt.asm'), 'utf8');
const image = readFileSync(join(fixtures, 'gdt.bin'));
const lines = source.split('\n');
const doc = parseNasm(source);
const lineOf = (text: string) => lines.findIndex((l) => l.includes(text));
const columnOf = (text: string, within = text) => lines[lineOf(within)].indexOf(text);

describe('descriptor decoding (SDM Vol. 3 §3.4.5)', () => {
  it('decodes a flat 4 GiB code descriptor', () => {
    const [low, high] = splitQuadword(0x00cf9a000000ffffn);
    const d = decodeDescriptor(low, high);
    expect(d.fields).toEqual({ base: 0, limit: 0xffffffff, type: 0xa, s: true, dpl: 0, p: true, db: true, g: true, avl: false, usable: true });
    expect(typeName(true, 0xa)).toBe('code, execute/read');
  });
  it('assembles a base from its three pieces and keeps a byte-granular limit', () => {
    const d = decodeDescriptor(0x8000ffff, 0x12c0f20b);
    expect(d.fields.base).toBe(0x120b8000);
    expect(d.fields.limit).toBe(0x0fffffff);
    expect(d.fields.dpl).toBe(3);
    expect(d.fields.g).toBe(true);
  });
  it('decodes a call gate into selector, offset and parameter count', () => {
    const d = decodeDescriptor(0x00081234, 0x5678ec02);
    expect(d.gate).toEqual({ selector: 0x08, offset: 0x56781234, paramCount: 2 });
    expect(typeName(false, 0xc)).toBe('32-bit call gate');
  });
  it('splits selectors into index, TI and RPL', () => {
    expect(decodeSelector(0x2b)).toEqual({ index: 5, ti: 0, rpl: 3 });
    expect(decodeSelector(0x0f)).toEqual({ index: 1, ti: 1, rpl: 3 });
  });
});

describe('load checks (SDM Vol. 2 MOV, JMP)', () => {
  const code = decodeDescriptor(...splitQuadword(0x00cf9a000000ffffn)).fields;
  const readOnly = decodeDescriptor(...splitQuadword(0x00cf90000000ffffn)).fields;
  const dpl3Data = decodeDescriptor(...splitQuadword(0x00cff2000000ffffn)).fields;
  it('refuses code and read-only data in SS, with the selector as error code', () => {
    expect(checkLoad('SS', code, { selector: 0x08 })).toMatchObject({ ok: false, fault: '#GP(0x0008)' });
    expect(checkLoad('SS', readOnly, { selector: 0x23, cpl: 3 }).fault).toBe('#GP(0x0020)');
  });
  it('refuses a DPL that differs from CPL in SS, and a not-present stack with #SS', () => {
    expect(checkLoad('SS', dpl3Data, { selector: 0x10, cpl: 0 }).reason).toMatch(/DPL \(3\) must equal CPL \(0\)/);
    expect(checkLoad('SS', { ...dpl3Data, p: false }, { selector: 0x13, cpl: 3 }).fault).toBe('#SS(0x0010)');
  });
  it('lets readable code into DS but not execute-only code; not present is #NP', () => {
    expect(checkLoad('DS', code).ok).toBe(true);
    expect(checkLoad('DS', { ...code, type: 0x8 }).ok).toBe(false);
    expect(checkLoad('DS', { ...dpl3Data, p: false }, { selector: 0x10 }).fault).toBe('#NP(0x0010)');
    expect(checkLoad('DS', { ...dpl3Data, dpl: 0 }, { selector: 0x13, cpl: 0 }).reason).toMatch(/RPL \(3\) and CPL \(0\) must be at most/);
  });
  it('wants code in CS, with DPL equal to CPL for nonconforming code', () => {
    expect(checkLoad('CS', readOnly).ok).toBe(false);
    expect(checkLoad('CS', code, { selector: 0x08, cpl: 0 }).ok).toBe(true);
    expect(checkLoad('CS', { ...code, dpl: 3 }, { selector: 0x1b, cpl: 0 }).ok).toBe(false);
    expect(checkLoad('CS', { ...code, type: 0xe, dpl: 0 }, { selector: 0x0b, cpl: 3 }).ok).toBe(true);
  });
});

describe('reading the fixture', () => {
  it('tokenizes numbers of every radix and keeps 64-bit values exact', () => {
    const tokens = tokenizeLine("  dq 0x00CF9A000000FFFF, 1010b, 17q, 'a;b' ; c");
    expect(tokens.map((t) => t.kind)).toEqual(['identifier', 'number', 'punctuation', 'number', 'punctuation', 'number', 'punctuation', 'string', 'comment']);
    expect(tokens[1].value).toBe(0x00cf9a000000ffffn);
    expect(tokens[3].value).toBe(10n);
    expect(tokens[5].value).toBe(15n);
  });

  it('finds the GDT that lgdt loads and every descriptor in it, with the bytes nasm wrote', () => {
    const gdt = findGdtBase(doc)!;
    expect(gdt).toMatchObject(doc.places.get('gdt_start')!);
    const slots = descriptorSlots(doc);
    expect(slots.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
    // gdt_start is at image offset 0x2f (after the code); compare each descriptor with the assembled bytes.
    const gdtInImage = image.indexOf(Buffer.from('ffff0000009acf00', 'hex')) - 8;
    for (const slot of slots) {
      const at = gdtInImage + slot.offset - gdt.offset;
      expect([slot.low, slot.high], `entry ${slot.index}`).toEqual([image.readUInt32LE(at), image.readUInt32LE(at + 4)]);
    }
    expect(slots[3].labels).toEqual(['gdt_bytes']);
  });

  it('evaluates selectors from label differences, equ and %define', () => {
    const tokens = (text: string) => tokenizeLine(text).filter((t) => t.kind !== 'comment');
    expect(evaluate(doc, tokens('CODE_SEL'), undefined)).toEqual({ kind: 'number', value: 0x08 });
    expect(evaluate(doc, tokens('DATA_SEL | 3'), undefined)).toEqual({ kind: 'number', value: 0x13 });
    expect(evaluate(doc, tokens('STACK_SEL'), undefined)).toEqual({ kind: 'number', value: 0x18 });
    expect(evaluate(doc, tokens('gdt_end - gdt_start - 1'), undefined)).toEqual({ kind: 'number', value: 6 * 8 - 1 });
    expect(evaluate(doc, tokens('(1 << 3) + 2 * 2'), undefined)).toEqual({ kind: 'number', value: 12 });
  });

  it('sees each segment load and the descriptor it names', () => {
    const loads = segmentLoads(doc).map((u) => [u.register, u.selector, u.slot?.index]);
    expect(loads).toEqual([
      ['CS', 0x08, 1],
      ['DS', 0x10, 2],
      ['ES', 0x10, 2],
      ['FS', 0x10, 2],
      ['SS', 0x18, 3],
    ]);
  });
});

describe('diagnostics', () => {
  const diagnostics = descriptorDiagnostics(doc);
  it('flags the SS load of a code descriptor at the load and at the descriptor', () => {
    const atLoad = diagnostics.find((d) => d.line === lineOf('mov ss, ax'));
    expect(atLoad).toMatchObject({ severity: 'error' });
    expect(atLoad!.message).toBe('`mov ss, ax` loads selector 0x0018, GDT entry 3 (`gdt_bytes`), into SS and faults with #GP(0x0018): SS must be a writable data segment, not code, execute/read.');
    const atDescriptor = diagnostics.find((d) => d.line === lineOf('dw 0xFFFF, 0x0000'));
    expect(atDescriptor).toMatchObject({ severity: 'error', start: columnOf('0xFFFF', 'dw 0xFFFF') });
    expect(atDescriptor!.message).toMatch(/^Loaded into SS by `mov ss, ax` \(line \d+\), this descriptor faults with #GP\(0x0018\)/);
  });
  it('warns about descriptors whose names promise a role they cannot play', () => {
    const stack = diagnostics.find((d) => d.line === lineOf('0x00CF90000000FFFF'));
    expect(stack).toMatchObject({ severity: 'warning', start: columnOf('0x00CF90000000FFFF') });
    expect(stack!.message).toMatch(/"gdt_stack" suggests this descriptor is for SS, but loading it there would fault with #GP\(0x0020\): SS must be a writable data segment, not data, read-only/);
    const video = diagnostics.find((d) => d.line === lineOf('0x0040120B8000FFFF'));
    expect(video!.message).toMatch(/would fault with #NP\(0x0028\): the segment is not present/);
  });
  it('says nothing about descriptors that are loaded correctly', () => {
    for (const text of ['0x00CF9A000000FFFF', '0x0000FFFF, 0x00CF9200', 'dq 0 ']) expect(diagnostics.filter((d) => d.line === lineOf(text))).toEqual([]);
    expect(diagnostics).toHaveLength(4);
  });
  it('reports a null selector loaded into SS in protected mode', () => {
    const d = descriptorDiagnostics(parseNasm('bits 32\nmov ax, 0\nmov ss, ax\n'));
    expect(d).toEqual([expect.objectContaining({ line: 2, message: '`mov ss, ax` loads the null selector 0x0000 into SS: #GP(0).' })]);
  });

  it('reports a stack descriptor whose DPL differs from the RPL it is loaded with', () => {
    const source = ['bits 32', 'mov ax, 0x10', 'mov ss, ax', 'gdt:', '  dq 0', '  dq 0x00CF9A000000FFFF', '  dq 0x00CFF2000000FFFF ; ring-3 data'].join('\n');
    const errors = descriptorDiagnostics(parseNasm(source)).filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.line)).toEqual([2, 6]);
    expect(errors[0].message).toBe("`mov ss, ax` loads selector 0x0010, GDT entry 2 (the descriptor on line 7), into SS and faults with #GP(0x0010): SS's descriptor DPL (3) must equal CPL (0).");
  });

  it('checks only loads that run in protected mode, following PE through writes to CR0', () => {
    const source = [
      'bits 16',
      'mov ax, 0x18', //          real mode: a paragraph number
      'mov ss, ax',
      'jmp 0x0000:next', //      real mode far jump
      'next: mov eax, cr0',
      'or al, 1',
      'mov cr0, eax',
      'mov ax, 0x08',
      'mov ss, ax', //            protected mode, 16-bit code: checked
      'mov eax, cr0',
      'and eax, 0xfffffffe',
      'mov cr0, eax',
      'jmp 0x0000:back', //      real mode again
      'back: mov ax, 0x08',
      'mov ss, ax',
      'gdt:',
      '  dq 0',
      '  dq 0x00CF9A000000FFFF',
    ].join('\n');
    const doc = parseNasm(source);
    expect(segmentLoads(doc).map((u) => [u.line, u.register])).toEqual([[8, 'SS']]);
    expect(descriptorDiagnostics(doc).filter((d) => d.severity === 'error').map((d) => d.line)).toEqual([8, 17]);
  });
});

describe('hover', () => {
  it('decodes a dq descriptor literal and says what loading it would do', () => {
    const line = lineOf('0x00CF9A000000FFFF');
    const hover = hoverAt(doc, line, columnOf('0x00CF9A000000FFFF') + 3)!;
    expect(hover.markdown).toContain('**GDT entry 1 (selector 0x0008)** `0x00cf9a000000ffff`');
    expect(hover.markdown).toContain('| base | `0x00000000` |');
    expect(hover.markdown).toContain('| limit | `0xffffffff` (raw `0xfffff` × 4 KiB + 0xFFF, G=1) |');
    expect(hover.markdown).toContain('| type | 10 = code, execute/read |');
    expect(hover.markdown).toContain('- into CS (far JMP/CALL): fine, 32-bit code');
    expect(hover.markdown).toContain('- into SS: **#GP(0x0008)**, SS must be a writable data segment, not code, execute/read');
    expect(hover.markdown).toContain('- into DS/ES/FS/GS: fine, readable code');
  });
  it('decodes a descriptor written as a dd pair and as dw/db fields', () => {
    expect(hoverAt(doc, lineOf('0x00CF9200'), columnOf('0x00CF9200'))!.markdown).toContain('| type | 2 = data, read/write |');
    const bytes = hoverAt(doc, lineOf('10011010b'), columnOf('10011010b'))!;
    expect(bytes.markdown).toContain('GDT entry 3 (selector 0x0018)');
    expect(bytes.markdown).toContain('code, execute/read');
  });
  it('decodes selector constants: numbers, equ names and label differences', () => {
    const text = 'mov ax, 0x2b\npush 0x10\n';
    expect(hoverAt(parseNasm(text), 0, 9)!.markdown).toContain('selector 0x002b: index 5 in the GDT (byte offset 0x0028), TI=0, RPL=3');
    expect(hoverAt(parseNasm(text), 1, 6)!.markdown).toContain('index 2 in the GDT');
    const equ = hoverAt(doc, lineOf('mov ax, DATA_SEL'), columnOf('DATA_SEL', 'mov ax, DATA_SEL'))!;
    expect(equ.markdown).toContain('`DATA_SEL` = `0x0010`');
    expect(equ.markdown).toMatch(/GDT entry 2 is `gdt_data` \(line \d+\): data, read\/write, base 0x00000000, limit 0xffffffff, DPL 0\./);
    const stackSel = hoverAt(doc, lineOf('mov ax, STACK_SEL'), columnOf('STACK_SEL', 'mov ax, STACK_SEL'))!;
    expect(stackSel.markdown).toContain('GDT entry 3 is `gdt_bytes`');
  });
  it('decodes a label that names a descriptor', () => {
    expect(hoverAt(doc, lineOf('gdt_stack:'), 2)!.markdown).toContain('`gdt_stack`: GDT entry 4 (selector 0x0020)');
  });
  it('decodes IDT gates with their vector, and names descriptors outside a table by kind', () => {
    const text = ['idt:', '  dq 0', '  times 12 dq 0', '  dd 0x00081234, 0x00008e00 ; #GP handler', 'hlt', 'other: dq 0x0000890012340067'].join('\n');
    const idtDoc = parseNasm(text);
    const gate = hoverAt(idtDoc, 3, 5)!.markdown;
    expect(gate).toContain('**IDT entry 13 (vector 13, #GP)** `0x00008e0000081234`');
    expect(gate).toContain('| type | 14 = 32-bit interrupt gate |');
    expect(gate).toContain('| target selector | `0x0008` (index 1 in the GDT (byte offset 0x0008), TI=0, RPL=0) |');
    expect(gate).toContain('| offset | `0x00001234` |');
    expect(gate).not.toContain('If loaded');
    expect(hoverAt(idtDoc, 5, 1)!.markdown).toContain('**`other`: System descriptor**');
    expect(hoverAt(idtDoc, 5, 12)!.markdown).toContain('| type | 9 = 32-bit TSS (available) |');
  });

  it('gives no hover on ordinary numbers and instructions', () => {
    expect(hoverAt(doc, lineOf('mov esp, 0x9000'), columnOf('0x9000'))).toBeUndefined();
    expect(hoverAt(doc, lineOf('    cli'), 5)).toBeUndefined();
  });
});

describe('symbols and definitions', () => {
  it('outlines labels, their local labels and constants', () => {
    const outline = documentOutline(doc);
    const names = outline.map((o) => `${o.kind}:${o.name}`);
    expect(names).toContain('constant:CODE_SEL');
    expect(names).toContain('constant:STACK_SEL');
    expect(names).toContain('code-label:start');
    expect(names).toContain('data-label:gdt_code');
    const start = outline.find((o) => o.name === 'start')!;
    expect(start.children.map((c) => c.name)).toEqual(['.protected', '.halt']);
    expect(start.lastLine).toBe(lineOf('gdt_start:') - 1);
  });
  it('puts labels under their section when the source has sections', () => {
    const outline = documentOutline(parseNasm('section .text\nmain:\n  ret\n.x:\n  ret\nsection .data\nmsg: db 1\n'));
    expect(outline.map((o) => [o.name, o.children.map((c) => c.name)])).toEqual([['.text', ['main']], ['.data', ['msg']]]);
    expect(outline[0].children[0].children.map((c) => c.name)).toEqual(['.x']);
  });
  it('goes to the definition of labels, local labels in their scope, and constants', () => {
    const jmpHalt = lineOf('jmp .halt');
    expect(definitionAt(doc, jmpHalt, columnOf('.halt', 'jmp .halt') + 1)).toEqual({ line: lineOf('.halt:'), start: 0, end: 5 });
    expect(definitionAt(doc, lineOf('jmp CODE_SEL'), columnOf('.protected', 'jmp CODE_SEL'))).toMatchObject({ line: lineOf('.protected:') });
    expect(definitionAt(doc, lineOf('jmp CODE_SEL'), columnOf('CODE_SEL', 'jmp CODE_SEL'))).toMatchObject({ line: lineOf('CODE_SEL equ') });
    expect(definitionAt(doc, lineOf('mov ax, STACK_SEL'), columnOf('STACK_SEL', 'mov ax, STACK_SEL'))).toMatchObject({ line: lineOf('%define STACK_SEL') });
    const scoped = parseNasm('a:\n.l: nop\nb:\n.l: nop\n jmp .l\n jmp a.l\n');
    expect(definitionAt(scoped, 4, 6)).toMatchObject({ line: 3 });
    expect(definitionAt(scoped, 5, 6)).toMatchObject({ line: 1 });
  });
});

describe('robustness on every NASM source in the repository', () => {
  const sources = [join(fixtures, 'gdt.asm')];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(asm|inc|nasm)$/.test(entry.name)) sources.push(path);
    }
  };
  if (existsSync(join(__dirname, '..', '..', 'examples'))) walk(join(__dirname, '..', '..', 'examples'));

  it.each(sources.map((s) => [s.slice(s.lastIndexOf('/', s.lastIndexOf('/') - 1) + 1), s]))('answers every request on %s without throwing', (_name, path) => {
    const text = readFileSync(path, 'utf8');
    const started = Date.now();
    const d = parseNasm(text);
    descriptorDiagnostics(d);
    documentOutline(d);
    for (const s of d.statements) {
      for (const t of s.tokens) {
        hoverAt(d, s.line, t.start);
        definitionAt(d, s.line, t.start);
      }
    }
    // Every label the outline lists can be jumped to from its own definition.
    for (const symbol of d.symbols) expect(definitionAt(d, symbol.line, symbol.start), symbol.fullName).toBeDefined();
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
