// The FPU scope: ST0–ST7 (value as shortest round-trip decimal, raw 80-bit hex, tag, the physical register it maps
// to), the control word with its masks, precision and rounding control, the status word with TOP, C0–C3 and the
// flags, the tag word per physical register, and the last instruction/operand pointers (SDM vol. 1 §8.1). A model
// without an x87 (486sx) shows one row saying so. setVariable writes ST(i) (decimal or 0x + 20 hex digits), FCW,
// FSW and FTW through engine/cpu/fpu/debug-edit.ts.

import type { Cpu } from '../../engine/cpu/cpu';
import { decimalToF80, f80FromHex } from '../../engine/cpu/fpu/decimal';
import { setFpuControlWord, setFpuStackRegister, setFpuStatusWord, setFpuTagWord } from '../../engine/cpu/fpu/debug-edit';
import {
  controlWordFields,
  describeControlWord,
  describeOpcode,
  describeStatusWord,
  inspectFpu,
  statusWordFields,
  TAG_NAMES,
  type StackRegisterView,
} from '../../engine/cpu/fpu/inspect';
import type { F80 } from '../../engine/cpu/fpu/float80';
import { Container, hex4, hex8, parseTypedNumber, RowList, type GuestEdit, type Row } from './variable-store';

/** `1.5 (R7 valid 0x3fffc000000000000000)`; an empty register shows what its bits hold, marked empty. */
export function stackRegisterText(r: StackRegisterView): string {
  return r.tag === 'empty' ? `empty (R${r.physical} ${r.raw})` : `${r.decimal} (R${r.physical} ${r.tag} ${r.raw})`;
}

const readOnly = (name: string, value: string | number): Row => ({ name, value: String(value), readOnly: true });

/** A value typed for ST(i): `0x` and up to 20 hex digits is the raw register, anything else a decimal. */
export function parseStackValue(text: string): F80 {
  const v = /^\s*0x/i.test(text) ? f80FromHex(text) : decimalToF80(text);
  if (!v) throw new RangeError(`"${text}" is neither a decimal number (1.5, -2e-10, inf, nan) nor 0x and up to 20 hex digits (the raw 80 bits)`);
  return v;
}

export class FpuScope extends Container {
  /** @param monitored the guest runs under the monitor: FCS/FDS then hold the selectors the CPU ran with. */
  constructor(
    private readonly cpu: Cpu,
    private readonly monitored = false,
  ) {
    super();
  }

  children(): Row[] {
    const s = inspectFpu(this.cpu);
    if (!s.present) return [readOnly('FPU', `no FPU (the ${this.cpu.model.name} has none)`)];
    const rows: Row[] = s.stack.map((r) => ({
      name: `ST${r.st}`,
      value: stackRegisterText(r),
      type: 'long double',
      evaluateName: `st${r.st}`,
      child: new RowList(() => [
        readOnly('value', r.decimal),
        readOnly('raw', r.raw),
        readOnly('tag', r.tag),
        readOnly('class', r.kind),
        readOnly('register', `R${r.physical}`),
      ]),
    }));
    const selectorNote = this.monitored ? ' (as the CPU ran it: under ring compression the monitor\'s selector)' : '';
    rows.push(
      {
        name: 'FCW',
        value: `${hex4(s.cw)} [${describeControlWord(s.cw)}]`,
        evaluateName: 'fpu.cw',
        child: new RowList(() => controlWordFields(s.cw).map(([n, v]) => readOnly(n, v))),
      },
      {
        name: 'FSW',
        value: `${hex4(s.sw)} [${describeStatusWord(s.sw)}]`,
        evaluateName: 'fpu.sw',
        child: new RowList(() => statusWordFields(s.sw).map(([n, v]) => readOnly(n, v))),
      },
      {
        name: 'FTW',
        value: hex4(s.tw),
        evaluateName: 'fpu.tw',
        child: new RowList(() => Array.from({ length: 8 }, (_, p) => readOnly(`R${p}`, TAG_NAMES[(s.tw >> (2 * p)) & 3]))),
      },
      { name: 'FIP', value: hex8(s.fip), evaluateName: 'fpu.fip', readOnly: true },
      { name: 'FCS', value: hex4(s.fcs) + selectorNote, evaluateName: 'fpu.fcs', readOnly: true },
      { name: 'FOP', value: `${'0x' + s.fop.toString(16).padStart(3, '0')} (${describeOpcode(s.fop)})`, evaluateName: 'fpu.fop', readOnly: true },
      { name: 'FDP', value: hex8(s.fdp), evaluateName: 'fpu.fdp', readOnly: true },
      { name: 'FDS', value: hex4(s.fds) + selectorNote, evaluateName: 'fpu.fds', readOnly: true },
    );
    return rows;
  }

  override edit(name: string, value: string): GuestEdit {
    const st = /^ST([0-7])$/.exec(name);
    if (st) {
      const v = parseStackValue(value);
      return (cpu) => setFpuStackRegister(cpu, Number(st[1]), v);
    }
    const word = ({ FCW: setFpuControlWord, FSW: setFpuStatusWord, FTW: setFpuTagWord } as const)[name as 'FCW'];
    if (word === undefined) return super.edit(name, value);
    const v = parseTypedNumber(value);
    return (cpu) => word(cpu, v);
  }
}
