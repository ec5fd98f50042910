// Device slots of the lockstep's random programs (random-program.ts): the PC devices a boot loader or kernel
// programs, driven the way they drive them, so the lockstep compares what the guest sees of them bare and
// monitored (device-log.ts: every port read's time and value, every interrupt's acknowledgement).
//
// The 8254 PIT (all three channels, every mode, small counts so that outputs change within a program; latch and
// read-back commands), channel 2's gate and output and the refresh toggle through port 0x61, the 8259 pair's
// masks and status reads (the runtime initialised it with IRQ 0-15 at vectors 0x50-0x5F), the RTC's periodic
// interrupt (rate, PIE) and its registers, the 16550 UART (THR writes, the THRE interrupt, status reads) and the
// 8042 keyboard controller (status, commands, the configuration byte, a keyboard echo that raises IRQ 1). Tight
// poll loops read status ports until a bit changes or a count runs out, as calibration and wait loops do; STI
// before a loop lets interrupts in, in ring 0 or ring 3 (IN and OUT in ring 3 fault unless a POPF slot raised
// IOPL, and the handler goes on at the next slot). Each slot is at most 16 bytes.

import type { Rng } from '../random-program';

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

const movAl = (v: number): number[] => [0xb0, v & 0xff];
const outImm = (port: number): number[] => [0xe6, port];
const inImm = (port: number): number[] => [0xe4, port];
const movDx = (port: number): number[] => [0x66, 0xba, port & 0xff, port >>> 8];
/** mov ecx, n */
const movEcx = (n: number): number[] => [0xb9, ...le32(n)];
const IN_DX = 0xec;
const OUT_DX = 0xee;
/** test al, bits */
const testAl = (bits: number): number[] => [0xa8, bits];
/** loopz / loop back over `bytes` bytes of loop body (the branch itself included). */
const loopz = (bytes: number): number[] => [0xe1, (-bytes) & 0xff];
const loop = (bytes: number): number[] => [0xe2, (-bytes) & 0xff];

/** A PIT count that ends within a program mostly, sometimes any 16-bit value (0 = 65536). */
function pitCount(r: Rng): number {
  return r.chance(0.8) ? 2 + r.below(0x180) : r.below(0x10000);
}

function pitProgram(r: Rng): number[] {
  const channel = r.below(3);
  const mode = r.below(6);
  const access = r.chance(0.8) ? 3 : 1 + r.below(2); // lobyte/hibyte, else one byte
  const bcd = r.chance(0.05) ? 1 : 0;
  const count = pitCount(r);
  const port = 0x40 + channel;
  const bytes = [...movAl((channel << 6) | (access << 4) | (mode << 1) | bcd), ...outImm(0x43)];
  if (access !== 2) bytes.push(...movAl(count), ...outImm(port));
  if (access !== 1) bytes.push(...movAl(count >>> 8), ...outImm(port));
  return bytes;
}

function pitRead(r: Rng): number[] {
  const channel = r.below(3);
  const port = 0x40 + channel;
  if (r.chance(0.3)) {
    // Read-back: latch count and/or status of one channel (bits 5, 4 clear = both).
    const cmd = 0xc0 | (r.below(4) << 4) | (2 << channel);
    return [...movAl(cmd), ...outImm(0x43), ...inImm(port), ...inImm(port), ...inImm(port)];
  }
  return [...movAl(channel << 6), ...outImm(0x43), ...inImm(port), 0x88, 0xc4, ...inImm(port)]; // latch; lo; mov ah, al; hi
}

/** Port 0x61: gate 2 and speaker data toggled. */
function portB(r: Rng): number[] {
  return [...inImm(0x61), 0x34, 1 + r.below(3), ...outImm(0x61)]; // in al, 0x61; xor al, 1..3; out 0x61, al
}

