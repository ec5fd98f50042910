// The 8042 keyboard controller of a PC/AT at 0x60 (data) and 0x64 (status/command), with a keyboard behind it
// that answers the usual commands. What the guest needs from it: the A20 gate and the CPU reset line on the
// output port (command D1h writes it, D0h reads it, FEh pulses reset), the command byte (20h/60h: IRQ 1 enable,
// system flag, translation), the self tests BIOSes and kernels run, and the keyboard's acknowledgements. Host key
// presses come in through `keyboardInput` (scan codes as the guest reads them) and raise IRQ 1.
//
// The controller is instantaneous: the input buffer is never full (status bit 1 reads 0) and answers are in the
// output buffer as soon as the command is written. Unknown controller commands are ignored; unknown keyboard
// commands get FEh (resend), as a real keyboard answers.
//
// Typed keys (`typeKeys`, from --keys or the Screen view) are paced by the guest, in virtual time: every millisecond
// the keyboard sends the next scan code if the guest is ready for it — the output buffer is empty, the keyboard is
// enabled and scanning (not after F5 until F4), its interrupt is on in the command byte and reaches the CPU
// (`readyForKeys`: IF set and IRQ 1 deliverable), and the guest has not talked to the controller for 10 ms (so no
// code lands among the answers to its commands while a driver probes the keyboard). Scripted keys (--keys, the
// launch attribute `keys`) also wait, at the start of each line, until the guest waits for input (input-wait.ts:
// it idles or polls the controller); keys typed by a person in the Screen view do not, the person having seen the
// prompt. Keys a guest never becomes ready for stay queued (`keysWaiting`). Codes are set 1 when the controller
// translates, else the keyboard's set 2.

import type { IoBus, PortDevice } from '../bus/io-bus';
import { INSTRUCTIONS_PER_SECOND, type DeviceTimer, type Scheduler } from '../machine/scheduler';
import { isEnter, scanCodes, type HostKey } from './host-keys';
import { InputWait, type InputWaitState } from './input-wait';

export const KBC_DATA = 0x60;
export const KBC_STATUS = 0x64;
export const KEYBOARD_IRQ = 1;
export const MOUSE_IRQ = 12;

// Status register bits.
const ST_OBF = 0x01;
const ST_SYS = 0x04;
const ST_CMD = 0x08; // the last write went to port 64h
const ST_UNLOCKED = 0x10; // keyboard not inhibited (the key lock)
const ST_AUX_OBF = 0x20;
// Command byte bits.
const CB_KBD_INT = 0x01;
const CB_AUX_INT = 0x02;
const CB_SYS = 0x04;
const CB_KBD_DISABLED = 0x10;
const CB_AUX_DISABLED = 0x20;
const CB_TRANSLATE = 0x40;
// Output port bits.
const OP_RESET = 0x01; // low = CPU held in reset
const OP_A20 = 0x02;
const OP_KBD_OBF = 0x10;
const OP_AUX_OBF = 0x20;

const ACK = 0xfa;
const RESEND = 0xfe;
const SELF_TEST_OK = 0x55;
const KBD_BAT_OK = 0xaa;
/** Typing cadence: one scan code per millisecond of guest time at most. */
const TYPING_INTERVAL = Math.round(INSTRUCTIONS_PER_SECOND / 1000);
/** Guest silence on the controller's ports before a typed code is sent. */
const TYPING_QUIET = 10 * TYPING_INTERVAL;

/** Commands whose next data byte is their argument. */
type PendingWrite =
  | 'none'
  | 'command-byte'
  | 'output-port'
  | 'kbd-output'
  | 'aux-output'
  | 'aux-device'
  | 'kbd-argument'
  | 'kbd-scancode-set';

export interface KeyboardControllerWiring {
  setIrq(irq: number, level: boolean): void;
  /** The output port's A20 bit. */
  setA20(on: boolean): void;
  /** The output port's reset bit went low: reset the CPU. */
  resetCpu(): void;
  /** True when a keyboard interrupt would reach the CPU now (IF set, IRQ 1 unmasked): typed keys wait for it. */
  readyForKeys?(): boolean;
  /** True while the CPU is halted waiting for an interrupt: a line of scripted keys waits for an idle guest. */
  cpuHalted?(): boolean;
}

/** How typed keys are paced: `line` keys start each line only once the guest waits for input (see the header). */
export type KeyPacing = 'line' | 'ready';

