// Debian 12's i386 Linux (linux-image-*-686-unsigned, on the pentium-pro model) with an initramfs of busybox-static:i386
// built here (initramfs.ts), started through the Linux boot protocol (--format linux) and through SYSLINUX on a disk
// image, each with a plain command line: /init prints its marker and halts ("reboot: System halted").
//
// A boot is billions of instructions (the XZ decompressor alone about 2.3 G, the crypto self-tests about 3 G), so the
// runs are as few as cover the cases: one bare --format linux boot also drives busybox's shell on COM1 through
// --serial-in, one drives it on the VGA console through --keys, one bare boot goes through SYSLINUX, and the COM1
// shell boot runs again under the monitor (about 1.2x the bare CPU time) through the CLI, and bare and monitored with
// every listener on in this process — the same command line and input, so the runs must agree to the instruction at
// every output byte (guest time, issue 16); the SYSLINUX boot runs monitored too, compared with its bare run the same way.
// Each test says in its failure message what the kernel reached.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildDir } from './debian';
import { busyboxInitramfs, debianKernel, LINUX_HALTED, LINUX_MARKER } from './initramfs';
import { syslinuxImage } from './images';
import { runGuest, type GuestRun, type Mode } from './run-guest';
import { realTimeline } from '../engine/monitor/guest-timeline';
import { SLICE } from '../../engine/machine/machine';

// Budget per boot (RINGSIDE_LINUX_BUDGET changes it): the boot to the halt took 6,779,894,109 instructions through
// SYSLINUX (README, Real guests); the budget leaves room without letting a stalled boot run for hours.
const BUDGET = process.env.RINGSIDE_LINUX_BUDGET ?? '9000000000';
const MEMORY = '128';
/** A boot's own deadline: runGuest kills the run after 25 minutes, and the test says so before vitest's 15 do. */
const BOOT_TIMEOUT = 1_600_000;
const CPU = ['--cpu', 'pentium-pro'];
/** The CLI's slice (engine/cli/run.ts), for the in-process boot. */
const CLI_SLICE = SLICE * 16;
/** The in-process listeners-on boot has no runGuest deadline of its own. */
const LISTENERS_TIMEOUT = 3_600_000;
/** Sent on COM1 to the shell: a computation only a working shell prints the result of, then the halt. */
const SERIAL_SHELL = 'echo RINGSIDE-$((6*7))\nhalt -f\n';
/** The COM1 shell boot's command line, bare and monitored. */
const SHELL_APPEND = 'console=ttyS0 ringside.shell';
/** The COM1 shell boot of each mode, once its test has run: the guest-time comparison reads both. */
const shellBoots = new Map<Mode, { run: GuestRun; times: string[] }>();
/** The two SYSLINUX boots (bare and monitor) with their output times, for the guest-time comparison. */
const syslinuxBoots = new Map<Mode, { run: GuestRun; times: string[] }>();
/** The same typed on the PS/2 keyboard (--keys takes C escapes). */
const VGA_SHELL_KEYS = 'echo RINGSIDE-$((6*7))\\nhalt -f\\n';

let kernel: string | null = null;
let initrd: string | null = null;
let skipReason = '';

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
});

/** The furthest milestone in the guest's output, for failure messages. */
function reached(text: string): string {
  const milestones: [string, RegExp][] = [
    ['halted after the initramfs ran', new RegExp(LINUX_HALTED)],
    ['the initramfs /init', new RegExp(LINUX_MARKER)],
    ['user space (Run /init)', /Run \/init as init process/],
    ['the crypto self-tests (after the X.509 certificates)', /X\.509 cert/],
    ['the kernel proper (Linux version …)', /Linux version \d/],
    ['the kernel proper (timestamped messages)', /\[\s*\d+\.\d+\] /],
    ['the decompressor', /Decompressing Linux|Booting the kernel/],
  ];
  return milestones.find(([, re]) => re.test(text))?.[0] ?? 'nothing the kernel printed';
}

function describeRun(r: GuestRun): string {
  const all = r.stdout + r.stderr;
  return `reached ${reached(all)}; stop ${r.summary.stop} after ${r.summary.instructions} instructions; last output:\n${all.slice(-1500)}`;
}

/** The kernel's console on COM1 shows the marker, then the halt; the run ends on it. */
function expectBootedToHalt(r: GuestRun, serial: string): void {
  expect(serial, describeRun(r)).toContain(LINUX_MARKER);
  expect(serial, describeRun(r)).toContain(LINUX_HALTED);
  expect(r.summary.stop, describeRun(r)).toBe('halt');
}

function bootFormatLinux(mode: Mode, append: string, extra: string[] = [], figure = `linux-format-linux${extra.length > 0 ? '-shells' : ''}`): Promise<GuestRun> {
  return runGuest(
    kernel!,
    ['--format', 'linux', '--initrd', initrd!, '--append', append, ...extra, '--memory', MEMORY, '--max-instructions', BUDGET, ...CPU],
    mode,
    figure,
  );
}

