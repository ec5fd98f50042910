// Keys typed from the host (--keys, the Screen view): the scan codes of each character, C escapes, and the pacing
// that hands a code to the guest only when it is ready for it (keyboard-controller.ts header).
import { describe, expect, it } from 'vitest';
import { KeyboardController } from '../../../engine/devices/keyboard-controller';
import { keysForText, scanCodes, unescapeC } from '../../../engine/devices/host-keys';
import { INSTRUCTIONS_PER_SECOND } from '../../../engine/machine/scheduler';
import { BLOCK_TICKS, IDLE_BLOCKS, POLLS } from '../../../engine/devices/input-wait';
import { Rig } from './rig';

const MS = Math.round(INSTRUCTIONS_PER_SECOND / 1000);

function setup(ready = { value: true }, halted = { value: true }) {
  const rig = new Rig();
  const kbc = new KeyboardController(
    {
      setIrq: (n, level) => rig.irq(n)(level),
      setA20: () => undefined,
      resetCpu: () => undefined,
      readyForKeys: () => ready.value,
      cpuHalted: () => halted.value,
    },
    rig.scheduler,
  );
  kbc.attach(rig.io);
  return { rig, kbc, ready, halted };
}

/** Reads every code the keyboard sends within `ms` milliseconds, as an interrupt handler would, once per ms. */
function drain(rig: Rig, ms: number): number[] {
  const got: number[] = [];
  for (let i = 0; i < ms; i++) {
    rig.advance(MS);
    while (rig.in(0x64) & 1) got.push(rig.in(0x60));
  }
  return got;
}

/** Like drain, but as an interrupt handler: the status and data ports are read only while IRQ 1 is raised. */
function onIrq(rig: Rig, ms: number): number[] {
  const got: number[] = [];
  for (let i = 0; i < ms; i++) {
    rig.advance(MS);
    while (rig.levels.get(1) && rig.in(0x64) & 1) got.push(rig.in(0x60));
  }
  return got;
}