/** A poll loop on a status port: [sti] mov ecx, n; l: in al, port; test al, bit; loopz l. */
function pollLoop(r: Rng): number[] {
  const sti = r.chance(0.4) ? [0xfb] : [];
  const n = 1 + r.below(r.chance(0.8) ? 64 : 600);
  switch (r.below(5)) {
    case 0: return [...sti, ...movEcx(n), ...inImm(0x61), ...testAl(r.pick([0x20, 0x10])), ...loopz(6)]; // OUT2, refresh
    case 1: return [...sti, ...movEcx(n), ...inImm(0x64), ...testAl(0x01), ...loopz(6)]; // 8042 output buffer full
    case 2: return [...sti, ...movEcx(n), ...movDx(0x3fd), IN_DX, ...testAl(r.pick([0x20, 0x01])), ...loopz(5)]; // LSR
    case 3: {
      // The PIT's latched count, over and over (calibration loops read it this way).
      const channel = r.below(3);
      return [...movEcx(n), ...movAl(channel << 6), ...outImm(0x43), ...inImm(0x40 + channel), ...inImm(0x40 + channel), ...loop(10)];
    }
    default: return [...sti, ...movEcx(n), ...movAl(0x0c), ...outImm(0x70), ...inImm(0x71), ...loop(8)]; // RTC register C
  }
}

function pic(r: Rng): number[] {
  switch (r.below(3)) {
    case 0: {
      // Masks: lines 0 (PIT), 1 (keyboard), 2 (cascade), 4 (COM1) and 8 (RTC) mostly unmasked.
      let master = 0xff;
      for (const line of [0, 1, 2, 4]) if (r.chance(0.6)) master &= ~(1 << line);
      const slave = r.chance(0.6) ? 0xfe : 0xff;
      return [...movAl(master), ...outImm(0x21), ...movAl(slave), ...outImm(0xa1)];
    }
    case 1: return [...movAl(r.pick([0x0a, 0x0b])), ...outImm(r.pick([0x20, 0xa0])), ...inImm(r.pick([0x20, 0xa0]))]; // IRR / ISR
    default: return [...inImm(r.pick([0x21, 0xa1])), ...movAl(0x20), ...outImm(0x20)]; // IMR read; a stray EOI
  }
}

function rtc(r: Rng): number[] {
  if (r.chance(0.5)) {
    // Register A: periodic rate 3..15 (8 kHz .. 2 Hz); register B: 24-hour, PIE (and rarely UIE) at random.
    const b = 0x02 | (r.chance(0.7) ? 0x40 : 0) | (r.chance(0.1) ? 0x10 : 0);
    return [...movAl(0x0a), ...outImm(0x70), ...movAl(0x20 | (3 + r.below(13))), ...outImm(0x71), ...movAl(0x0b), ...outImm(0x70), ...movAl(b), ...outImm(0x71)];
  }
  return [...movAl(r.pick([0x0a, 0x0b, 0x0c, 0x0c, 0x00, 0x02, 0x04])), ...outImm(0x70), ...inImm(0x71)];
}

function uart(r: Rng): number[] {
  switch (r.below(3)) {
    case 0: return [...movDx(0x3f9), ...movAl(r.pick([0x00, 0x02, 0x02, 0x01, 0x0f])), OUT_DX]; // IER
    case 1: return [...movDx(0x3f8), ...movAl(0x20 + r.below(0x5f)), OUT_DX]; // THR
    default: return [...movDx(0x3f8 + r.pick([2, 5, 6, 1, 4])), IN_DX]; // IIR, LSR, MSR, IER, MCR
  }
}

function keyboardController(r: Rng): number[] {
  switch (r.below(4)) {
    case 0: return [...movAl(0x60), ...outImm(0x64), ...movAl(r.pick([0x45, 0x47, 0x44, 0x65])), ...outImm(0x60)]; // config byte (IRQ 1 on/off)
    case 1: return [...movAl(0xee), ...outImm(0x60)]; // keyboard echo: 0xEE comes back, with IRQ 1 when enabled
    case 2: return [...movAl(r.pick([0x20, 0xae, 0xad, 0xaa, 0xab])), ...outImm(0x64)];
    default: return [...inImm(r.pick([0x64, 0x60]))];
  }
}

/** One device slot. */
export function deviceSlot(r: Rng): number[] {
  switch (r.below(10)) {
    case 0:
    case 1: return pitProgram(r);
    case 2: return pitRead(r);
    case 3: return portB(r);
    case 4:
    case 5: return pollLoop(r);
    case 6: return pic(r);
    case 7: return rtc(r);
    case 8: return uart(r);
    default: return keyboardController(r);
  }
}