export interface KeyboardControllerSnapshot {
  regs: number[];
  pending: PendingWrite;
  output: { byte: number; aux: boolean }[];
  typing?: {
    keys: HostKey[];
    codes: number[];
    pressCodes: number;
    scanning: boolean;
    lastGuestAccess: number;
    /** The pacing of each of `keys` (absent: all 'ready', as before lines waited). */
    pacing?: KeyPacing[];
    lineOpen?: boolean;
    inputWait?: InputWaitState;
  };
}

export class KeyboardController implements PortDevice {
  /** Command byte after a BIOS POST: keyboard interrupt on, system flag, translation to set 1. */
  commandByte = CB_KBD_INT | CB_SYS | 0x40;
  outputPort = OP_RESET | OP_A20 | 0xcc;
  private lastWasCommand = false;
  private pending: PendingWrite = 'none';
  private scancodeSet = 2;
  private lastOutput = 0;
  /** Bytes waiting for the guest, first in first out; the head is the output buffer. */
  private readonly output: { byte: number; aux: boolean }[] = [];
  /** Typed keys not yet started (with their pacing), and the codes left of the key being sent. */
  private readonly typedKeys: HostKey[] = [];
  private readonly typedPacing: KeyPacing[] = [];
  private typedCodes: number[] = [];
  /** Codes of the current key before its release codes, not sent yet. */
  private typedPressCodes = 0;
  /** The keyboard sends scan codes (F5 stops it, F4, F6 and a reset start it again). */
  private scanning = true;
  /** Virtual time of the guest's last write to 60h or 64h. */
  private lastGuestAccess = -Infinity;
  /** The guest was seen waiting for input and the line being typed has not reached its Enter. */
  private lineOpen = false;
  private readonly inputWait = new InputWait();
  private readonly typingTimer: DeviceTimer | null;
  private readonly now: () => number;

  constructor(
    private readonly wiring: KeyboardControllerWiring,
    scheduler?: Scheduler,
  ) {
    this.now = scheduler?.now ?? (() => 0);
    this.typingTimer = scheduler?.createTimer('keyboard typing', KEYBOARD_IRQ, (at) => this.typeNext(at)) ?? null;
  }

  attach(io: IoBus): void {
    io.register(KBC_DATA, 1, this);
    io.register(KBC_STATUS, 1, this);
  }

  /** Scan codes from the host keyboard (already in the set the guest expects, set 1 after translation). */
  keyboardInput(codes: Iterable<number>): void {
    if (this.commandByte & CB_KBD_DISABLED) return;
    for (const c of codes) this.output.push({ byte: c & 0xff, aux: false });
    this.updateIrqs();
  }

  /** Keys to type as the guest becomes ready for them (see the header). Needs the scheduler. */
  typeKeys(keys: readonly HostKey[], pacing: KeyPacing = 'ready'): void {
    if (this.typingTimer === null) throw new Error('typing keys needs a scheduler');
    this.typedKeys.push(...keys);
    for (let k = 0; k < keys.length; k++) this.typedPacing.push(pacing);
    if (this.typingTimer.deadline === Infinity) this.typingTimer.set(this.now() + TYPING_INTERVAL);
  }

  /** Typed keys the guest has not been sent the press of yet (a key whose release is still due counts as read). */
  get keysWaiting(): number {
    return this.typedKeys.length + (this.typedPressCodes > 0 ? 1 : 0);
  }

  private typeNext(at: number): void {
    if (this.typedCodes.length === 0 && this.typedKeys.length === 0) return;
    if (this.typedCodes.length === 0 && this.typedPacing[0] === 'line' && !this.lineOpen) {
      // A line of scripted keys starts only once the guest waits for input (input-wait.ts).
      this.inputWait.tick(this.wiring.cpuHalted?.() ?? true);
      if (!this.inputWait.waiting) {
        this.typingTimer!.set(at + TYPING_INTERVAL);
        return;
      }
      this.lineOpen = true;
    }
    const ready =
      this.output.length === 0 &&
      this.scanning &&
      (this.commandByte & (CB_KBD_DISABLED | CB_KBD_INT)) === CB_KBD_INT &&
      at - this.lastGuestAccess >= TYPING_QUIET &&
      (this.wiring.readyForKeys?.() ?? true);
    if (ready) {
      if (this.typedCodes.length === 0) {
        const set = (this.commandByte & CB_TRANSLATE) !== 0 || this.scancodeSet === 1 ? 1 : 2;
        const key = this.typedKeys.shift()!;
        this.typedPacing.shift();
        if (isEnter(key)) {
          // The line is typed: the next one waits for the guest to wait for input again.
          this.lineOpen = false;
          this.inputWait.reset();
        }
        this.typedCodes = scanCodes(key, set);
        const breakBytes = (set === 1 ? 1 : 2) * (key.modifier === null ? 1 : 2);
        this.typedPressCodes = this.typedCodes.length - breakBytes;
      }
      this.output.push({ byte: this.typedCodes.shift()!, aux: false });
      if (this.typedPressCodes > 0) this.typedPressCodes--;
      this.updateIrqs();
    }
    if (this.typedCodes.length > 0 || this.typedKeys.length > 0) this.typingTimer!.set(at + TYPING_INTERVAL);
  }

