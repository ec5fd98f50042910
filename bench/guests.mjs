// Real guests (issue 13): boot-to-marker of a GRUB 2 floppy and a SYSLINUX floppy (each multiboot-loading the
// marker kernel of test/guests/images, which exits through port 0xF4), and memtest86+'s first instructions — each
// bare and under the monitor, through `ringside run` as a user runs it, with QEMU's wall time on the same image in
// the same run when qemu-system-i386 is installed. Images are built by the test builders (Debian's grub-pc-bin,
// syslinux, memtest86+); a guest whose tools are absent is reported as skipped. Then Debian 12's i386 Linux through
// --format linux to its initramfs marker and halt (billions of instructions: minutes; BENCH_LINUX=0 leaves it out),
// beside QEMU's -kernel/-initrd/-append on the same files. Prints figures; asserts nothing.
//     node scripts/build.mjs && node bench/guests.mjs

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadBuilders } from './guest-builders.mjs';
import { ringsideEnv } from './child-env.mjs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { env: childEnv, note: envNote } = ringsideEnv();
const MEMTEST_INSTRUCTIONS = Number(process.env.BENCH_MEMTEST_INSTRUCTIONS ?? 50_000_000);

function ringside(image, monitor, extra = []) {
  const args = [join(root, 'bin/ringside.js'), 'run', image, '--format', 'boot', '--serial', 'off', '--json', ...extra, ...(monitor ? ['--monitor'] : [])];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env: childEnv, encoding: 'latin1', maxBuffer: 64 << 20, timeout: 600_000 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const out = r.stdout ?? '';
  const cut = out.lastIndexOf('{"stop"');
  if (cut < 0) return { error: `no summary (exit ${r.status}): ${(r.stderr ?? '').slice(-300)}` };
  const s = JSON.parse(out.slice(cut));
  return { stop: s.stop, instructions: s.instructions + (s.idleInstructions ?? 0), wall, monitor: s.monitor };
}

const haveQemu = spawnSync('sh', ['-c', 'command -v qemu-system-i386']).status === 0;

/** QEMU (TCG) on the same floppy until the guest writes port 0xF4 (isa-debug-exit), wall time, SeaBIOS POST included. */
function qemu(image) {
  if (!haveQemu) return null;
  const args = ['-accel', 'tcg', '-m', '16', '-fda', image, '-boot', 'a', '-display', 'none', '-serial', 'null', '-monitor', 'none', '-no-reboot',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x01'];
  const t0 = process.hrtime.bigint();
  const r = spawnSync('qemu-system-i386', args, { timeout: 120_000 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) return { error: r.error.message };
  // isa-debug-exit makes QEMU exit with (value << 1) | 1: the marker kernel's exit code 0 gives 1.
  return r.status === 1 ? { wall } : { error: `qemu exited with ${r.status}` };
}

const fmt = (x) => (x === undefined ? '—' : x.toFixed(2));

/**
 * CPU seconds (user + system) of this process's waited-for children so far, from /proc/self/stat (cutime, cstime in
 * clock ticks of 1/100 s); null where there is no /proc. On a machine shared with other work, wall time says little.
 */
function childCpuSeconds() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return null;
  }
}

function row(label, image, extra, withQemu) {
  if (image.path === null) {
    console.log(`${label.padEnd(34)} skipped: ${image.reason}`);
    return;
  }
  const bare = ringside(image.path, false, extra);
  const mon = ringside(image.path, true, extra);
  const q = withQemu ? qemu(image.path) : null;
  if (bare.error || mon.error) {
    console.log(`${label.padEnd(34)} failed: ${bare.error ?? mon.error}`);
    return;
  }
  const mips = (r) => (r.instructions / r.wall / 1e6).toFixed(1);
  const qtext = q === null ? (withQemu ? 'QEMU not installed' : 'QEMU: no comparable end') : q.error ? `QEMU failed: ${q.error}` : `QEMU ${fmt(q.wall)} s (bare/QEMU ${(bare.wall / q.wall).toFixed(2)}×)`;
  console.log(
    `${label.padEnd(34)} ${bare.instructions} instr (${bare.stop}); bare ${fmt(bare.wall)} s ${mips(bare)} MIPS; ` +
      `monitored ${fmt(mon.wall)} s ${mips(mon)} MIPS (${(mon.wall / bare.wall).toFixed(2)}× bare); ${qtext}`,
  );
}

console.log('Real guests — wall time of `ringside run` (node start-up included) and of qemu-system-i386, one run each');
if (envNote !== '') console.log(envNote);
const b = await loadBuilders();
row('GRUB 2 floppy to its kernel', b.grubFloppy('unit'), [], true);
row('SYSLINUX floppy to its kernel', b.syslinuxFloppy('multiboot'), [], true);
// The cold-code workload of bench/cold-code.asm on a floppy (QEMU boots the same floppy).
const coldDir = mkdtempSync(join(tmpdir(), 'ringside-cold-'));
const coldImage = join(coldDir, 'cold-code.img');
const cold = Buffer.alloc(1_474_560);
readFileSync(join(root, 'bench/cold-code.bin')).copy(cold);
writeFileSync(coldImage, cold);
row('cold-code workload to its exit', { path: coldImage }, [], true);
rmSync(coldDir, { recursive: true, force: true });
row(`memtest86+, first ${MEMTEST_INSTRUCTIONS / 1e6} M instructions`, b.memtestFloppy(), ['--max-instructions', String(MEMTEST_INSTRUCTIONS)], false);

