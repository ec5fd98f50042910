// The PC devices wired into the Machine: guests that use the PIT, PIC and COM1 through the CPU, HLT skipping
// ahead in virtual time, resets from the 8042 and port 92h, A20, snapshots with device state, and runs that are
// identical however they are sliced.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { CS } from '../../../engine/cpu/cpu';
import { screenText } from '../../../engine/devices/vga-text';
import { INSTRUCTIONS_PER_PIT_TICK, INSTRUCTIONS_PER_SECOND } from '../../../engine/machine/scheduler';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TIMER = new Uint8Array(readFileSync(path.join(ROOT, 'examples', 'timer', 'timer.bin')));
const TIMER_OUTPUT = readFileSync(path.join(ROOT, 'examples', 'timer', 'expected-output.txt'), 'latin1');
const guest = (name: string) => new Uint8Array(readFileSync(path.join(ROOT, 'test', 'engine', 'devices', 'guests', name)));
const SERIAL_ECHO = guest('serial-echo.bin');
const RTC_PERIODIC = guest('rtc-periodic.bin');
/** The timer example waits for 10 ticks of divisor 11932. */
const TIMER_MIN_INSTRUCTIONS = 10 * 11932 * INSTRUCTIONS_PER_PIT_TICK;

function machineWith(code: number[] | Uint8Array, options: ConstructorParameters<typeof Machine>[0] = {}): Machine {
  const m = new Machine({ memoryMB: 1, ...options });
  m.load(Uint8Array.from(code), { format: 'bin' });
  return m;
}

function runTimer(): { m: Machine; reason: string; instructions: number } {
  const m = new Machine();
  m.load(TIMER);
  const r = m.run(5_000_000);
  return { m, reason: r.reason, instructions: r.instructions };
}

