// Real guests (issue 13): boot-to-marker of a GRUB 2 floppy and a SYSLINUX floppy (each multiboot-loading the
// marker kernel of test/guests/images, which exits through port 0xF4), and memtest86+'s first instructions — each
// bare and under the monitor, through `ringside run` as a user runs it, with QEMU's wall time on the same image in
// the same run when qemu-system-i386 is installed. Images are built by the test builders (Debian's grub-pc-bin,
// syslinux, memtest86+); a guest whose tools are absent is reported as skipped. Prints figures; asserts nothing.
//     node scripts/build.mjs && node bench/guests.mjs

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const MEMTEST_INSTRUCTIONS = Number(process.env.BENCH_MEMTEST_INSTRUCTIONS ?? 50_000_000);

/** The test builders, bundled for this process; each module keeps its own __dirname (they find files by it). */
async function loadBuilders() {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-'));
  const out = join(dir, 'images.cjs');
  const ownDirname = {
    name: 'own-dirname',
    setup(b) {
      b.onLoad({ filter: /test[\\/]guests[\\/].*\.ts$/ }, (args) => ({
        contents: readFileSync(args.path, 'utf8').replace(/\b__dirname\b/g, JSON.stringify(dirname(args.path))),
        loader: 'ts',
      }));
    },
  };
  await build({ entryPoints: [join(root, 'test/guests/images/index.ts')], outfile: out, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent', plugins: [ownDirname] });
  const builders = require(out);
  rmSync(dir, { recursive: true, force: true });
  return builders;
}

function ringside(image, monitor, extra = []) {
  const args = [join(root, 'bin/ringside.js'), 'run', image, '--format', 'boot', '--serial', 'off', '--json', ...extra, ...(monitor ? ['--monitor'] : [])];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'latin1', maxBuffer: 64 << 20, timeout: 600_000 });
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
const b = await loadBuilders();
row('GRUB 2 floppy to its kernel', b.grubFloppy('unit'), [], true);
row('SYSLINUX floppy to its kernel', b.syslinuxFloppy('multiboot'), [], true);
row(`memtest86+, first ${MEMTEST_INSTRUCTIONS / 1e6} M instructions`, b.memtestFloppy(), ['--max-instructions', String(MEMTEST_INSTRUCTIONS)], false);
