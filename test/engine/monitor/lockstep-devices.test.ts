// The lockstep compares what the guest sees of its devices (device-log.ts): every port read's time and value and
// every interrupt acknowledgement's time and vector. The generated programs drive the PIT (all channels, gate and
// output through port 0x61), the PIC, the RTC's periodic interrupt, the UART and the keyboard controller
// (random/device-slots.ts), poll them, and take interrupts in ring 0 and ring 3, with paging on and off.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { describeDivergence, lockstep } from '../../../engine/monitor/lockstep';
import { DeviceLog, deviceDifference, KIND_PORT_READ } from '../../../engine/monitor/device-log';
import { PROGRAM_BASE, randomProgram } from '../../../engine/monitor/random-program';

const RANDOM_LOAD = { format: 'bin' as const, loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' as const };
const SEEDS = 24;

describe('the device log', () => {
  // in al, 0x61 (twice); hlt: 32-bit flat code.
  const IN_TWICE = Uint8Array.from([0xe4, 0x61, 0xe4, 0x61, 0xf4]);

  it('finds a port read made one instruction late even when the value is the same', () => {
    const a = new Machine({ memoryMB: 1 });
    const b = new Machine({ memoryMB: 1 });
    a.load(IN_TWICE, RANDOM_LOAD);
    b.load(IN_TWICE, RANDOM_LOAD);
    const la = new DeviceLog(a);
    const lb = new DeviceLog(b);
    a.step();
    b.cpu.icount++; // the read happens at the next instruction's time
    b.step();
    const d = deviceDifference(la, lb);
    expect(d?.[0]).toBe('port read');
    expect(d?.[1]).toMatch(/^at instruction 0: in 0x0061/);
    expect(d?.[2]).toMatch(/^at instruction 1: in 0x0061/);
    b.cpu.icount--;
    a.step();
    b.step();
    expect(deviceDifference(la, lb)).toBeNull();
  });

  it('records interrupt acknowledgements with their time and vector', () => {
    const m = new Machine({ memoryMB: 1 });
    m.load(IN_TWICE, RANDOM_LOAD);
    const log = new DeviceLog(m);
    m.cpu.acknowledgeInterrupt!();
    const other = new Machine({ memoryMB: 1 });
    other.load(IN_TWICE, RANDOM_LOAD);
    const otherLog = new DeviceLog(other);
    expect(deviceDifference(log, otherLog)?.[0]).toBe('interrupt acknowledge');
  });
});

describe('lockstep with devices: generated programs', () => {
  it(`${SEEDS} programs drive every device, take interrupts in both rings, paging on and off: no divergence`, () => {
    const ports = new Set<number>();
    const interruptsByRing = new Map<string, number>();
    for (let seed = 5001; seed < 5001 + SEEDS; seed++) {
      const paging = seed % 2 === 0;
      const image = randomProgram(seed, 400, { paging }).image;
      const r = lockstep(image, { load: RANDOM_LOAD, maxInstructions: 30_000 });
      if (r.divergence) throw new Error(`seed ${seed}: ${describeDivergence(r.divergence)}`);
      expect(r.monitor.counters.panics).toBe(0);
      // What the program did, seen on a bare run of it: the ports it read, and the rings interrupts came in.
      const bare = new Machine({ memoryMB: 4 });
      bare.load(image, RANDOM_LOAD);
      const log = new DeviceLog(bare);
      const ack = bare.cpu.acknowledgeInterrupt!;
      bare.cpu.acknowledgeInterrupt = () => {
        const key = `ring ${bare.cpu.cpl}, paging ${paging ? 'on' : 'off'}`;
        interruptsByRing.set(key, (interruptsByRing.get(key) ?? 0) + 1);
        return ack();
      };
      bare.run(30_000);
      for (const [, kind, port] of log.take()) if (kind === KIND_PORT_READ) ports.add(port);
    }
    for (const port of [0x40, 0x41, 0x42, 0x61, 0x20, 0x21, 0xa1, 0x71, 0x3fd, 0x3fa, 0x60, 0x64]) expect(ports, `port 0x${port.toString(16)}`).toContain(port);
    for (const key of ['ring 0, paging off', 'ring 3, paging off', 'ring 0, paging on', 'ring 3, paging on']) {
      expect(interruptsByRing.get(key) ?? 0, key).toBeGreaterThan(0);
    }
  }, 600_000);
});
