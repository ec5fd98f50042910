// A 16550A UART (National Semiconductor PC16550D data sheet) as COM1: 0x3F8–0x3FF on IRQ 4. Bytes the guest
// transmits go to a host sink; bytes from the host arrive through `receive` and enter the receiver one character
// time apart, at the rate the divisor and line format give (timed in virtual instructions, so runs repeat).
//
// The transmitter is instantaneous: the host side takes every byte as it is written, so THR is empty again at once
// (THRE and TEMT stay set and, with ETBEI, the THRE interrupt comes back after each write). A divisor of 0 stops
// the baud generator: nothing is sent or received, and written bytes wait in the transmit FIFO (16 bytes, one
// without FIFOs) until a valid divisor is set.
//
// Interrupts in the data sheet's priority order: receiver line status, received data available (or the FIFO
// trigger level), character timeout (4 character times without FIFO activity), THR empty, modem status. On a PC
// the INTR pin reaches the PIC only through MCR OUT2, and loopback forces OUT2 inactive.
//
// Paced host input (`receive(bytes, true)`, from --serial-in) waits for the guest as a sender with flow control
// would: the next character leaves only while the receiver is empty and the guest takes receive interrupts (IER
// bit 0 and OUT2), checked every millisecond of guest time until then. Bytes for a guest that never gets there
// stay queued (`bytesWaiting`); a guest that polls with interrupts off is sent nothing.

import type { IoBus, PortDevice } from '../bus/io-bus';
import { INSTRUCTIONS_PER_SECOND, type DeviceTimer, type Scheduler } from '../machine/scheduler';

export const COM1_BASE = 0x3f8;
export const COM1_IRQ = 4;
/** The UART's input clock on a PC: 1.8432 MHz, divided by 16 × divisor for the bit rate. */
const UART_CLOCK = 1_843_200;
const FIFO_SIZE = 16;
/** How often paced host input looks again whether the guest is ready for it: every millisecond. */
const PACED_RETRY = Math.round(INSTRUCTIONS_PER_SECOND / 1000);

const REG_DATA = 0;
const REG_IER = 1;
const REG_IIR_FCR = 2;
const REG_LCR = 3;
const REG_MCR = 4;
const REG_LSR = 5;
const REG_MSR = 6;
const REG_SCR = 7;

const IER_RDA = 0x01;
const IER_THRE = 0x02;
const IER_RLS = 0x04;
const IER_MS = 0x08;
const IIR_NONE = 0x01;
const IIR_RLS = 0x06;
const IIR_RDA = 0x04;
const IIR_TIMEOUT = 0x0c;
const IIR_THRE = 0x02;
const IIR_MS = 0x00;
const IIR_FIFO_ON = 0xc0;
const FCR_ENABLE = 0x01;
const FCR_CLEAR_RX = 0x02;
const FCR_CLEAR_TX = 0x04;
const LCR_DLAB = 0x80;
const LCR_BREAK = 0x40;
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LSR_FIFO_ERROR = 0x80;
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;
const MSR_TERI = 0x04;
/** The host end of the line: a terminal that is there and ready (CTS, DSR and DCD asserted). */
const MSR_HOST = MSR_CTS | MSR_DSR | MSR_DCD;
/** Receiver FIFO trigger levels by FCR bits 7–6. */
const TRIGGER_LEVELS = [1, 4, 8, 14];

export interface UartSnapshot {
  regs: number[];
  rx: number[];
  tx: number[];
  hostQueue: number[];
}