  get a20(): boolean {
    return (this.outputPort & OP_A20) !== 0;
  }

  portIn(port: number): number {
    if (port === KBC_STATUS) {
      if (this.output.length === 0) this.inputWait.polled();
      return this.status();
    }
    const head = this.output.shift();
    // Reading empties the output buffer, which drops the IRQ line; the next byte, if any, raises it again.
    this.wiring.setIrq(KEYBOARD_IRQ, false);
    this.wiring.setIrq(MOUSE_IRQ, false);
    this.updateIrqs();
    if (head) this.lastOutput = head.byte;
    return this.lastOutput; // an empty buffer reads as the byte last read

  }

  private status(): number {
    let s = ST_UNLOCKED;
    if (this.commandByte & CB_SYS) s |= ST_SYS;
    if (this.lastWasCommand) s |= ST_CMD;
    const head = this.output[0];
    if (head) s |= head.aux ? ST_OBF | ST_AUX_OBF : ST_OBF;
    return s;
  }

  portOut(port: number, value: number): void {
    this.lastGuestAccess = this.now();
    this.inputWait.wrote();
    if (port === KBC_STATUS) {
      this.lastWasCommand = true;
      this.command(value);
    } else {
      this.lastWasCommand = false;
      this.data(value);
    }
  }

  private reply(byte: number, aux = false): void {
    this.output.push({ byte, aux });
    this.updateIrqs();
  }

  private command(cmd: number): void {
    this.pending = 'none';
    if (cmd >= 0x20 && cmd <= 0x3f) {
      // 20h reads the command byte; 21h–3Fh read controller RAM, which holds nothing else here.
      this.reply(cmd === 0x20 ? this.commandByte : 0x00);
      return;
    }
    if (cmd >= 0xf0) {
      // Pulse output port bits 0–3 low for 6 µs where the command's bit is 0; bit 0 is the CPU reset line.
      if ((cmd & OP_RESET) === 0) this.wiring.resetCpu();
      return;
    }
    switch (cmd) {
      case 0x60:
        this.pending = 'command-byte';
        break;
      case 0xa7:
        this.setCommandByte(this.commandByte | CB_AUX_DISABLED);
        break;
      case 0xa8:
        this.setCommandByte(this.commandByte & ~CB_AUX_DISABLED);
        break;
      case 0xa9: // test the mouse port: 00h = no error
      case 0xab: // test the keyboard port
        this.reply(0x00);
        break;
      case 0xaa: // controller self test
        this.reply(SELF_TEST_OK);
        break;
      case 0xad:
        this.setCommandByte(this.commandByte | CB_KBD_DISABLED);
        break;
      case 0xae:
        this.setCommandByte(this.commandByte & ~CB_KBD_DISABLED);
        break;
      case 0xc0: // input port: keyboard not locked, colour display
        this.reply(0xbf);
        break;
      case 0xd0:
        this.reply(this.outputPortValue());
        break;
      case 0xd1:
        this.pending = 'output-port';
        break;
      case 0xd2:
        this.pending = 'kbd-output';
        break;
      case 0xd3:
        this.pending = 'aux-output';
        break;
      case 0xd4:
        this.pending = 'aux-device';
        break;
      case 0xdd: // A20 off (HP Vectra command, widely copied)
        this.writeOutputPort(this.outputPort & ~OP_A20);
        break;
      case 0xdf: // A20 on
        this.writeOutputPort(this.outputPort | OP_A20);
        break;
      case 0xe0: // test inputs: clock and data low
        this.reply(0x00);
        break;
      default:
        break; // not a command this controller knows: ignored
    }
  }

  /** The output port as D0h reports it, with the buffer-full bits reflecting the output buffer. */
  private outputPortValue(): number {
    let v = this.outputPort & ~(OP_KBD_OBF | OP_AUX_OBF);
    const head = this.output[0];
    if (head) v |= head.aux ? OP_AUX_OBF : OP_KBD_OBF;
    return v;
  }

  private writeOutputPort(value: number): void {
    const was = this.outputPort;
    this.outputPort = value;
    if ((value & OP_A20) !== (was & OP_A20)) this.wiring.setA20((value & OP_A20) !== 0);
    // Writing 0 to bit 0 asserts the CPU's reset line; it is released again right away here.
    if ((value & OP_RESET) === 0) {
      this.outputPort |= OP_RESET;
      this.wiring.resetCpu();
    }
  }

