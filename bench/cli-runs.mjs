// `ringside run` of the GRUB floppy (or IMAGE) as a user runs it, node's start-up included, for configurations that
// differ in the CLI (a checkout's bin/ringside.js), node's flags or the environment, run in alternating turns so load
// changes hit every configuration alike (issue 13). Prints wall and CPU seconds (user + system of the child, all its
// threads: V8's compiler and GC threads too) per run and the medians per configuration; asserts nothing.
//     node bench/cli-runs.mjs PAIRS 'main=/work/main' 'mine=.' 'maglev=.|--maglev' 'nowasm=.||RINGSIDE_WASM=0'
// A configuration is LABEL=CHECKOUT[|NODE_FLAGS (space-separated)[|ENV=VALUE ...]]. BENCH_IMAGE=path runs another
// boot image. The children run without NODE_EXTRA_CA_CERTS (bench/child-env.mjs; BENCH_KEEP_ENV=1 keeps it).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBuilders } from './guest-builders.mjs';
import { ringsideEnv } from './child-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [pairsArg, ...specs] = process.argv.slice(2);
if (pairsArg === undefined || specs.length === 0) {
  console.log("usage: node bench/cli-runs.mjs PAIRS LABEL=CHECKOUT[|NODE_FLAGS[|ENV=VALUE ...]] ...");
  process.exit(2);
}
const image = process.env.BENCH_IMAGE ?? (await loadBuilders()).grubFloppy('unit').path;
if (image === null) throw new Error('no GRUB floppy (grub-pc-bin missing?)');

const configs = specs.map((spec) => {
  const eq = spec.indexOf('=');
  const [checkout, flags = '', env = ''] = spec.slice(eq + 1).split('|');
  return {
    label: spec.slice(0, eq),
    cli: join(resolve(root, checkout), 'bin/ringside.js'),
    flags: flags.split(' ').filter((f) => f !== ''),
    env: Object.fromEntries(env.split(' ').filter((e) => e !== '').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    runs: [],
  };
});

/** CPU seconds of this process's waited-for children so far (cutime + cstime in ticks of 1/100 s). */
function childCpuSeconds() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

const { env: childEnv, note: envNote } = ringsideEnv();
if (envNote !== '') console.log(envNote);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (let pair = 0; pair < Number(pairsArg); pair++) {
  for (const c of configs) {
    const cpu0 = childCpuSeconds();
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [...c.flags, c.cli, 'run', image, '--format', 'boot', '--serial', 'off', '--json'], {
      encoding: 'latin1',
      env: { ...childEnv, ...c.env },
    });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = childCpuSeconds() - cpu0;
    const out = r.stdout ?? '';
    const cut = out.lastIndexOf('{"stop"');
    if (cut < 0) throw new Error(`${c.label}: no summary (exit ${r.status}): ${(r.stderr ?? '').slice(-300)}`);
    const s = JSON.parse(out.slice(cut));
    c.runs.push({ wall, cpu, inside: s.seconds });
    console.log(
      `${c.label.padEnd(12)} ${s.instructions} instr (${s.stop}); wall ${wall.toFixed(3)} s, CPU ${cpu.toFixed(2)} s, ` +
        `in Machine.run ${s.seconds.toFixed(3)} s wall; load ${loadavg()[0].toFixed(2)}`,
    );
  }
}
console.log('medians:');
for (const c of configs) {
  const m = (k) => median(c.runs.map((r) => r[k])).toFixed(3);
  console.log(`${c.label.padEnd(12)} wall ${m('wall')} s, CPU ${m('cpu')} s, in Machine.run ${m('inside')} s`);
}