export class Uart16550 implements PortDevice {
  /** Divisor latch; 12 (9600 baud) until the guest sets one, as a BIOS would leave it. */
  divisor = 12;
  ier = 0;
  lcr = 0x03;
  mcr = 0;
  scr = 0;
  private fcr = 0;
  private lsrErrors = 0;
  /** MSR bits 4–7 as last reported, and the delta bits 0–3. */
  private msr = MSR_HOST;
  private threPending = false;
  private timeoutPending = false;
  private irq = false;
  private readonly rx: number[] = [];
  private readonly tx: number[] = [];
  /** Host bytes not yet on the line. */
  private readonly hostQueue: number[] = [];
  /** Host input waits for the guest (see the header) instead of arriving at line rate. */
  private hostPaced = false;
  private readonly rxTimer: DeviceTimer;
  private readonly timeoutTimer: DeviceTimer;

  constructor(
    scheduler: Scheduler,
    /** Receives each byte the guest transmits. */
    private readonly sink: (byte: number) => void,
    private readonly setIrq: (level: boolean) => void,
    readonly base = COM1_BASE,
  ) {
    this.now = scheduler.now;
    this.rxTimer = scheduler.createTimer('uart receive', COM1_IRQ, (at) => this.receiveNext(at));
    this.timeoutTimer = scheduler.createTimer('uart timeout', COM1_IRQ, () => this.characterTimeout());
  }
  private readonly now: () => number;

  attach(io: IoBus): void {
    io.register(this.base, 8, this);
  }

  private get fifoEnabled(): boolean {
    return (this.fcr & FCR_ENABLE) !== 0;
  }

  private get loopback(): boolean {
    return (this.mcr & MCR_LOOP) !== 0;
  }

  /** Instruction time of one character on the line (start bit, data bits, parity, stop bits); 0 = clock stopped. */
  characterTime(): number {
    if (this.divisor === 0) return 0;
    const bits = 1 + 5 + (this.lcr & 3) + (this.lcr & 0x08 ? 1 : 0) + (this.lcr & 0x04 ? 2 : 1);
    return Math.max(1, Math.round((bits * 16 * this.divisor * INSTRUCTIONS_PER_SECOND) / UART_CLOCK));
  }

  // ---- host side ----

  /** Bytes from the host; they reach the receiver one character time apart (paced: as the guest reads them). */
  receive(bytes: Iterable<number>, paced = false): void {
    this.hostPaced = paced;
    const wasIdle = this.hostQueue.length === 0;
    for (const b of bytes) this.hostQueue.push(b & 0xff);
    if (wasIdle && this.hostQueue.length > 0) this.armReceive(this.now());
  }

  /** Bytes from the host not yet moved into the receiver (the guest has not read them). */
  get hostQueued(): number {
    return this.hostQueue.length;
  }

  /** After a divisor or loopback change: stops the receiver, or starts it if it was stopped with bytes waiting. */
  private keepReceiving(): void {
    if (this.characterTime() === 0 || this.loopback) this.rxTimer.cancel();
    else if (this.rxTimer.deadline === Infinity) this.armReceive(this.now());
  }

  private armReceive(from: number): void {
    const ct = this.characterTime();
    if (ct === 0 || this.hostQueue.length === 0 || this.loopback) this.rxTimer.cancel();
    else this.rxTimer.set(from + ct);
  }

  /** Host bytes not yet received. */
  get bytesWaiting(): number {
    return this.hostQueue.length;
  }

  private receiveNext(at: number): void {
    const ready = this.rx.length === 0 && (this.ier & IER_RDA) !== 0 && (this.mcr & MCR_OUT2) !== 0;
    if (this.hostPaced && !ready) {
      this.rxTimer.set(at + PACED_RETRY);
      return;
    }
    const byte = this.hostQueue.shift();
    if (byte !== undefined) this.pushReceived(byte);
    this.armReceive(at);
  }

  /** A character arrives at the receiver (from the host or through loopback). */
  private pushReceived(byte: number): void {
    const room = this.fifoEnabled ? FIFO_SIZE : 1;
    if (this.rx.length >= room) {
      this.lsrErrors |= LSR_OE; // overrun: the new character is lost (16550: the FIFO keeps its contents)
      if (!this.fifoEnabled) this.rx[0] = byte; // without FIFOs the holding register is overwritten
    } else {
      this.rx.push(byte);
    }
    this.timeoutPending = false;
    this.armTimeout();
    this.updateIrq();
  }