  private setCommandByte(v: number): void {
    this.commandByte = v & 0x7f;
    this.updateIrqs();
  }

  private data(value: number): void {
    const pending = this.pending;
    this.pending = 'none';
    switch (pending) {
      case 'command-byte':
        this.setCommandByte(value);
        return;
      case 'output-port':
        this.writeOutputPort(value);
        return;
      case 'kbd-output':
        this.reply(value);
        return;
      case 'aux-output':
        this.reply(value, true);
        return;
      case 'aux-device':
        this.reply(RESEND, true); // no mouse is attached: the controller reports a failed transfer as FEh
        return;
      case 'kbd-argument':
        this.reply(ACK);
        return;
      case 'kbd-scancode-set':
        this.reply(ACK);
        if (value === 0) this.reply(this.scancodeSet);
        else if (value <= 3) this.scancodeSet = value;
        return;
      default:
        this.keyboardCommand(value);
    }
  }

  /** A byte for the keyboard itself (written to 60h with no controller command pending). */
  private keyboardCommand(cmd: number): void {
    this.setCommandByte(this.commandByte & ~CB_KBD_DISABLED); // writing to the keyboard enables its interface
    switch (cmd) {
      case 0xff: // reset: acknowledge, then the basic assurance test passed
        this.scanning = true;
        this.reply(ACK);
        this.reply(KBD_BAT_OK);
        break;
      case 0xf2: // identify: an MF2 keyboard (translated ID)
        this.reply(ACK);
        this.reply(0xab);
        this.reply((this.commandByte & 0x40) !== 0 ? 0x41 : 0x83);
        break;
      case 0xee: // echo
        this.reply(0xee);
        break;
      case 0xed: // LEDs
      case 0xf3: // typematic rate
        this.reply(ACK);
        this.pending = 'kbd-argument';
        break;
      case 0xf0:
        this.reply(ACK);
        this.pending = 'kbd-scancode-set';
        break;
      case 0xf4: // enable scanning
      case 0xf6: // set defaults (scanning goes on)
        this.scanning = true;
        this.reply(ACK);
        break;
      case 0xf5: // set defaults and stop scanning
        this.scanning = false;
        this.reply(ACK);
        break;
      default:
        this.reply(RESEND);
    }
  }

  /** IRQ 1 (or 12 for mouse bytes) is high while the output buffer is full and its interrupt is enabled. */
  private updateIrqs(): void {
    const head = this.output[0];
    this.wiring.setIrq(KEYBOARD_IRQ, !!head && !head.aux && (this.commandByte & CB_KBD_INT) !== 0);
    this.wiring.setIrq(MOUSE_IRQ, !!head && head.aux && (this.commandByte & CB_AUX_INT) !== 0);
  }

  snapshot(): KeyboardControllerSnapshot {
    return {
      regs: [this.commandByte, this.outputPort, +this.lastWasCommand, this.scancodeSet, this.lastOutput],
      pending: this.pending,
      output: this.output.map((o) => ({ ...o })),
      typing: {
        keys: [...this.typedKeys],
        codes: [...this.typedCodes],
        pressCodes: this.typedPressCodes,
        scanning: this.scanning,
        lastGuestAccess: this.lastGuestAccess,
        pacing: [...this.typedPacing],
        lineOpen: this.lineOpen,
        inputWait: this.inputWait.snapshot(),
      },
    };
  }

  restore(s: KeyboardControllerSnapshot): void {
    [this.commandByte, this.outputPort] = s.regs;
    this.lastWasCommand = s.regs[2] !== 0;
    this.scancodeSet = s.regs[3];
    this.lastOutput = s.regs[4];
    this.pending = s.pending;
    this.output.length = 0;
    this.output.push(...s.output.map((o) => ({ ...o })));
    this.typedKeys.splice(0, this.typedKeys.length, ...(s.typing?.keys ?? []));
    this.typedPacing.splice(0, this.typedPacing.length, ...(s.typing?.pacing ?? this.typedKeys.map((): KeyPacing => 'ready')));
    this.lineOpen = s.typing?.lineOpen ?? false;
    this.inputWait.restore(s.typing?.inputWait);
    this.typedCodes = [...(s.typing?.codes ?? [])];
    this.typedPressCodes = s.typing?.pressCodes ?? 0;
    this.scanning = s.typing?.scanning ?? true;
    this.lastGuestAccess = s.typing?.lastGuestAccess ?? -Infinity;
    this.updateIrqs();
  }
}