describe('machine with PC devices', () => {
  it('runs the timer example: PIT IRQ 0 through the PIC, ten ticks, output on COM1 and port 0xE9', () => {
    const { m, reason, instructions } = runTimer();
    expect(m.consoleText()).toBe(TIMER_OUTPUT);
    expect(m.devices.serialText()).toBe(TIMER_OUTPUT);
    expect(reason).toBe('exit');
    expect(m.exitCode).toBe(0);
    // Ten periods of 11932 PIT ticks passed, most of them skipped while the CPU was halted.
    expect(instructions).toBeGreaterThanOrEqual(TIMER_MIN_INSTRUCTIONS);
    expect(instructions).toBeLessThan(TIMER_MIN_INSTRUCTIONS + 11932 * INSTRUCTIONS_PER_PIT_TICK);
    expect(m.idleInstructions).toBeGreaterThan(TIMER_MIN_INSTRUCTIONS * 0.9);
    expect(m.cpu.icount).toBe(instructions);
  });

  it('repeats a run exactly, however the run is sliced', () => {
    const a = runTimer();
    const b = new Machine();
    b.load(TIMER);
    let total = 0;
    for (;;) {
      const r = b.runSlice(777);
      total += r.instructions;
      if (r.reason !== null) break;
    }
    expect(total).toBe(a.instructions);
    expect(b.consoleText()).toBe(a.m.consoleText());
    expect([...b.cpu.regs]).toEqual([...a.m.cpu.regs]);
    // And stepping instruction by instruction lands the interrupts on the same instructions.
    const c = new Machine();
    c.load(TIMER);
    let steps = 0;
    while (c.exitCode === null && steps < 200_000) {
      c.step();
      steps++;
    }
    expect(c.consoleText()).toBe(a.m.consoleText());
    expect(c.cpu.icount).toBe(a.instructions);
  });

  it('restores a snapshot taken between ticks, device state and timers included', () => {
    const m = new Machine();
    m.load(TIMER);
    m.run(TIMER_MIN_INSTRUCTIONS / 2);
    const snap = m.snapshot();
    const outputAt = m.consoleOutput.length;
    const first = m.run(5_000_000);
    const tail = m.consoleText().slice(outputAt);
    m.restore(snap);
    m.consoleOutput.length = outputAt;
    const second = m.run(5_000_000);
    expect(second).toEqual(first);
    expect(m.consoleText().slice(outputAt)).toBe(tail);
  });

  it('echoes host serial input through IRQ 4, waking HLT when each byte arrives', () => {
    const m = machineWith(SERIAL_ECHO);
    m.serialInput(Buffer.from('hi there\n'));
    const r = m.run(1_000_000);
    expect(r.reason).toBe('exit');
    expect(m.exitCode).toBe(9);
    expect(m.devices.serialText()).toBe('hi there\n');
    expect(m.consoleText()).toBe('hi there\n');
    // Nine characters at 115200 baud, one every character time; the CPU slept in between.
    const characterTime = m.devices.uart!.characterTime();
    expect(r.instructions).toBeGreaterThanOrEqual(9 * characterTime);
    expect(m.idleInstructions).toBeGreaterThan(8 * characterTime);
  });

  it('keeps waiting for serial input: HLT with only the UART able to interrupt ends as halt, input resumes it', () => {
    const m = machineWith(SERIAL_ECHO);
    expect(m.run(1_000_000).reason).toBe('halt');
    m.serialInput([0x41, 0x0a]);
    expect(m.run(1_000_000).reason).toBe('exit');
    expect(m.consoleText()).toBe('A\n');
  });

  it('delivers the RTC periodic interrupt through the slave PIC and the cascade, in virtual seconds', () => {
    const m = machineWith(RTC_PERIODIC);
    const r = m.run(100_000_000);
    expect(r.reason).toBe('exit');
    expect(m.exitCode).toBe(0x03); // six 2 Hz interrupts: three seconds after 00:00:00
    expect(r.instructions).toBeGreaterThanOrEqual(3 * INSTRUCTIONS_PER_SECOND);
    expect(r.instructions).toBeLessThan(3 * INSTRUCTIONS_PER_SECOND + 1000);
    expect(m.idleInstructions).toBeGreaterThan(3 * INSTRUCTIONS_PER_SECOND - 1000);
  });

  it('ends HLT as halt when interrupts are enabled but no device can interrupt (nothing armed or all masked)', () => {
    // sti; hlt
    expect(machineWith([0xfb, 0xf4]).run(1000).reason).toBe('halt');
    // PIT channel 0 in mode 2, count 0, sti; hlt: the PIC still masks IRQ 0 as after power-on.
    const masked = machineWith([0xb0, 0x34, 0xe6, 0x43, 0xb0, 0x00, 0xe6, 0x40, 0xe6, 0x40, 0xfb, 0xf4]);
    expect(masked.run(10_000_000).reason).toBe('halt');
    expect(masked.cpu.icount).toBe(7); // no idle time was skipped
  });

  it('resets the CPU on the 8042 FEh pulse and on port 92h bit 0, keeping memory and A20', () => {
    for (const code of [
      [0xb0, 0xfe, 0xe6, 0x64, 0xeb, 0xfe], // mov al, FEh; out 64h, al; jmp $
      [0xb0, 0x01, 0xe6, 0x92, 0xeb, 0xfe], // mov al, 1; out 92h, al; jmp $
    ]) {
      const m = machineWith(code);
      const r = m.run(2);
      expect(r.instructions).toBe(2);
      expect(m.resets).toBe(1);
      expect(m.cpu.segSel[CS]).toBe(0xf000);
      expect(m.cpu.eip).toBe(0xfff0);
      expect(m.mem.peek(0x7c00, 1)).toBe(0xb0);
    }
  });

  it('resets the CPU on a triple fault when asked to, and stops by default', () => {
    // lidt [7C07h] (an IVT limit of 0); int 3 → #GP → #DF → triple fault
    const code = [0x0f, 0x01, 0x1e, 0x07, 0x7c, 0xcd, 0x03, 0, 0, 0, 0, 0, 0];
    const stop = machineWith(code);
    expect(stop.run(100).reason).toBe('triple-fault');
    expect(stop.resets).toBe(0);
    const reset = machineWith(code, { tripleFault: 'reset' });
    let triples = 0;
    reset.cpu.events.on('triple-fault', () => triples++);
    const r = reset.runSlice(2);
    expect(r.reason).toBe(null);
    expect(triples).toBe(1);
    expect(reset.resets).toBe(1);
    expect(reset.cpu.shutdown).toBe(false);
    expect(reset.cpu.segSel[CS]).toBe(0xf000);
    expect(reset.cpu.eip).toBe(0xfff0);
  });

  it('takes host key presses as scan codes on IRQ 1', () => {
    const m = machineWith([0xf4]);
    m.keyboardInput([0x1e]);
    expect(m.io.in(0x64, 1) & 0x01).toBe(1);
    expect(m.io.in(0x60, 1)).toBe(0x1e);
  });

  it('turns A20 off and on through the 8042 output port and port 92h', () => {
    // mov al, D1h; out 64h, al; mov al, DDh; out 60h, al; cli; hlt
    const m = machineWith([0xb0, 0xd1, 0xe6, 0x64, 0xb0, 0xdd, 0xe6, 0x60, 0xfa, 0xf4]);
    expect(m.cpu.a20Enabled).toBe(true); // a loader leaves A20 on
    expect(m.run(100).reason).toBe('halt');
    expect(m.cpu.a20Enabled).toBe(false);
    m.io.out(0x92, 0x02, 1);
    expect(m.cpu.a20Enabled).toBe(true); // either gate enables it
    m.io.out(0x92, 0x00, 1);
    expect(m.cpu.a20Enabled).toBe(false);
  });

  it('attaches the ATA disk of a boot image, answers the CMOS and shows the firmware screen as text', () => {
    const disk = new Uint8Array(readFileSync(path.join(ROOT, 'test', 'fixtures', 'boot', 'bios-services.bin')));
    const m = new Machine();
    m.load(disk);
    expect(m.devices.disk).not.toBeNull();
    expect(m.io.in(0x1f7, 1) & 0x40).toBe(0x40); // DRDY
    expect(m.run(20_000_000).reason).toBe('exit');
    expect(screenText(m.mem)[0].trimEnd()).toBe('boot dl=80');
    m.io.out(0x70, 0x15, 1);
    expect(m.io.in(0x71, 1)).toBe(0x80); // 640 KiB base memory, low byte
  });

  it('wires the disk to IRQ 14 on the slave PIC, and a second boot image replaces the disk', () => {
    const disk = new Uint8Array(readFileSync(path.join(ROOT, 'test', 'fixtures', 'boot', 'bios-services.bin')));
    const m = new Machine();
    m.load(disk);
    m.io.out(0x1f6, 0xa0, 1);
    m.io.out(0x1f7, 0xec, 1); // IDENTIFY DEVICE raises INTRQ
    m.io.out(0xa0, 0x0a, 1);
    expect(m.io.in(0xa0, 1) & 0x40).toBe(0x40); // slave IRR bit 6 = IRQ 14
    m.io.in(0x1f7, 1); // reading status drops INTRQ
    expect(m.io.in(0xa0, 1) & 0x40).toBe(0);
    const first = m.devices.disk;
    const bigger = new Uint8Array(disk.length + 512 * 100);
    bigger.set(disk);
    m.load(bigger);
    expect(m.devices.disk).not.toBe(first);
    expect(m.devices.disk!.totalSectors).toBe(bigger.length / 512);
  });

  it('leaves out devices on request: their ports float', () => {
    const m = machineWith([0xf4], { devices: { pic: false, pit: false, uart: false, cmos: false } });
    expect(m.io.in(0x21, 1)).toBe(0xff);
    expect(m.io.in(0x40, 1)).toBe(0xff);
    expect(m.io.in(0x3fd, 1)).toBe(0xff);
    expect(m.io.in(0x71, 1)).toBe(0xff);
    expect(m.devices.pic).toBeNull();
    const sent: number[] = [];
    const withSink = machineWith([0xf4], { devices: { onSerialByte: (b) => sent.push(b) } });
    withSink.io.out(0x3f8, 0x41, 1);
    expect(sent).toEqual([0x41]);
  });
});
