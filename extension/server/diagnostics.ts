// Diagnostics for descriptors that would fault when loaded in the role the source gives them. A load the source
// makes evident (`mov ss, ax` after `mov ax, SEL`, `push SEL / pop ds`, `jmp SEL:target`) is an error on both the
// descriptor and the load; a role only a label or comment suggests ("stack", "code", "data") is a warning on the
// descriptor, checking its type and presence but not privilege, since the loading code's CPL is unknown.
import { decodeDescriptor } from './descriptor-decode';
import { descriptorSlots, roleFromNames, segmentLoads, type DescriptorSlot } from './descriptor-roles';
import { hex, typeName } from './descriptor-text';
import { checkLoad } from './load-check';
import type { NasmDocument } from './nasm-document';

export interface SourceRange {
  line: number;
  start: number;
  end: number;
}

export interface SourceDiagnostic extends SourceRange {
  severity: 'error' | 'warning';
  message: string;
  related?: (SourceRange & { message: string })[];
}

/** The source text of a descriptor: its first line, from its first to its last value token there. */
export function slotRange(slot: DescriptorSlot): SourceRange {
  const line = slot.bytes[0].line;
  const tokens = slot.bytes.filter((b) => b.line === line).map((b) => b.token);
  return { line, start: Math.min(...tokens.map((t) => t.start)), end: Math.max(...tokens.map((t) => t.end)) };
}

function slotName(slot: DescriptorSlot): string {
  const name = slot.labels[0] ? `\`${slot.labels[0]}\`` : `the descriptor on line ${slot.bytes[0].line + 1}`;
  return slot.index !== undefined ? `GDT entry ${slot.index} (${name})` : name;
}

export function descriptorDiagnostics(doc: NasmDocument): SourceDiagnostic[] {
  const diagnostics: SourceDiagnostic[] = [];
  const reported = new Set<string>();
  for (const use of segmentLoads(doc)) {
    const useRange = { line: use.line, start: use.start, end: use.end };
    const nullSelector = (use.selector & 0xfffc) === 0;
    if (nullSelector && use.role !== 'DS') {
      diagnostics.push({ ...useRange, severity: 'error', message: `\`${use.text}\` loads the null selector ${hex(use.selector, 4)} into ${use.register}: #GP(0).` });
      continue;
    }
    if (!use.slot) continue;
    const fields = decodeDescriptor(use.slot.low, use.slot.high).fields;
    // The loading code's CPL is unknown; a correct load has CPL = RPL for SS and data (MOV SS requires it) and
    // CPL = DPL for nonconforming code (JMP requires it), so those are assumed and the remaining rules checked.
    const cpl = use.role === 'CS' ? fields.dpl : use.selector & 3;
    const verdict = checkLoad(use.role, fields, { selector: use.selector, cpl });
    if (verdict.ok) continue;
    const range = slotRange(use.slot);
    const key = `${range.line}:${use.role}`;
    const explanation = `${verdict.fault}: ${verdict.reason}.`;
    diagnostics.push({
      ...useRange,
      severity: 'error',
      message: `\`${use.text}\` loads selector ${hex(use.selector, 4)}, ${slotName(use.slot)}, into ${use.register} and faults with ${explanation}`,
      related: [{ ...range, message: `${typeName(fields.s, fields.type)}, DPL ${fields.dpl}${fields.p ? '' : ', not present'}` }],
    });
    if (reported.has(key)) continue;
    reported.add(key);
    diagnostics.push({
      ...range,
      severity: 'error',
      message: `Loaded into ${use.register} by \`${use.text}\` (line ${use.line + 1}), this descriptor faults with ${explanation}`,
      related: [{ ...useRange, message: `loaded into ${use.register} here` }],
    });
  }
  const loaded = new Set(segmentLoads(doc).filter((u) => u.slot).map((u) => `${u.slot!.run}:${u.slot!.offset}`));
  for (const slot of descriptorSlots(doc)) {
    if (loaded.has(`${slot.run}:${slot.offset}`)) continue;
    const named = roleFromNames(doc, slot);
    if (!named) continue;
    const fields = decodeDescriptor(slot.low, slot.high).fields;
    if (!fields.s && !fields.p && slot.low === 0 && slot.high === 0) continue; // a null descriptor
    const verdict = checkLoad(named.role, fields, { checkPrivilege: false, selector: slot.index !== undefined ? slot.index * 8 : undefined });
    if (verdict.ok) continue;
    diagnostics.push({
      ...slotRange(slot),
      severity: 'warning',
      message: `"${named.evidence}" suggests this descriptor is for ${named.role === 'DS' ? 'a data segment register' : named.role}, but loading it there would fault with ${verdict.fault}: ${verdict.reason}.`,
    });
  }
  return diagnostics;
}
