// Debian's i386 Linux boot, bare, to its initramfs marker, in chunks of CHUNK guest instructions: per chunk the CPU
// seconds, MIPS, idle (HLT) time skipped, translated-block entries, and the kernel's serial output so far — the boot's
// phases (decompressor, early boot, crypto self-tests, driver probes, /init) by where the time went (issue 13):
//   node bench/linux-phases.mjs [CHUNK]              (default 250000000)
//   node --cpu-prof bench/linux-phases.mjs           (one profile of the whole boot)
// RINGSIDE_JIT=0 runs interpreter-only; RINGSIDE_HOT=N builds blocks after N arrivals (Cpu.hotThreshold); RINGSIDE_ENGINE=FILE loads another build's engine.js (bench/linux-guest.mjs).
// Never used by tests.
import { loadavg } from 'node:os';
import { linuxMachine } from './linux-guest.mjs';

const CHUNK = Number(process.argv[2] ?? 250_000_000);
const LIMIT = Number(process.env.RINGSIDE_LINUX_BUDGET ?? 9_000_000_000);
const MARKER = 'RINGSIDE-LINUX-INIT-OK';

let serial = '';
const m = linuxMachine((b) => (serial += String.fromCharCode(b)));
if (process.env.RINGSIDE_JIT === '0') m.cpu.jit = false;
if (process.env.RINGSIDE_HOT !== undefined) m.cpu.hotThreshold = Number(process.env.RINGSIDE_HOT);

/** The last complete line of serial output that a chunk produced (what the kernel was doing). */
function lastLine(from) {
  const lines = serial.slice(from).split('\n').filter((l) => l.trim() !== '');
  return lines.length === 0 ? '' : lines[lines.length - 1].slice(0, 70);
}

const t0 = process.cpuUsage();
let total = 0;
let cpuTotal = 0;
let markerAt = -1;
console.log(`chunk of ${CHUNK}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('   from (M)   CPU s   MIPS  idle (M)  chained (k)  eip        last serial line');
while (total < LIMIT) {
  const from = serial.length;
  const idle0 = m.idleInstructions;
  const chained0 = m.cpu.chainedBlockRuns;
  const c0 = process.cpuUsage();
  const r = m.run(Math.min(CHUNK, LIMIT - total));
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  cpuTotal += cpu;
  const idle = m.idleInstructions - idle0;
  console.log(
    `${(total / 1e6).toFixed(0).padStart(10)} ${cpu.toFixed(2).padStart(7)} ${((r.instructions - idle) / cpu / 1e6).toFixed(1).padStart(6)} ` +
      `${(idle / 1e6).toFixed(1).padStart(9)} ${((m.cpu.chainedBlockRuns - chained0) / 1e3).toFixed(0).padStart(12)}  ` +
      `${(m.cpu.eip >>> 0).toString(16).padStart(8, '0')}   ${lastLine(from)}`,
  );
  total += r.instructions;
  if (markerAt < 0 && serial.includes(MARKER)) markerAt = total;
  if (r.reason !== 'limit') {
    console.log(`stopped: ${r.reason}`);
    break;
  }
}
const all = process.cpuUsage(t0);
console.log(
  `total ${total} instructions (idle ${m.idleInstructions}), marker ${markerAt >= 0 ? `within the chunk ending at ${markerAt}` : 'not seen'}, ` +
    `${cpuTotal.toFixed(1)} s CPU in Machine.run (${((all.user + all.system) / 1e6).toFixed(1)} s with the rest), ` +
    `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
);