async function bootSyslinux(mode: Mode): Promise<GuestRun | string> {
  const image = syslinuxImage({
    name: 'syslinux-linux',
    entries: [{ label: 'linux', lines: ['LINUX vmlinuz', 'INITRD initrd.img', 'APPEND console=ttyS0'] }],
    defaultLabel: 'linux',
    files: { vmlinuz: kernel!, 'initrd.img': initrd! },
    sizeKiB: 16384,
  });
  if (image.path === null) return image.reason;
  const timesFile = path.join(buildDir('linux'), `syslinux-${mode}.times`);
  const r = await runGuest(image.path, ['--format', 'boot', '--output-times', timesFile, '--memory', MEMORY, '--max-instructions', BUDGET, ...CPU], mode, 'linux-syslinux');
  syslinuxBoots.set(mode, { run: r, times: readFileSync(timesFile, 'utf8').trimEnd().split('\n') });
  return r;
}

/**
 * The --format linux boot with busybox's shell on COM1, fed through --serial-in; records the guest time of every
 * output byte (--output-times) for the bare/monitored comparison.
 */
async function bootComShell(mode: Mode): Promise<GuestRun> {
  const dir = buildDir('linux');
  const input = path.join(dir, 'serial-shell.txt');
  writeFileSync(input, SERIAL_SHELL);
  const timesFile = path.join(dir, `serial-shell-${mode}.times`);
  // COM1 takes receive interrupts only once /dev/console (ttyS0) is open, so the bytes reach the shell's tty.
  const r = await bootFormatLinux(mode, SHELL_APPEND, ['--serial-in', input, '--output-times', timesFile]);
  expectBootedToHalt(r, r.stderr);
  expect(r.stderr, describeRun(r)).toContain('RINGSIDE-LINUX-SHELL');
  // The shell's result, not the echoed line (which shows `$((6*7))`): busybox read the bytes and ran them.
  expect(r.stderr, describeRun(r)).toContain('RINGSIDE-42');
  expect(r.summary.serialInUnread).toBe(0);
  shellBoots.set(mode, { run: r, times: readFileSync(timesFile, 'utf8').trimEnd().split('\n') });
  return r;
}

/** The output bytes of `times` lines (`COUNT CHANNEL HH`) from `from` to `to`, as text, for failure messages. */
function textOf(times: string[], from: number, to: number): string {
  return Buffer.from(times.slice(Math.max(0, from), to).map((l) => parseInt(l.split(' ')[2], 16))).toString('latin1');
}

/** The bare COM1 shell boot's output times `b` and another run's `m` are the same lines; says where they part. */
function expectSameTimes(b: string[], m: string[], other: string): void {
  const first = b.findIndex((line, k) => m[k] !== line);
  const at = first >= 0 ? first : b.length < m.length ? b.length : -1;
  if (at >= 0) {
    throw new Error(
      `output byte ${at} differs: bare "${b[at] ?? '(ended)'}", ${other} "${m[at] ?? '(ended)'}" (COUNT CHANNEL BYTE); ` +
        `bare output before it:\n${textOf(b, at - 400, at)}\nbare from it:\n${textOf(b, at, at + 200)}\n${other} from it:\n${textOf(m, at, at + 200)}`,
    );
  }
}

