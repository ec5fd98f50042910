// The Devices scope: the interrupt controllers (8259 pair, local APIC, I/O APIC, IMCR) with what is pending, the
// PIT channels, COM1, the PCI functions and the display mode, read through engine/devices/inspect.ts.

import type { Machine } from '../../engine/machine/machine';
import { inspectDevices, type DevicesView, type PicChipView } from '../../engine/devices/inspect';
import { Container, hex8, RowList, type Row } from './variable-store';

const hex2 = (v: number) => '0x' + (v & 0xff).toString(16).padStart(2, '0');

const DELIVERY = ['fixed', 'lowest priority', 'SMI', 'reserved', 'NMI', 'INIT', 'reserved', 'ExtINT'];
const list = (vs: number[]) => (vs.length === 0 ? 'none' : vs.map(hex2).join(' '));

function readOnly(name: string, value: string, child?: Row['child']): Row {
  return { name, value, readOnly: true, child };
}

function picRows(c: PicChipView): Row[] {
  return [
    readOnly('IRR', hex2(c.irr)),
    readOnly('ISR', hex2(c.isr)),
    readOnly('IMR', hex2(c.imr)),
    readOnly('vector base', hex2(c.vectorBase)),
  ];
}

export class DevicesScope extends Container {
  constructor(private readonly machine: Machine) {
    super();
  }

  private view(): DevicesView {
    const cpu = this.machine.cpu;
    return inspectDevices(this.machine.devices, cpu.nmiPending, cpu.intrLine);
  }

  children(): Row[] {
    const v = this.view();
    const rows: Row[] = [
      readOnly(
        'pending interrupts',
        v.pending.length === 0 ? 'none' : v.pending.join(', '),
        new RowList(() => this.view().pending.map((p, i) => readOnly(String(i), p))),
      ),
      readOnly('INTR', v.intr ? 'asserted' : 'clear'),
    ];
    if (v.pic) {
      const { master, slave } = v.pic;
      rows.push(
        readOnly(
          'PIC',
          `master IRR=${hex2(master.irr)} ISR=${hex2(master.isr)} IMR=${hex2(master.imr)}; slave IRR=${hex2(slave.irr)} ISR=${hex2(slave.isr)} IMR=${hex2(slave.imr)}`,
          new RowList(() => {
            const p = this.view().pic!;
            return [readOnly('master', `base ${hex2(p.master.vectorBase)}`, new RowList(() => picRows(p.master))), readOnly('slave', `base ${hex2(p.slave.vectorBase)}`, new RowList(() => picRows(p.slave)))];
          }),
        ),
      );
    }
    if (v.imcr) rows.push(readOnly('IMCR', v.imcr));
    if (v.apic) {
      const a = v.apic;
      const state = !a.globallyEnabled ? 'globally disabled' : a.softwareEnabled ? 'enabled' : 'software-disabled';
      rows.push(
        readOnly(
          'APIC',
          `${state}, TPR=${hex2(a.registers.TPR)} PPR=${hex2(a.ppr)} IRR ${list(a.irr)} ISR ${list(a.isr)}`,
          new RowList(() => {
            const x = this.view().apic!;
            return [
              ...Object.entries(x.registers).map(([name, value]) => readOnly(name, hex8(value))),
              readOnly('PPR', hex2(x.ppr)),
              readOnly('IRR', list(x.irr)),
              readOnly('ISR', list(x.isr)),
              readOnly('TMR', list(x.tmr)),
            ];
          }),
        ),
      );
    }
    if (v.ioapic) {
      const unmasked = v.ioapic.entries.filter((e) => !e.masked);
      rows.push(
        readOnly(
          'IOAPIC',
          `ID ${v.ioapic.id}, ${unmasked.length === 0 ? 'all inputs masked' : unmasked.map((e) => `${e.pin}→${hex2(e.vector)}`).join(' ')}`,
          new RowList(() =>
            this.view().ioapic!.entries.map((e) =>
              readOnly(
                `input ${e.pin}`,
                `${e.masked ? 'masked' : 'unmasked'} vector ${hex2(e.vector)} ${DELIVERY[e.deliveryMode]} ${e.level ? 'level' : 'edge'}${e.remoteIrr ? ' remote-IRR' : ''} dest ${hex2(e.destination)}`,
              ),
            ),
          ),
        ),
      );
    }
    if (v.pit.length > 0) {
      rows.push(
        readOnly(
          'PIT',
          v.pit.map((c) => `ch${c.channel} mode ${c.mode} count ${c.value}/${c.reload}`).join(', '),
          new RowList(() =>
            this.view().pit.map((c) => readOnly(`channel ${c.channel}`, `mode ${c.mode}, reload ${c.reload}, count ${c.value}, OUT ${c.out ? 1 : 0}, gate ${c.gate ? 1 : 0}`)),
          ),
        ),
      );
    }
    if (v.uart) {
      const u = v.uart;
      rows.push(
        readOnly(
          'UART (COM1)',
          `divisor ${u.divisor}, IER=${hex2(u.ier)} LCR=${hex2(u.lcr)} MCR=${hex2(u.mcr)}, ${u.rxQueued} received waiting`,
          new RowList(() => {
            const x = this.view().uart!;
            return [
              readOnly('divisor', String(x.divisor)),
              readOnly('IER', hex2(x.ier)),
              readOnly('LCR', hex2(x.lcr)),
              readOnly('MCR', hex2(x.mcr)),
              readOnly('SCR', hex2(x.scr)),
              readOnly('received, not yet read', String(x.rxQueued)),
              readOnly('transmit FIFO', String(x.txQueued)),
            ];
          }),
        ),
      );
    }
    if (v.pci.length > 0) {
      rows.push(
        readOnly(
          'PCI',
          v.pci.map((f) => `${f.address} ${f.id}`).join(', '),
          new RowList(() => this.view().pci.map((f) => readOnly(f.address, `${f.id} class ${f.classCode.toString(16).padStart(6, '0')} ${f.name}`))),
        ),
      );
    }
    const d = v.display;
    rows.push(readOnly('display', d.kind === 'text' ? `text ${d.cols}x${d.rows}` : `${d.width}x${d.height}x${d.bpp}, pitch ${d.pitch}, framebuffer ${hex8(0xe0000000)}`));
    return rows;
  }
}


