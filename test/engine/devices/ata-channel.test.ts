// Both ATA channels with master and slave: the disks after the boot image go to the primary slave, the secondary
// master and the secondary slave; a guest reads each by PIO (guests/ata-disks.asm); writes land in an overlay;
// each channel raises its own IRQ (14, 15); snapshots and lockstep cover the new positions.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../../engine/machine/machine';
import { lockstep } from '../../../engine/monitor/lockstep';

const guest = new Uint8Array(readFileSync(join(__dirname, 'guests', 'ata-disks.bin')));

function disk(label: string, sectors = 8): Uint8Array {
  const d = new Uint8Array(sectors * 512);
  d.set(Buffer.from(label, 'latin1'));
  return d;
}

describe('ATA channels with master and slave', () => {
  it('a guest finds the boot disk, then the three further disks in the order primary slave, secondary master, secondary slave', () => {
    const disks = [disk('DSK1'), disk('DSK2'), disk('DSK3')];
    const m = new Machine({ memoryMB: 4, devices: { disks } });
    m.load(guest);
    expect(m.run(20_000_000).reason).toBe('exit');
    const out = m.consoleText();
    expect(out.slice(5)).toBe('DSK1 DSK2 DSK3 WRIT ');
    expect(m.exitCode).toBe(0);
    // The write went to the secondary slave's overlay; the array the machine was given is unchanged.
    const slave = m.devices.ata[1]!.disks[1]!;
    expect([...slave.overlay.keys()]).toEqual([0]);
    expect(Buffer.from(slave.readSector(0).subarray(0, 4)).toString()).toBe('WRIT');
    expect(Buffer.from(disks[2].subarray(0, 4)).toString()).toBe('DSK3');
  });

  it('positions without a disk read as absent, and a fourth further disk is refused with a message', () => {
    const m = new Machine({ memoryMB: 4, devices: { disks: [disk('ONLY')] } });
    m.load(guest);
    m.run(20_000_000);
    expect(m.consoleText().slice(5)).toBe('ONLY ---- ---- '); // then the write to the secondary slave fails
    expect(m.exitCode).toBe(1);
    expect(() => new Machine({ memoryMB: 4, devices: { disks: [disk('A'), disk('B'), disk('C'), disk('D')] } })).toThrow(
      /at most 3 disks besides the boot image/,
    );
  });

  it('the secondary channel raises IRQ 15 and the primary IRQ 14, each acknowledged by reading its status', () => {
    const m = new Machine({ memoryMB: 4, devices: { disks: [disk('A'), disk('B')] } });
    m.io.out(0x21, 0xfb, 1); // master: cascade only
    m.io.out(0xa1, 0x3f, 1); // slave: IRQ 14 and 15
    const irr = () => (m.io.out(0xa0, 0x0a, 1), m.io.in(0xa0, 1));
    m.io.out(0x176, 0xa0, 1); // secondary, master selected
    m.io.out(0x177, 0xe7, 1); // FLUSH CACHE: completes with an interrupt
    expect(irr() & 0x80).toBe(0x80);
    m.io.in(0x177, 1);
    expect(irr() & 0x80).toBe(0);
    m.io.out(0x1f6, 0xb0, 1); // primary slave
    m.io.out(0x1f7, 0xe7, 1);
    expect(irr() & 0x40).toBe(0x40);
  });

  it('register writes reach both devices; the selected one answers', () => {
    const m = new Machine({ memoryMB: 4, devices: { disks: [disk('A'), disk('B'), disk('C', 16)] } });
    m.io.out(0x176, 0xa0, 1);
    m.io.out(0x172, 0x33, 1);
    expect(m.io.in(0x172, 1)).toBe(0x33);
    m.io.out(0x176, 0xb0, 1); // the slave latched the same count
    expect(m.io.in(0x172, 1)).toBe(0x33);
    m.io.out(0x177, 0xec, 1); // IDENTIFY the slave: 16 sectors
    const words = Array.from({ length: 256 }, () => m.io.in(0x170, 2));
    expect(words[60]).toBe(16);
  });

  it('snapshots restore the secondary channel; lockstep runs the guest with its disks on both sides', () => {
    const m = new Machine({ memoryMB: 4, devices: { disks: [disk('A'), disk('B'), disk('C')] } });
    m.load(guest);
    const snap = m.snapshot();
    m.run(20_000_000);
    expect(m.devices.ata[1]!.disks[1]!.overlay.size).toBe(1);
    m.restore(snap);
    expect(m.devices.ata[1]!.disks[1]!.overlay.size).toBe(0);
    const r = lockstep(guest, { disks: [disk('A'), disk('B'), disk('C')], maxInstructions: 400_000, memoryEvery: 256 });
    expect(r.divergence).toBeNull();
    expect(r.stop).toBe('exit');
    expect(r.monitored.consoleText().slice(5)).toBe('A\0\0\0 B\0\0\0 C\0\0\0 WRIT ');
  });
});
