// Inline translations of STOS and LODS without a REP prefix (ops/string.ts stosOnce, lodsOnce): one element stored
// from or loaded into AL/AX/EAX at ES:(E)DI or seg:(E)SI, and the index register moved by the element size in the
// direction DF says (DF is read from cpu.flags at run time: it is never lazy), wrapped at the address size. GRUB's
// LZMA decoder stores its output bytes with STOSB and reads with LODSB; as handler calls they also ended the block
// (issue 13). With a REP prefix they stay out of blocks (ops.ts translatable).

import type { Instr } from '../decode/instr';
import { DF } from '../flags';
import type { Emitter } from './emitter';
import { FALLS_THROUGH, NOT_TRANSLATED, type OpEmitter } from './ops';

const EAX = 0, ES = 0, ESI = 6, EDI = 7;

/** The offset in index register `reg` (int32 for a 32-bit address size, else 16-bit), and its advance. */
function indexStep(g: Emitter, i: Instr, reg: number): { off: string; advance: () => void } {
  const off = g.local('o');
  const width = i.as32 ? 4 : 2;
  g.emit(`${off} = ${g.readReg(width, reg)};`);
  const delta = `((c.flags & ${DF}) !== 0 ? ${-i.size} : ${i.size})`;
  return { off, advance: () => g.writeReg(width, reg, `${off} + ${delta}`) };
}

const STRING_EMITTERS: Record<string, OpEmitter> = {
  stos(g, i) {
    if (i.rep !== 0) return NOT_TRANSLATED;
    const v = g.local('v');
    g.emit(`${v} = ${g.readReg(i.size, EAX)};`);
    const { off, advance } = indexStep(g, i, EDI);
    g.write(ES, off, i.size, v);
    advance();
    g.exitIfAsked();
    return FALLS_THROUGH;
  },
  lods(g, i) {
    if (i.rep !== 0) return NOT_TRANSLATED;
    const v = g.local('v');
    const { off, advance } = indexStep(g, i, ESI);
    g.read(i.seg, off, i.size, v);
    g.writeReg(i.size, EAX, v);
    advance();
    g.exitIfAsked();
    return FALLS_THROUGH;
  },
};

/** The inline emitter of a string instruction without REP, or undefined. */
export function stringEmitter(name: string): OpEmitter | undefined {
  return STRING_EMITTERS[name];
}