  private armTimeout(): void {
    const ct = this.characterTime();
    if (this.fifoEnabled && this.rx.length > 0 && ct > 0) this.timeoutTimer.set(this.now() + 4 * ct);
    else this.timeoutTimer.cancel();
  }

  private characterTimeout(): void {
    if (this.fifoEnabled && this.rx.length > 0) this.timeoutPending = true;
    this.updateIrq();
  }

  // ---- transmitter ----

  private transmit(byte: number): void {
    const room = this.fifoEnabled ? FIFO_SIZE : 1;
    if (this.tx.length < room) this.tx.push(byte);
    this.flushTransmitter();
  }

  /** Sends what waits in the transmitter, unless the baud generator is stopped. */
  private flushTransmitter(): void {
    if (this.divisor === 0 || this.tx.length === 0) return;
    for (const b of this.tx.splice(0)) {
      if (this.loopback) this.pushReceived(b);
      else if ((this.lcr & LCR_BREAK) === 0) this.sink(b);
    }
    this.threPending = true;
  }

  // ---- registers ----

  private lsr(): number {
    let v = this.lsrErrors;
    if (this.rx.length > 0) v |= LSR_DR;
    if (this.tx.length === 0) v |= LSR_THRE | LSR_TEMT;
    if (this.fifoEnabled && (this.lsrErrors & (LSR_OE | LSR_BI)) !== 0) v |= LSR_FIFO_ERROR;
    return v;
  }

  /** The highest-priority pending interrupt's IIR code (IIR_NONE when none). */
  private interruptId(): number {
    if ((this.ier & IER_RLS) !== 0 && (this.lsrErrors & (LSR_OE | LSR_BI)) !== 0) return IIR_RLS;
    if ((this.ier & IER_RDA) !== 0) {
      const trigger = this.fifoEnabled ? TRIGGER_LEVELS[this.fcr >> 6] : 1;
      if (this.rx.length >= trigger) return IIR_RDA;
      if (this.timeoutPending && this.rx.length > 0) return IIR_TIMEOUT;
    }
    if ((this.ier & IER_THRE) !== 0 && this.threPending) return IIR_THRE;
    if ((this.ier & IER_MS) !== 0 && (this.msr & 0x0f) !== 0) return IIR_MS;
    return IIR_NONE;
  }

  private updateIrq(): void {
    const level = this.interruptId() !== IIR_NONE && (this.mcr & MCR_OUT2) !== 0 && !this.loopback;
    if (level !== this.irq) {
      this.irq = level;
      this.setIrq(level);
    }
  }

  /** Modem status inputs: looped back from MCR in loopback mode, the host's ready terminal otherwise. */
  private modemInputs(): number {
    if (!this.loopback) return MSR_HOST;
    const m = this.mcr;
    return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) | (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
  }

  /** Records the delta bits for a change of the modem inputs (TERI only on RI's trailing edge). */
  private updateModemStatus(): void {
    const now = this.modemInputs();
    const was = this.msr & 0xf0;
    const changed = now ^ was;
    let delta = this.msr & 0x0f;
    delta |= (changed >> 4) & 0x0b;
    if ((was & MSR_RI) !== 0 && (now & MSR_RI) === 0) delta |= MSR_TERI;
    this.msr = now | delta;
  }

