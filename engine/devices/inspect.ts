// Read-only views of the PC devices for the debugger's Devices scope (as engine/cpu/inspect.ts is for the CPU):
// plain data, computed when asked, with no side effect on the devices (no INTA, no status-register reads).

import type { PcDevices } from './pc-devices';
import {
  APIC_DFR, APIC_ESR, APIC_ICR_HIGH, APIC_ICR_LOW, APIC_ID, APIC_LDR, APIC_LVT_ERROR, APIC_LVT_LINT0, APIC_LVT_LINT1,
  APIC_LVT_PERF, APIC_LVT_THERMAL, APIC_LVT_TIMER, APIC_SVR, APIC_TIMER_CURRENT, APIC_TIMER_DIVIDE, APIC_TIMER_INITIAL,
  APIC_TPR, APIC_VERSION,
} from './local-apic';
import { RTE_LEVEL, RTE_MASKED, RTE_REMOTE_IRR } from './io-apic';
import type { DisplayMode } from './bochs-vbe';

export interface PicChipView {
  irr: number;
  isr: number;
  imr: number;
  vectorBase: number;
}

export interface RedirectionView {
  pin: number;
  low: number;
  high: number;
  vector: number;
  deliveryMode: number;
  masked: boolean;
  level: boolean;
  remoteIrr: boolean;
  destination: number;
}

export interface DevicesView {
  /** The CPU's INTR line as the interrupt router drives it. */
  intr: boolean;
  /** Every interrupt waiting, in words: 8259 requests, local APIC IRR vectors, a pending NMI. */
  pending: string[];
  pic: { master: PicChipView; slave: PicChipView } | null;
  imcr: 'PIC mode' | 'symmetric I/O mode' | null;
  apic: {
    registers: Record<string, number>;
    globallyEnabled: boolean;
    softwareEnabled: boolean;
    ppr: number;
    irr: number[];
    isr: number[];
    tmr: number[];
  } | null;
  ioapic: { id: number; entries: RedirectionView[] } | null;
  pit: { channel: number; mode: number; reload: number; value: number; out: boolean; gate: boolean }[];
  uart: { divisor: number; ier: number; lcr: number; mcr: number; scr: number; rxQueued: number; txQueued: number } | null;
  pci: { address: string; id: string; classCode: number; name: string }[];
  display: DisplayMode;
}

const APIC_REGISTERS: [string, number][] = [
  ['ID', APIC_ID], ['version', APIC_VERSION], ['TPR', APIC_TPR], ['LDR', APIC_LDR], ['DFR', APIC_DFR], ['SVR', APIC_SVR],
  ['ESR', APIC_ESR], ['ICR low', APIC_ICR_LOW], ['ICR high', APIC_ICR_HIGH], ['LVT timer', APIC_LVT_TIMER],
  ['LVT thermal', APIC_LVT_THERMAL], ['LVT performance', APIC_LVT_PERF], ['LVT LINT0', APIC_LVT_LINT0],
  ['LVT LINT1', APIC_LVT_LINT1], ['LVT error', APIC_LVT_ERROR], ['timer initial count', APIC_TIMER_INITIAL],
  ['timer current count', APIC_TIMER_CURRENT], ['timer divide', APIC_TIMER_DIVIDE],
];

function vectors(set: { has(v: number): boolean }): number[] {
  const out: number[] = [];
  for (let v = 0; v < 256; v++) if (set.has(v)) out.push(v);
  return out;
}

const hex2 = (v: number) => '0x' + v.toString(16).padStart(2, '0');

export function inspectDevices(d: PcDevices, nmiPending: boolean, intr: boolean): DevicesView {
  const chip = (c: { irr: number; isr: number; imr: number; icw2: number }): PicChipView => ({
    irr: c.irr,
    isr: c.isr,
    imr: c.imr,
    vectorBase: c.icw2 & 0xf8,
  });
  const pic = d.pic ? { master: chip(d.pic.master), slave: chip(d.pic.slave) } : null;
  const lapic = d.lapic;
  const apic = lapic
    ? {
        registers: Object.fromEntries(APIC_REGISTERS.map(([name, offset]) => [name, lapic.register(offset)])),
        globallyEnabled: lapic.globallyEnabled,
        softwareEnabled: lapic.softwareEnabled,
        ppr: lapic.ppr(),
        irr: vectors(lapic.irr),
        isr: vectors(lapic.isr),
        tmr: vectors(lapic.tmr),
      }
    : null;
  const io = d.ioapic;
  const ioapic = io
    ? {
        id: io.apicId,
        entries: Array.from(io.low, (low, pin) => ({
          pin,
          low,
          high: io.high[pin],
          vector: low & 0xff,
          deliveryMode: (low >>> 8) & 7,
          masked: (low & RTE_MASKED) !== 0,
          level: (low & RTE_LEVEL) !== 0,
          remoteIrr: (low & RTE_REMOTE_IRR) !== 0,
          destination: io.high[pin] >>> 24,
        })),
      }
    : null;
  const pending: string[] = [];
  if (nmiPending) pending.push('NMI');
  if (pic) {
    for (let irq = 0; irq < 16; irq++) {
      const c = irq < 8 ? pic.master : pic.slave;
      const bit = 1 << (irq & 7);
      if (irq === 2 || (c.irr & bit) === 0) continue;
      pending.push(`IRQ ${irq} (8259 ${irq < 8 ? 'master' : 'slave'}${(c.imr & bit) !== 0 ? ', masked' : ''})`);
    }
  }
  if (apic) for (const v of apic.irr) pending.push(`vector ${hex2(v)} (local APIC IRR${(v >>> 4) <= (apic.ppr >>> 4) ? ', below PPR' : ''})`);
  const pit = d.pit
    ? d.pit.channels.map((c, channel) => {
        const now = d.pit!.counterNow(channel);
        return { channel, mode: c.mode, reload: c.reload, value: now.value, out: now.out, gate: c.gate };
      })
    : [];
  const u = d.uart;
  const us = u?.snapshot();
  return {
    intr,
    pending,
    pic,
    imcr: d.imcr ? (d.imcr.picMode ? 'PIC mode' : 'symmetric I/O mode') : null,
    apic,
    ioapic,
    pit,
    uart: u && us ? { divisor: u.divisor, ier: u.ier, lcr: u.lcr, mcr: u.mcr, scr: u.scr, rxQueued: us.rx.length + us.hostQueue.length, txQueued: us.tx.length } : null,
    pci: (d.pci?.functions ?? []).map((f) => ({
      address: `${f.info.bus.toString(16).padStart(2, '0')}:${f.info.device.toString(16).padStart(2, '0')}.${f.info.function}`,
      id: `${f.vendor.toString(16).padStart(4, '0')}:${f.deviceId.toString(16).padStart(4, '0')}`,
      classCode: f.classCode,
      name: f.info.name,
    })),
    display: d.display.mode(),
  };
}