// Debian 12's 686 kernel and the tests' busybox initramfs (/init prints LINUX_MARKER, then `halt -f`).
const LINUX_APPEND = 'console=ttyS0';
const LINUX_BUDGET = process.env.BENCH_LINUX_BUDGET ?? '12000000000';

/** `ringside run --format linux` to the halt; COM1 on stdout, where the marker must be. */
function ringsideLinux(kernel, initrd, monitor, marker) {
  const args = [join(root, 'bin/ringside.js'), 'run', kernel, '--format', 'linux', '--initrd', initrd, '--append', LINUX_APPEND, '--memory', '128',
    '--cpu', 'pentium-pro', '--max-instructions', LINUX_BUDGET, '--serial', 'stdout', '--json', ...(monitor ? ['--monitor'] : [])];
  const t0 = process.hrtime.bigint();
  const cpu0 = childCpuSeconds();
  const r = spawnSync(process.execPath, args, { env: childEnv, encoding: 'latin1', maxBuffer: 64 << 20, timeout: 7_200_000 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = childCpuSeconds();
  const cpu = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
  const out = r.stdout ?? '';
  const cut = out.lastIndexOf('{"stop"');
  if (cut < 0) return { error: `no summary (exit ${r.status}): ${(r.stderr ?? '').slice(-300)}` };
  const s = JSON.parse(out.slice(cut));
  if (!out.slice(0, cut).includes(marker)) return { error: `no marker (stop ${s.stop} after ${s.instructions} instructions)` };
  return { stop: s.stop, instructions: s.instructions + (s.idleInstructions ?? 0), wall, cpu, monitor: s.monitor };
}

/** QEMU (TCG, pentium2: a P6 with CMOV, as the 686 kernel needs) on the same files, wall time until the marker. */
function qemuLinux(kernel, initrd, marker) {
  if (!haveQemu) return Promise.resolve(null);
  const args = ['-accel', 'tcg', '-cpu', 'pentium2', '-m', '128', '-kernel', kernel, '-initrd', initrd, '-append', LINUX_APPEND, '-nographic',
    '-monitor', 'none', '-no-reboot'];
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const q = spawn('qemu-system-i386', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      q.kill();
      resolve(result);
    };
    // `halt -f` does not end QEMU: the marker is the end.
    const timer = setTimeout(() => finish({ error: 'no marker within 300 s' }), 300_000);
    q.stdout.on('data', (d) => {
      text = (text + d.toString('latin1')).slice(-4096);
      if (text.includes(marker)) finish({ wall: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
    q.on('error', (e) => finish({ error: e.message }));
    q.on('exit', (code) => finish({ error: `qemu exited with ${code} before the marker` }));
  });
}

async function linuxRow() {
  const label = 'Debian 12 Linux (--format linux) to /init';
  if (process.env.BENCH_LINUX === '0') return console.log(`${label.padEnd(34)} left out (BENCH_LINUX=0)`);
  const k = b.debianKernel();
  const i = b.busyboxInitramfs();
  if (k.path === null || i.bytes === null) return console.log(`${label.padEnd(34)} skipped: ${k.reason ?? i.reason}`);
  const dir = join(root, '.guests', 'build', 'bench-linux');
  mkdirSync(dir, { recursive: true });
  const initrd = join(dir, 'initramfs.cpio');
  writeFileSync(initrd, i.bytes);
  const bare = ringsideLinux(k.path, initrd, false, b.LINUX_MARKER);
  const mon = process.env.BENCH_LINUX_MONITOR === '0' ? { error: 'left out (BENCH_LINUX_MONITOR=0)' } : ringsideLinux(k.path, initrd, true, b.LINUX_MARKER);
  const q = await qemuLinux(k.path, initrd, b.LINUX_MARKER);
  if (bare.error) return console.log(`${label.padEnd(34)} failed: ${bare.error}`);
  const mips = (r) => (r.instructions / r.wall / 1e6).toFixed(1);
  // CPU time beside wall time, and the ratio by CPU time when /proc gives it (the machine may be shared).
  const cpuText = (r) => (r.cpu === null ? '' : `, CPU ${fmt(r.cpu)} s`);
  const ratio = (m) => (m.cpu !== null && bare.cpu !== null ? `${(m.cpu / bare.cpu).toFixed(2)}× bare CPU` : `${(m.wall / bare.wall).toFixed(2)}× bare wall`);
  const entries = (m) => (m.monitor ? `; ${m.monitor.totalTraps} monitor entries` : '');
  const mtext = mon.error ? `monitored: ${mon.error}` : `monitored ${fmt(mon.wall)} s${cpuText(mon)} ${mips(mon)} MIPS (${ratio(mon)}${entries(mon)})`;
  const qtext = q === null ? 'QEMU not installed' : q.error ? `QEMU failed: ${q.error}` : `QEMU ${fmt(q.wall)} s to the marker (bare/QEMU ${(bare.wall / q.wall).toFixed(2)}×)`;
  console.log(`${label.padEnd(34)} ${bare.instructions} instr to the halt (${bare.stop}); bare ${fmt(bare.wall)} s${cpuText(bare)} ${mips(bare)} MIPS; ${mtext}; ${qtext}`);
}
await linuxRow();
