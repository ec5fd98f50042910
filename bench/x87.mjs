// The x87-heavy loop (bench/x87-loop.asm) beside the integer bench-loop: CPU-time MIPS with block translation, with
// the interpreter alone and under the monitor (best of BENCH_REPEATS), and QEMU (TCG) on the same bytes booted
// from a floppy when qemu-system-i386 is installed. QEMU's figure is the difference of two runs (the loop run 1 and
// 1 + QEMU_REPEATS times, the count patched after the image's "X87REPEAT" mark), so its start-up and SeaBIOS
// are not in it. `npm run bench` calls this from bench/run.mjs; alone: node bench/x87.mjs after npm run build.

import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const engine = require(join(root, 'dist', 'engine.js'));
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const QEMU_REPEATS = 200;
const image = readFileSync(join(root, 'bench/x87-loop.bin'));

function withRepeat(count) {
  const bytes = Buffer.from(image);
  const at = bytes.indexOf('X87REPEAT') + 'X87REPEAT'.length;
  bytes.writeUInt32LE(count, at);
  return bytes;
}

function ringside(mode) {
  let best = null;
  for (let k = 0; k < REPEATS; k++) {
    const m = new engine.Machine({ memoryMB: 16 });
    if (mode === 'monitored') engine.attachMonitor(m, { sbe: 'auto' });
    m.load(image, { format: 'bin' });
    if (mode === 'interpreter only') m.cpu.jit = false;
    const t0 = process.cpuUsage();
    const r = m.run(2e9);
    const t = process.cpuUsage(t0);
    if (r.reason !== 'exit' || m.exitCode !== 0) return { error: `stopped with ${r.reason}, exit code ${m.exitCode}` };
    const cpu = (t.user + t.system) / 1e6;
    const mips = r.instructions / cpu / 1e6;
    if (best === null || mips > best.mips) best = { mips, instructions: r.instructions, cpu };
  }
  return best;
}

function qemuWall(bytes, dir) {
  const floppy = join(dir, 'x87-loop.img');
  const disk = Buffer.alloc(1474560);
  bytes.copy(disk);
  writeFileSync(floppy, disk);
  const args = ['-accel', 'tcg', '-cpu', 'pentium3', '-m', '16', '-fda', floppy, '-boot', 'a', '-display', 'none', '-serial', 'null',
    '-monitor', 'none', '-no-reboot', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x01'];
  const t0 = process.hrtime.bigint();
  const r = spawnSync('qemu-system-i386', args, { timeout: 300_000 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  // isa-debug-exit: QEMU exits with (code << 1) | 1, so the guest's exit code 0 (every check passed) gives 1.
  if (r.error) return { error: r.error.message };
  return r.status === 1 ? { wall } : { error: `qemu exited with ${r.status} (the guest's checks failed or it did not end)` };
}

function qemu(loopInstructions) {
  if (spawnSync('sh', ['-c', 'command -v qemu-system-i386']).status !== 0) return 'QEMU: qemu-system-i386 not installed';
  const dir = mkdtempSync(join(tmpdir(), 'ringside-x87-bench-'));
  try {
    const once = qemuWall(withRepeat(1), dir);
    const many = qemuWall(withRepeat(1 + QEMU_REPEATS), dir);
    if (once.error || many.error) return `QEMU failed: ${once.error ?? many.error}`;
    const mips = (QEMU_REPEATS * loopInstructions) / (many.wall - once.wall) / 1e6;
    return `QEMU TCG ${mips.toFixed(1)} MIPS (wall, ${QEMU_REPEATS} extra runs of the loop: ${(many.wall - once.wall).toFixed(2)} s)`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`x87-loop (8 of every 10 instructions x87: FMUL/FADD m32, FSQRT, FLD, FDIV m32, FADDP, FST m64, FIST m32; best of ${REPEATS})`);
let instructions = 0;
for (const mode of ['bare', 'interpreter only', 'monitored']) {
  const r = ringside(mode);
  if (r.error) {
    console.log(`${`x87-loop (${mode})`.padEnd(40)} failed: ${r.error}`);
    continue;
  }
  instructions = r.instructions;
  console.log(`${`x87-loop (${mode})`.padEnd(40)} ${r.mips.toFixed(2).padStart(7)} MIPS  (${r.instructions} instructions, ${r.cpu.toFixed(2)} s CPU)`);
}
// Instructions of one run of the loop and its checks, without the set-up before it (measured: the same on QEMU).
if (instructions > 0) console.log(`${'x87-loop (QEMU)'.padEnd(40)} ${qemu(instructions)}`);