describe('Debian 12 i386 Linux', () => {
  it('--format linux with --initrd and --append: /init, a shell on COM1 driven through --serial-in, then halt (bare)', { timeout: BOOT_TIMEOUT }, async (ctx) => {
    if (kernel === null) return ctx.skip(skipReason);
    await bootComShell('bare');
  });

  it('--format linux with a shell on the VGA console driven through --keys, its answer on the screen (bare)', { timeout: BOOT_TIMEOUT }, async (ctx) => {
    if (kernel === null) return ctx.skip(skipReason);
    // /dev/console is the last console= (tty0): /init and its shell use the VGA text screen and the PS/2 keyboard,
    // while the kernel's messages also go to COM1. The kernel takes keys in its i8042 interrupt handler minutes of
    // guest time before /init opens the console; --keys types each line only once the guest idles (at the prompt).
    const screenshot = path.join(buildDir('linux'), 'vga-shell.png');
    const r = await bootFormatLinux('bare', 'console=ttyS0 console=tty0 ringside.shell', ['--keys', VGA_SHELL_KEYS, '--screen', '--screenshot', screenshot], 'linux-format-linux-vga-shell');
    const screen = r.stdout;
    expect(screen, describeRun(r)).toContain(LINUX_MARKER);
    expect(screen, describeRun(r)).toContain('RINGSIDE-LINUX-SHELL');
    // The shell's result, on a line of its own (the echoed command shows `$((6*7))`).
    expect(screen, `screen:\n${screen}`).toMatch(/^RINGSIDE-42$/m);
    expect(r.stderr, describeRun(r)).toContain(LINUX_HALTED);
    expect(r.summary.stop, describeRun(r)).toBe('halt');
    expect(r.summary.keysUnread).toBe(0);
  });

  it('through SYSLINUX on a disk image (bare)', { timeout: BOOT_TIMEOUT }, async (ctx) => {
    if (kernel === null) return ctx.skip(skipReason);
    const r = await bootSyslinux('bare');
    if (typeof r === 'string') return ctx.skip(r);
    expect(r.stdout + r.stderr, describeRun(r)).toContain('SYSLINUX 6.04');
    expectBootedToHalt(r, r.stderr);
  });

  // Linux keeps its GDT and IDT at 0xC1xxxxxx: the monitor's table watch once walked a million pages per entry there,
  // and this boot missed its 25-minute deadline. Measured since: 351 s of wall time, 222 s of CPU (bare: 183 s).
  it('--format linux with the shell on COM1 driven through --serial-in (monitor)', { timeout: BOOT_TIMEOUT }, async (ctx) => {
    if (kernel === null) return ctx.skip(skipReason);
    await bootComShell('monitor');
  });

  // Guest time is the count of retired instructions and nothing else (issue 16): the monitor must not move the
  // kernel's clock. The kernel's log carries it (printk timestamps, the TSC calibration, jiffies), and so does every
  // byte's instruction count, the shell's answer to --serial-in included.
  it('the monitored COM1 shell boot equals the bare one: every output byte at the same instruction count, the same end', (ctx) => {
    const bare = shellBoots.get('bare');
    const monitored = shellBoots.get('monitor');
    if (bare === undefined || monitored === undefined) return ctx.skip('needs both COM1 shell boots of this file (bare and monitor) to have passed');
    const b = bare.times;
    expectSameTimes(b, monitored.times, 'monitored');
    expect(b.length).toBeGreaterThan(10_000); // the kernel's whole log, not a few bytes
    expect(textOf(b, 0, b.length)).toMatch(/\[\s*\d+\.\d{6}\] /); // with its timestamps
    expect(monitored.run.stderr).toBe(bare.run.stderr);
    const end = (r: GuestRun) => ({ stop: r.summary.stop, instructions: r.summary.instructions, idle: r.summary.idleInstructions });
    expect(end(monitored.run)).toEqual(end(bare.run));
  });

  // The same boot with every listener a debugger or a trace can arm (every event, instruction breakpoints, a logpoint
  // run on from, read and write data watches: test/engine/monitor/guest-timeline.ts), bare and monitored, in this
  // process in the CLI's slices. Data watches once turned translated blocks off and the monitored boot took about 23
  // minutes of CPU; watched pages now take the blocks' slow path only (engine/cpu/watch.ts). Each reuses the bare
  // boot above as its reference, so each costs one boot: about 2 (bare) and 5 (monitored) minutes of wall time on
  // 2 cores (README, Guest time).
  for (const mode of ['bare', 'monitor'] as const) {
    const label = mode === 'bare' ? 'bare' : 'monitored';
    it(`${label} with every listener on, in this process: every output byte and the end at the bare boot's instruction count`, { timeout: LISTENERS_TIMEOUT }, async (ctx) => {
      const bare = shellBoots.get('bare');
      if (bare === undefined) return ctx.skip('needs the bare COM1 shell boot of this file to have passed');
      const t = await realTimeline(
        {
          image: readFileSync(kernel!),
          load: { format: 'linux', initrd: readFileSync(initrd!), append: SHELL_APPEND },
          memoryMB: Number(MEMORY),
          model: 'pentium-pro',
          limit: Number(BUDGET),
          serialIn: Buffer.from(SERIAL_SHELL),
        },
        { monitor: mode === 'monitor', listeners: true, slice: CLI_SLICE },
      );
      expectSameTimes(bare.times, t.bytes, `${label} with every listener on`);
      const s = bare.run.summary;
      expect({ stop: t.stop, end: t.end }).toEqual({ stop: s.stop, end: s.instructions + s.idleInstructions });
    });
  }

  it('through SYSLINUX on a disk image (monitor), every output byte and the end at the bare boot\'s counts', { timeout: BOOT_TIMEOUT }, async (ctx) => {
    if (kernel === null) return ctx.skip(skipReason);
    const r = await bootSyslinux('monitor');
    if (typeof r === 'string') return ctx.skip(r);
    expect(r.stdout + r.stderr, describeRun(r)).toContain('SYSLINUX 6.04');
    expectBootedToHalt(r, r.stderr);
    // Guest time through a boot loader too (issue 16): SYSLINUX's real-mode BIOS calls and mode switches run under the
    // monitor's engagements and disengagements, so every byte and the end must come at the bare boot's counts.
    const bare = syslinuxBoots.get('bare');
    if (bare === undefined) return ctx.skip('needs the bare SYSLINUX boot of this file to have passed');
    expectSameTimes(bare.times, syslinuxBoots.get('monitor')!.times, 'monitored');
    expect({ stop: r.summary.stop, instructions: r.summary.instructions, idle: r.summary.idleInstructions }).toEqual({
      stop: bare.run.summary.stop,
      instructions: bare.run.summary.instructions,
      idle: bare.run.summary.idleInstructions,
    });
  });
});
