// The Registers scope: EAX…EDI, EIP and EFLAGS with each flag by name and IOPL as a number (interfaces.md).

import type { Cpu } from '../../engine/cpu/cpu';
import { inspectCpu, inspectEflags, REGISTER_NAMES } from '../../engine/cpu/inspect';
import { AC, AF, CF, DF, ID, IF, IOPL, NT, OF, PF, RF, SF, TF, VIF, VIP, VM, ZF } from '../../engine/cpu/flags';
import { setEflagsValue, setFlag, setGeneralRegister, setInstructionPointer } from '../../engine/cpu/debug-edit';
import { Container, hex8, parseTypedNumber, type GuestEdit, type Row } from './variable-store';

const FLAGS: [string, number][] = [
  ['CF', CF], ['PF', PF], ['AF', AF], ['ZF', ZF], ['SF', SF], ['TF', TF], ['IF', IF], ['DF', DF], ['OF', OF],
  ['IOPL', IOPL], ['NT', NT], ['RF', RF], ['VM', VM], ['AC', AC], ['VIF', VIF], ['VIP', VIP], ['ID', ID],
];

/** Short text of the set flags, as in `0x00000246 [PF ZF IF]`. */
export function flagsText(value: number): string {
  const set = FLAGS.filter(([n, m]) => n !== 'IOPL' && (value & m) !== 0).map(([n]) => n);
  const iopl = (value & IOPL) >>> 12;
  return `${hex8(value)} [${set.join(' ')}${iopl ? ` IOPL=${iopl}` : ''}]`;
}

export class RegistersScope extends Container {
  constructor(private readonly cpu: Cpu) {
    super();
  }

  children(): Row[] {
    const s = inspectCpu(this.cpu);
    const rows: Row[] = REGISTER_NAMES.map((name) => ({
      name,
      value: hex8(s.registers[name]),
      evaluateName: name.toLowerCase(),
      dataId: `reg:${name.toLowerCase()}`,
    }));
    rows.push({ name: 'EIP', value: hex8(s.registers.EIP), evaluateName: 'eip', dataId: 'reg:eip' });
    rows.push({ name: 'EFLAGS', value: flagsText(s.eflags.value), evaluateName: 'eflags', dataId: 'reg:eflags', child: new FlagsContainer(this.cpu) });
    return rows;
  }

  override edit(name: string, value: string): GuestEdit {
    const n = (REGISTER_NAMES as readonly string[]).indexOf(name);
    if (n < 0 && name !== 'EIP' && name !== 'EFLAGS') return super.edit(name, value);
    const v = parseTypedNumber(value);
    if (n >= 0) return (cpu) => setGeneralRegister(cpu, n, v);
    if (name === 'EIP') return (cpu) => setInstructionPointer(cpu, v);
    return (cpu) => setEflagsValue(cpu, v);
  }
}

export class FlagsContainer extends Container {
  constructor(private readonly cpu: Cpu) {
    super();
  }

  children(): Row[] {
    const f = inspectEflags(this.cpu.getEflags()) as unknown as Record<string, boolean | number>;
    return FLAGS.map(([name]) => {
      const v = f[name.toLowerCase()];
      return { name, value: typeof v === 'number' ? String(v) : v ? '1' : '0', evaluateName: name.toLowerCase() };
    });
  }

  override edit(name: string, value: string): GuestEdit {
    const flag = FLAGS.find(([n]) => n === name);
    if (!flag) return super.edit(name, value);
    const v = parseTypedNumber(value);
    return (cpu) => setFlag(cpu, flag[1], v);
  }
}
