// Undefined-flag masks of the SingleStepTests sets, by opcode and (for group opcodes) ModR/M reg field.
//
// - 8088/286 sets: `metadata.json`, `opcodes[OP].flags-mask` or `opcodes[OP].reg[R].flags-mask`, an AND mask
//   (1 = defined flag), OP as two or four upper-case hex digits.
// - 386 set: `80386.csv`, one row per instruction form with columns `op` (hex, 2 or 4 digits), `ex` (reg field,
//   empty when the opcode is not a group) and `f_umask` (hex). The moo tools apply f_umask as the register mask of
//   the FLAGS register, i.e. as an AND mask with the defined bits set; a value whose low 16 bits have fewer than
//   eight bits set can only be a list of the undefined bits, and is inverted.
//
// A mask that cannot be read is an error naming the file, not a silent "all flags defined".

import { readFileSync } from 'node:fs';

export class MaskFileError extends Error {}

export interface FlagMaskTable {
  /** Where the masks came from (for messages). */
  source: string;
  /** AND mask for the instruction form, or null when the table has no entry (all flags defined). */
  lookup(opcode: number, reg: number | null): number | null;
}

/** Opcode key as both files spell it: "00".."FF", "0F01". */
export function opcodeKey(opcode: number): string {
  return opcode > 0xff ? opcode.toString(16).toUpperCase().padStart(4, '0') : opcode.toString(16).toUpperCase().padStart(2, '0');
}

interface MetadataEntry {
  'flags-mask'?: number;
  reg?: Record<string, MetadataEntry>;
}

/** Reads `metadata.json` of the 8088 / 80286 sets. */
export function loadMetadataMasks(path: string): FlagMaskTable {
  let doc: { opcodes?: Record<string, MetadataEntry> };
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new MaskFileError(`${path}: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || typeof doc.opcodes !== 'object' || doc.opcodes === null) {
    throw new MaskFileError(`${path}: no "opcodes" object`);
  }
  const opcodes = doc.opcodes;
  return {
    source: path,
    lookup(opcode, reg) {
      const entry = opcodes[opcodeKey(opcode)];
      if (!entry) return null;
      const sub = reg !== null && entry.reg ? entry.reg[String(reg)] : undefined;
      const mask = sub?.['flags-mask'] ?? entry['flags-mask'];
      return typeof mask === 'number' ? mask : null;
    },
  };
}

/** Splits one CSV line (RFC 4180 quoting: "a, b" and doubled quotes). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(field); field = ''; }
    else field += ch;
  }
  out.push(field);
  return out.map((f) => f.trim());
}

const MIN_DEFINED_BITS = 8;

function popcount16(v: number): number {
  let n = 0;
  for (let b = 0; b < 16; b++) n += (v >>> b) & 1;
  return n;
}

/** Reads `80386.csv` of the 386 set. */
export function loadCsvMasks(path: string): FlagMaskTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new MaskFileError(`${path}: ${(e as Error).message}`);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new MaskFileError(`${path}: empty file`);
  const header = splitCsvLine(lines[0].replace(/^\uFEFF/, ''));
  const col = (name: string) => header.indexOf(name);
  const opCol = col('op');
  const exCol = col('ex');
  const maskCol = col('f_umask');
  if (opCol < 0 || maskCol < 0) throw new MaskFileError(`${path}: header lacks the "op" or "f_umask" column`);
  const masks = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const f = splitCsvLine(lines[i]);
    const op = (f[opCol] ?? '').replace(/^0x/i, '').toUpperCase();
    const raw = (f[maskCol] ?? '').replace(/^0x/i, '').replace(/_/g, '');
    if (op === '' || raw === '') continue;
    if (!/^[0-9A-F]{2}([0-9A-F]{2})?$/.test(op)) throw new MaskFileError(`${path}:${i + 1}: bad opcode "${f[opCol]}"`);
    if (!/^[0-9a-fA-F]{1,8}$/.test(raw)) throw new MaskFileError(`${path}:${i + 1}: bad f_umask "${f[maskCol]}"`);
    let mask = parseInt(raw, 16) >>> 0;
    if (popcount16(mask & 0xffff) < MIN_DEFINED_BITS) mask = ~mask >>> 0; // a list of undefined bits
    const ex = exCol >= 0 ? (f[exCol] ?? '') : '';
    masks.set(ex === '' ? op : `${op}.${ex}`, mask);
  }
  return {
    source: path,
    lookup(opcode, reg) {
      const key = opcodeKey(opcode);
      return (reg !== null ? masks.get(`${key}.${reg}`) : undefined) ?? masks.get(key) ?? null;
    },
  };
}
