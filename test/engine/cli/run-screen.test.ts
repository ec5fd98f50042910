// `ringside run` with the screen and keyboard options (--keys, --serial-in, --screen, --screenshot), --serial
// stdout without the firmware's copy of BIOS text, and the Linux options' one-line errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'bin', 'ringside.js');
let dir: string;

function ringside(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** screen-io.bin (or another boot fixture with a command byte at offset 1F0h) with its command byte set. */
function bootWith(command: string, fixture = 'screen-io'): string {
  const sector = readFileSync(join(root, 'test', 'fixtures', 'boot', `${fixture}.bin`));
  sector[0x1f0] = command.charCodeAt(0);
  const file = join(dir, `${fixture}-${command}.img`);
  writeFileSync(file, sector);
  return file;
}

beforeAll(() => {
  spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'ringside-screen-'));
});

describe('ringside run: screen and keyboard', () => {
  it('types --keys on the keyboard, read through the BIOS (INT 16h)', () => {
    const r = ringside(['run', bootWith('k'), '--keys', 'a\\x41\\n', '--max-instructions', '50000000']);
    expect(r.stdout).toBe('aA\r');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('types a line of --keys only once the guest waits for input: a late reader loses none of it', () => {
    // key-readers 'l' throws keys away while it computes, as a booting kernel with no console reader does, then
    // idles and keeps three make codes (a, b, Enter).
    const r = ringside(['run', bootWith('l', 'key-readers'), '--keys', 'ab\\n', '--max-instructions', '100000000', '--json']);
    expect(r.stderr).toBe('');
    expect(r.stdout.startsWith('\x1e\x30\x1c')).toBe(true);
    expect(JSON.parse(r.stdout.slice(3))).toMatchObject({ stop: 'exit', exitCode: 0 });
  });

  it('types --keys into a guest that never halts but polls for keys through INT 16h AH=01h', () => {
    const r = ringside(['run', bootWith('p', 'key-readers'), '--keys', 'xy\\n', '--max-instructions', '100000000']);
    expect(r.stdout).toBe('xy\r');
    expect(r.code).toBe(0);
  });

  it('says which keys the guest never read, and keeps its exit code', () => {
    const r = ringside(['run', bootWith('v'), '--keys', 'xyz', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('ringside: the guest never read 3 of the 3 keys of --keys\n');
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ stop: 'exit', keysUnread: 3 });
  });

  it('refuses keys no keyboard types, in one line', () => {
    for (const [keys, message] of [
      ['a\\q', 'ringside: option --keys: unknown escape "\\q"\n'],
      ['ü', 'ringside: option --keys: no key on a US keyboard types U+00FC\n'],
    ]) {
      const r = ringside(['run', bootWith('k'), '--keys', keys]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(message);
    }
  });

  it('feeds --serial-in from a file and from stdin to COM1 as the guest reads it', () => {
    const file = join(dir, 'in.txt');
    writeFileSync(file, 'xyz');
    expect(ringside(['run', bootWith('s'), '--serial-in', file, '--max-instructions', '50000000']).stdout).toBe('xyz');
    const r = ringside(['run', bootWith('s'), '--serial-in', '-', '--max-instructions', '50000000'], 'q\n!');
    expect(r.stdout).toBe('q\n!');
    const missing = ringside(['run', bootWith('s'), '--serial-in', join(dir, 'nope.txt')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`ringside: option --serial-in: cannot read ${join(dir, 'nope.txt')}: ENOENT\n`);
  });

  it('prints the text screen after the run with --screen', () => {
    const r = ringside(['run', bootWith('v'), '--screen']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('VGA');
    expect(lines.length).toBe(26); // 25 rows and the final newline
  });

  it('writes the screen as a PNG with --screenshot, and refuses a name that is not .png', (ctx) => {
    const file = join(dir, 'shot.png');
    const r = ringside(['run', bootWith('v'), '--screenshot', file]);
    // The VGA font comes from Debian's console-setup-linux (scripts/install-guest-tools.sh, then the build).
    if (/no VGA font/.test(r.stderr)) return ctx.skip(`skipped: ${r.stderr.trim()}`);
    expect(r.stderr).toBe('');
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([640, 400]);
    const bad = ringside(['run', bootWith('v'), '--screenshot', join(dir, 'shot.gif')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ringside: option --screenshot: ".*shot.gif" is not a .png file name\n$/);
  });

  it('--serial stdout shows text printed through the BIOS and COM1 once, not interleaved', () => {
    const r = ringside(['run', bootWith('b'), '--serial', 'stdout']);
    expect(r.stdout).toBe('Hi');
    expect(r.stderr).toBe('Hi'); // the firmware's copy of its teletype output
  });
});

describe('ringside run: Linux options', () => {
  it('refuses a missing initrd, one that does not fit, a broken bzImage and an initrd for a non-Linux image, in one line each', () => {
    const fake = join(root, 'test', 'fixtures', 'linux', 'fake-bzimage.bin');
    const missing = ringside(['run', fake, '--initrd', join(dir, 'none.cpio')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`ringside: option --initrd: cannot read ${join(dir, 'none.cpio')}: ENOENT\n`);
    const broken = readFileSync(fake);
    broken.write('Junk', 0x202, 'latin1');
    writeFileSync(join(dir, 'broken.bin'), broken);
    const r = ringside(['run', join(dir, 'broken.bin'), '--format', 'linux']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('ringside: not a Linux bzImage: no "HdrS" setup header at offset 0x202 (boot protocol 2.00 or later)\n');
    writeFileSync(join(dir, 'big.cpio'), Buffer.alloc(15 * 1024 * 1024));
    const big = ringside(['run', fake, '--initrd', join(dir, 'big.cpio'), '--memory', '16']);
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/^ringside: the initrd \(15728640 bytes\) does not fit in guest memory: .* \(use a larger --memory\)\n$/);
    const notLinux = ringside(['run', bootWith('v'), '--append', 'quiet']);
    expect(notLinux.code).toBe(1);
    expect(notLinux.stderr).toBe('ringside: an initrd and a kernel command line need a Linux bzImage (format linux), this image is boot\n');
  });

  it('boots the stand-in bzImage with --append and --initrd', () => {
    const initrd = join(dir, 'initrd.bin');
    writeFileSync(initrd, Buffer.alloc(4096, 7));
    const r = ringside(['run', join(root, 'test', 'fixtures', 'linux', 'fake-bzimage.bin'), '--initrd', initrd, '--append', 'console=ttyS0']);
    expect(r.code).toBe(0);
    // The initrd's last page ends where the ACPI tables' 64 KiB at the top of the 16 MiB begin.
    expect(r.stdout).toMatch(/^setup cs=1020 ds=1000 ss=1000 sp=0000 loader=FF loadflags=81 heap_end=FE00 initrd=00FEF000\+00001000 cmdline=\[console=ttyS0\]\n$/);
  });
});