  portIn(port: number): number {
    switch (port - this.base) {
      case REG_DATA: {
        if (this.lcr & LCR_DLAB) return this.divisor & 0xff;
        const v = this.rx.length > 0 ? this.rx.shift()! : 0;
        this.timeoutPending = false;
        this.armTimeout();
        this.updateIrq();
        return v;
      }
      case REG_IER:
        return this.lcr & LCR_DLAB ? (this.divisor >> 8) & 0xff : this.ier;
      case REG_IIR_FCR: {
        const id = this.interruptId();
        if (id === IIR_THRE) {
          this.threPending = false; // reading IIR with THRE as the source clears it
          this.updateIrq();
        }
        return id | (this.fifoEnabled ? IIR_FIFO_ON : 0);
      }
      case REG_LCR:
        return this.lcr;
      case REG_MCR:
        return this.mcr;
      case REG_LSR: {
        const v = this.lsr();
        this.lsrErrors = 0;
        this.updateIrq();
        return v;
      }
      case REG_MSR: {
        const v = this.msr;
        this.msr &= 0xf0;
        this.updateIrq();
        return v;
      }
      default: // REG_SCR
        return this.scr;
    }
  }

  portOut(port: number, value: number): void {
    switch (port - this.base) {
      case REG_DATA:
        if (this.lcr & LCR_DLAB) this.setDivisor((this.divisor & 0xff00) | value);
        else {
          // Writing THR clears the THRE interrupt; the character leaves at once and THRE comes back: a new edge.
          this.threPending = false;
          this.updateIrq();
          this.transmit(value);
        }
        break;
      case REG_IER:
        if (this.lcr & LCR_DLAB) this.setDivisor((this.divisor & 0xff) | (value << 8));
        else {
          const was = this.ier;
          this.ier = value & 0x0f;
          // Enabling ETBEI while THR is empty raises the THRE interrupt (16550 behaviour drivers rely on).
          if ((value & IER_THRE) !== 0 && (was & IER_THRE) === 0 && this.tx.length === 0) this.threPending = true;
        }
        break;
      case REG_IIR_FCR:
        this.writeFcr(value);
        break;
      case REG_LCR:
        this.lcr = value;
        break;
      case REG_MCR:
        this.mcr = value & 0x1f;
        this.updateModemStatus();
        this.keepReceiving();
        break;
      case REG_LSR:
      case REG_MSR:
        break; // read-only (factory test use only)
      default:
        this.scr = value;
    }
    this.updateIrq();
  }

  private setDivisor(d: number): void {
    this.divisor = d & 0xffff;
    this.flushTransmitter();
    this.keepReceiving();
  }

  private writeFcr(value: number): void {
    const enabling = (value & FCR_ENABLE) !== 0;
    if (enabling !== this.fifoEnabled) {
      // Changing the FIFO enable clears both FIFOs.
      this.rx.length = 0;
      this.tx.length = 0;
    }
    if (value & FCR_CLEAR_RX) this.rx.length = 0;
    if (value & FCR_CLEAR_TX) this.tx.length = 0;
    this.fcr = enabling ? value & 0xc9 : 0;
    this.timeoutPending = false;
    this.armTimeout();
  }

  // ---- snapshots ----

  snapshot(): UartSnapshot {
    return {
      regs: [
        this.divisor, this.ier, this.lcr, this.mcr, this.scr, this.fcr, this.lsrErrors, this.msr, +this.threPending,
        +this.timeoutPending, +this.irq, +this.hostPaced,
      ],
      rx: [...this.rx],
      tx: [...this.tx],
      hostQueue: [...this.hostQueue],
    };
  }

  restore(s: UartSnapshot): void {
    const r = s.regs;
    [this.divisor, this.ier, this.lcr, this.mcr, this.scr, this.fcr, this.lsrErrors, this.msr] = r;
    this.threPending = r[8] !== 0;
    this.timeoutPending = r[9] !== 0;
    this.irq = r[10] !== 0;
    this.hostPaced = (r[11] ?? 0) !== 0;
    this.rx.splice(0, this.rx.length, ...s.rx);
    this.tx.splice(0, this.tx.length, ...s.tx);
    this.hostQueue.splice(0, this.hostQueue.length, ...s.hostQueue);
  }
}