describe('typed keys', () => {
  it('gives set 1 make and break codes, with Shift and Ctrl around the key', () => {
    expect(keysForText('a').flatMap((k) => scanCodes(k, 1))).toEqual([0x1e, 0x9e]);
    expect(keysForText('A').flatMap((k) => scanCodes(k, 1))).toEqual([0x2a, 0x1e, 0x9e, 0xaa]);
    expect(keysForText('\n').flatMap((k) => scanCodes(k, 1))).toEqual([0x1c, 0x9c]);
    expect(keysForText('\x03').flatMap((k) => scanCodes(k, 1))).toEqual([0x1d, 0x2e, 0xae, 0x9d]); // Ctrl-C
    expect(keysForText('a?').flatMap((k) => scanCodes(k, 2))).toEqual([0x1c, 0xf0, 0x1c, 0x12, 0x4a, 0xf0, 0x4a, 0xf0, 0x12]);
  });

  it('reads C escapes and refuses characters no key types', () => {
    expect(unescapeC('ls -l\\n\\tx\\e\\\\\\x41')).toBe('ls -l\n\tx\x1b\\A');
    expect(() => unescapeC('a\\q')).toThrow('unknown escape "\\q"');
    expect(() => unescapeC('a\\')).toThrow('a lone "\\" at the end');
    expect(() => keysForText('é')).toThrow('no key on a US keyboard types U+00E9');
  });

  it('sends one code per millisecond, each after the previous was read, raising IRQ 1', () => {
    const { rig, kbc } = setup();
    kbc.typeKeys(keysForText('hi'));
    expect(kbc.keysWaiting).toBe(2);
    // Nothing read: the first code waits in the output buffer and no second one follows.
    rig.advance(5 * MS);
    expect(rig.rises(1).length).toBe(1);
    expect(rig.in(0x60)).toBe(0x23);
    expect(drain(rig, 10)).toEqual([0xa3, 0x17, 0x97]);
    expect(kbc.keysWaiting).toBe(0);
  });

  it('holds keys while the guest is not ready: interrupts off, keyboard disabled or not scanning, or busy with the controller', () => {
    const { rig, kbc, ready } = setup();
    ready.value = false;
    kbc.typeKeys(keysForText('a'));
    expect(drain(rig, 20)).toEqual([]);
    ready.value = true;
    rig.out(0x60, 0xf5); // stop scanning: ACK
    expect(drain(rig, 20)).toEqual([0xfa]);
    rig.out(0x60, 0xf4); // scan again: ACK, then 10 ms of quiet before a key
    expect(drain(rig, 5)).toEqual([0xfa]);
    expect(drain(rig, 20)).toEqual([0x1e, 0x9e]);
  });

  it('sends set 2 codes when the controller does not translate', () => {
    const { rig, kbc } = setup();
    rig.out(0x64, 0x60);
    rig.out(0x60, 0x01); // command byte: keyboard interrupt on, translation off
    kbc.typeKeys(keysForText('a'));
    expect(drain(rig, 30)).toEqual([0x1c, 0xf0, 0x1c]);
  });

  it('keeps waiting keys across a snapshot', () => {
    const { rig, kbc } = setup();
    kbc.typeKeys(keysForText('ab'));
    expect(drain(rig, 1)).toEqual([0x1e]);
    const snap = kbc.snapshot();
    const other = setup();
    other.kbc.restore(snap);
    other.kbc.typeKeys([]);
    expect(other.kbc.keysWaiting).toBe(1); // "a" was pressed (its release is due), "b" waits
    expect(drain(other.rig, 10)).toEqual([0x9e, 0x30, 0xb0]);
  });

  it('scripted keys start each line only once the guest idles, as a shell at its prompt does', () => {
    const { rig, kbc, halted } = setup();
    halted.value = false; // the guest computes (a kernel booting): its interrupt handler would take the keys
    kbc.typeKeys(keysForText('a\nb'), 'line');
    expect(onIrq(rig, 5 * IDLE_BLOCKS * BLOCK_TICKS)).toEqual([]);
    // Halted at half of the ticks is idle enough (a tick interrupt and its handler between halts).
    let tick = 0;
    const alternate = (): void => void (halted.value = tick++ % 2 === 0);
    const got: number[] = [];
    for (let ms = 0; ms < IDLE_BLOCKS * BLOCK_TICKS + 10 && got.length < 4; ms++) {
      alternate();
      got.push(...onIrq(rig, 1));
    }
    expect(got).toEqual([0x1e, 0x9e, 0x1c, 0x9c]); // a, Enter: the first line
    // The next line needs the guest waiting again: busy (the command runs), nothing; idle for the span, "b".
    halted.value = false;
    expect(onIrq(rig, 3 * IDLE_BLOCKS * BLOCK_TICKS)).toEqual([]);
    halted.value = true;
    expect(onIrq(rig, IDLE_BLOCKS * BLOCK_TICKS - 10)).toEqual([]);
    expect(onIrq(rig, 20)).toEqual([0x30, 0xb0]);
    expect(kbc.keysWaiting).toBe(0);
  });

  it('a guest polling the status port is waiting too, unless it writes commands between its reads', () => {
    const { rig, kbc, halted } = setup();
    halted.value = false;
    kbc.typeKeys(keysForText('x'), 'line');
    // A driver's handshake: a read, then a command, again and again.
    for (let k = 0; k < 2 * POLLS; k++) {
      rig.in(0x64);
      rig.out(0x64, 0xa7); // a command without a reply (mouse port off)
      rig.advance(MS);
    }
    expect(onIrq(rig, 20)).toEqual([]);
    // A poll loop (INT 16h AH=01h reads the status port).
    for (let k = 0; k < POLLS; k++) rig.in(0x64);
    expect(onIrq(rig, 20)).toEqual([0x2d, 0xad]);
  });

  it('keys a person types (ready pacing) go as soon as the guest is ready, busy or not', () => {
    const { rig, kbc, halted } = setup();
    halted.value = false;
    kbc.typeKeys(keysForText('a\nb'));
    expect(drain(rig, 20)).toEqual([0x1e, 0x9e, 0x1c, 0x9c, 0x30, 0xb0]);
  });

  it('keeps the state of a waiting line across a snapshot', () => {
    const { rig, kbc } = setup();
    kbc.typeKeys(keysForText('q'), 'line');
    onIrq(rig, IDLE_BLOCKS * BLOCK_TICKS - 50);
    const other = setup();
    other.kbc.restore(kbc.snapshot());
    other.kbc.typeKeys([]);
    expect(onIrq(other.rig, 40)).toEqual([]);
    expect(onIrq(other.rig, 20)).toEqual([0x10, 0x90]);
  });
});
