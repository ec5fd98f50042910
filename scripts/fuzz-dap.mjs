// The DAP fuzzer from the command line (the test suite runs it briefly: test/debug-adapter/fuzz-dap.test.ts).
//     node scripts/build.mjs && node scripts/fuzz-dap.mjs [--runs N] [--seed S] [--steps K] [--seconds T]
// Runs N adapter sessions (default 50) of K requests each (default 200) from seed S (default 1), for at most T
// seconds (default 600); prints the figures and every crash, hang and bug found; exit code 1 if there was one.
import { buildSync } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const opts = { runs: 50, seed: 1, steps: 200, seconds: 600, answerMs: 20000 };
const argv = process.argv.slice(2);
for (let k = 0; k < argv.length; k++) {
  const name = argv[k].replace(/^--/, '');
  if (name === 'help' || name === 'h') {
    console.log('usage: node scripts/fuzz-dap.mjs [--runs N] [--seed S] [--steps K] [--seconds T]');
    process.exit(0);
  }
  const value = Number(argv[++k]);
  if (!(name in opts) || !Number.isInteger(value) || value < 0) {
    console.error(`fuzz-dap: bad option ${argv[k - 1]} ${argv[k] ?? ''} (see --help)`);
    process.exit(1);
  }
  opts[name] = value;
}
// The fuzzer is TypeScript beside the tests; bundle it for node.
const dir = mkdtempSync(join(tmpdir(), 'ringside-fuzz-build-'));
const out = join(dir, 'dap-fuzzer.mjs');
buildSync({ entryPoints: [join(root, 'test/debug-adapter/dap-fuzzer.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', logLevel: 'error' });
const { fuzzDap } = await import(pathToFileURL(out).href);
rmSync(dir, { recursive: true, force: true });
const report = await fuzzDap({ ...opts, root, log: (line) => process.stderr.write(line + '\n') });
console.log(
  `${report.runs} sessions, ${report.requests} requests (${report.answered} answered, ${report.refused} of them refused with a message), ` +
    `${report.launchesStarted} launches started, ${report.malformedFrames} malformed frames, ` +
    `${report.crashes.length} crashes, ${report.hangs.length} hangs, ${report.bugs.length} bugs, ${report.seconds.toFixed(0)} s (seed ${opts.seed})`,
);
for (const line of [...report.crashes, ...report.hangs, ...report.bugs]) console.log('  ' + line);
process.exitCode = report.crashes.length + report.hangs.length + report.bugs.length > 0 ? 1 : 0;
