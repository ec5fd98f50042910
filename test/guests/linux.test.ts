// Debian 12's i386 Linux (linux-image-*-686-unsigned) with an initramfs of busybox-static:i386 built here
// (initramfs.ts), started through the Linux boot protocol (--format linux) and through SYSLINUX on a disk image;
// /init prints its marker and halts ("reboot: System halted"); with `ringside.shell` on the command line it first
// runs a shell that the test drives through --serial-in (console on COM1) and --keys (console on the VGA screen).
//
// Debian's 686 kernel needs a P6 CPU (CMOV) with an x87: until this build has the CPU models (--cpu) the kernel's
// real-mode setup refuses the CPU with its own message, which the tests then check instead — proof that the loader
// and the firmware got the kernel that far. Each test says in its failure message what the kernel reached.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildDir } from './debian';
import { busyboxInitramfs, debianKernel, LINUX_HALTED, LINUX_MARKER } from './initramfs';
import { syslinuxImage } from './images';
import { cliHasOption, MODES, runGuest, type GuestRun } from './run-guest';

// Budget per boot (RINGSIDE_LINUX_BUDGET raises it): a trial with the CPU models and the x87 reached "Loading compiled-in
// X.509 certificates" at kernel time 28 s (about 270 M instructions) and was still there at 3 G (README, Real guests).
const BUDGET = process.env.RINGSIDE_LINUX_BUDGET ?? '2000000000';
const MEMORY = '128';
const CPU_REFUSED = /This kernel requires an? i\d86 CPU/;
/** What the shell is given: a computation whose result only a working shell prints, then the halt. */
const shell = 'echo RINGSIDE-$((6*7))\nhalt -f\n';

let kernel: string | null = null;
let initrd: string | null = null;
let skipReason = '';
let p6 = false;

beforeAll(() => {
  const k = debianKernel();
  const i = busyboxInitramfs();
  if (k.path === null) skipReason = k.reason;
  else if (i.bytes === null) skipReason = i.reason;
  else {
    kernel = k.path;
    const dir = buildDir('linux');
    mkdirSync(dir, { recursive: true });
    initrd = path.join(dir, 'initramfs.cpio');
    writeFileSync(initrd, i.bytes);
  }
  p6 = cliHasOption('--cpu');
});

/** The furthest milestone in the guest's output, for failure messages. */
function reached(text: string): string {
  const milestones: [string, RegExp][] = [
    ['halted after the initramfs ran', new RegExp(LINUX_HALTED)],
    ['the initramfs /init', new RegExp(LINUX_MARKER)],
    ['user space (Run /init)', /Run \/init as init process/],
    ['the kernel proper (Linux version …)', /Linux version \d/],
    ['the kernel proper (timestamped messages)', /\[\s*\d+\.\d+\] /],
    ['the decompressor', /Decompressing Linux|Booting the kernel/],
    ['the setup code, which refused the CPU', CPU_REFUSED],
  ];
  return milestones.find(([, re]) => re.test(text))?.[0] ?? 'nothing the kernel printed';
}

function describeRun(r: GuestRun): string {
  const all = r.stdout + r.stderr;
  return `reached ${reached(all)}; stop ${r.summary.stop} after ${r.summary.instructions} instructions; last output:\n${all.slice(-1500)}`;
}

function cpuArgs(): string[] {
  return p6 ? ['--cpu', 'pentium-pro'] : [];
}

/** Checks a run that should halt after the marker (or, without the CPU models, stop at the CPU check). */
function expectBootedToHalt(r: GuestRun, output: string): void {
  if (!p6) {
    // The setup code prints through INT 10h: the firmware's copy of it is on port E9h (stdout).
    expect(r.stdout + r.stderr, describeRun(r)).toMatch(CPU_REFUSED);
    return;
  }
  expect(output, describeRun(r)).toContain(LINUX_MARKER);
  expect(output, describeRun(r)).toContain(LINUX_HALTED);
  expect(r.summary.stop, describeRun(r)).toBe('halt');
}

describe('Debian 12 i386 Linux', () => {
  // Bare, the --format linux run also drives the shell through --serial-in (one boot for both); monitored, the
  // plain boot. Each boot is a few billion instructions, so the runs are as few as cover the cases.
  for (const mode of MODES) {
    it(`--format linux with --initrd and --append: /init's marker, then halt${mode === 'bare' ? ', and a shell on COM1 driven through --serial-in' : ''} (${mode})`, async (ctx) => {
      if (kernel === null) return ctx.skip(skipReason);
      const input = path.join(buildDir('linux'), 'shell-input.txt');
      writeFileSync(input, shell);
      const shellArgs = mode === 'bare' ? ['--append', 'console=ttyS0 ringside.shell', '--serial-in', input] : ['--append', 'console=ttyS0'];
      const r = await runGuest(
        kernel,
        ['--format', 'linux', '--initrd', initrd!, ...shellArgs, '--memory', MEMORY, '--max-instructions', BUDGET, ...cpuArgs()],
        mode,
        'linux-format-linux',
      );
      expectBootedToHalt(r, r.stderr);
      if (p6 && mode === 'bare') {
        expect(r.stderr, describeRun(r)).toContain('RINGSIDE-LINUX-SHELL');
        expect(r.stderr, describeRun(r)).toContain('RINGSIDE-42');
        expect(r.summary.serialInUnread).toBe(0);
      }
    });
  }

  it('through SYSLINUX on a disk image (bare)', async (ctx) => {
    if (kernel === null) return ctx.skip(skipReason);
    const image = syslinuxImage({
      name: 'syslinux-linux',
      entries: [{ label: 'linux', lines: ['LINUX vmlinuz', 'INITRD initrd.img', 'APPEND console=ttyS0'] }],
      defaultLabel: 'linux',
      files: { vmlinuz: kernel, 'initrd.img': initrd! },
      sizeKiB: 16384,
    });
    if (image.path === null) return ctx.skip(image.reason);
    const r = await runGuest(image.path, ['--format', 'boot', '--memory', MEMORY, '--max-instructions', BUDGET, ...cpuArgs()], 'bare', 'linux-syslinux');
    expect(r.stdout + r.stderr, describeRun(r)).toContain('SYSLINUX 6.04');
    expectBootedToHalt(r, r.stderr);
  });

  it('an interactive shell on the VGA console, driven through --keys and read with --screen (bare)', async (ctx) => {
    if (kernel === null) return ctx.skip(skipReason);
    const keys = shell.replace(/\n/g, '\\n');
    const r = await runGuest(
      kernel,
      ['--initrd', initrd!, '--append', 'console=tty0 quiet ringside.shell', '--keys', keys, '--screen', '--memory', MEMORY, '--max-instructions', BUDGET, ...cpuArgs()],
      'bare',
      'linux-keys-shell',
    );
    if (!p6) return void expect(r.stdout + r.stderr, describeRun(r)).toMatch(CPU_REFUSED);
    expect(r.stdout, describeRun(r)).toContain('RINGSIDE-42');
    expect(r.summary.keysUnread).toBe(0);
  });
});

