// `ringside conform DIR|FILE [--limit N] [--filter GLOB] [--show N] [--json]` (design/interfaces.md).
//
// Output: one line per file, the skip reasons with their counts, the first N failing tests described (file, index,
// name, bytes, first differing register or memory byte), with --json one JSON object, and as the last line exactly
// `N passed, M failed, K skipped`. Exit code 0 only when nothing failed and every file could be read; 1 on bad
// options, a missing path, an unreadable file or any failure.

import { basename } from 'node:path';
import { ConformReport, runConformance } from '../conformance/conform-run';

const DEFAULT_SHOW = 10;

interface ConformArgs {
  target: string;
  limit?: number;
  filter?: string;
  show: number;
  json: boolean;
}

class UsageError extends Error {}

const USAGE = 'usage: ringside conform DIR|FILE [--limit N] [--filter GLOB] [--show N] [--json]';

function parseCount(option: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new UsageError(`${option} needs a non-negative integer, got ${value ?? 'nothing'}`);
  if (Number(value) > Number.MAX_SAFE_INTEGER) throw new UsageError(`${option} "${value}" is too large (at most ${Number.MAX_SAFE_INTEGER})`);
  return Number(value);
}

function parseArgs(argv: string[]): ConformArgs {
  const args: ConformArgs = { target: '', show: DEFAULT_SHOW, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (name) {
      case '--limit': args.limit = parseCount('--limit', value()); break;
      case '--show': args.show = parseCount('--show', value()); break;
      case '--filter': {
        const v = value();
        if (!v) throw new UsageError('--filter needs a glob');
        args.filter = v;
        break;
      }
      case '--json': args.json = true; break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        if (args.target) throw new UsageError(`more than one DIR|FILE given (${args.target}, ${a})`);
        args.target = a;
    }
  }
  if (!args.target) throw new UsageError('no DIR|FILE given');
  return args;
}

export function summaryLine(r: ConformReport): string {
  return `${r.passed} passed, ${r.failed} failed` + (r.skipped > 0 ? `, ${r.skipped} skipped` : '');
}

function reportJson(r: ConformReport): string {
  return JSON.stringify({
    passed: r.passed, failed: r.failed, skipped: r.skipped, errors: r.errors,
    files: r.files.map((f) => ({ file: f.path, cpu: f.cpuId, passed: f.passed, failed: f.failed, skipped: f.skipped, error: f.error ?? undefined })),
    failures: r.failures,
    skipReasons: Object.fromEntries(r.skipReasons),
  });
}

export async function conformCommand(argv: string[]): Promise<number> {
  let args: ConformArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`ringside conform: ${(e as Error).message}\n${USAGE}\n`);
    return 1;
  }
  let report: ConformReport;
  try {
    report = runConformance(args.target, { limit: args.limit, filter: args.filter });
  } catch (e) {
    process.stderr.write(`ringside conform: ${(e as Error).message}\n`);
    return 1;
  }
  const out: string[] = [];
  for (const f of report.files) {
    if (f.error) out.push(`${f.path}: error: ${f.error}`);
    else out.push(`${f.path} (${f.cpuId}): ${f.passed} passed, ${f.failed} failed${f.skipped ? `, ${f.skipped} skipped` : ''}`);
  }
  // Nothing run is not a pass: an empty folder or a filter that matches nothing is said, and exits 1.
  const ranNothing = report.passed + report.failed + report.skipped === 0 && report.errors === 0;
  if (report.files.length === 0) out.push(`no .MOO or .MOO.gz files${args.filter ? ` matching ${args.filter}` : ''} in ${args.target}: nothing was run`);
  else if (ranNothing) out.push(`no test ran (the files hold none${args.limit === 0 ? ', or --limit 0' : ''})`);
  for (const [reason, count] of [...report.skipReasons].sort((a, b) => b[1] - a[1])) out.push(`skipped ${count}: ${reason}`);
  for (const t of report.failures.slice(0, args.show)) {
    out.push(`FAIL ${basename(t.file)} #${t.index} ${t.name} [${t.bytes}]: ${t.reason}`);
  }
  if (report.failures.length > args.show) out.push(`… ${report.failures.length - args.show} more failing tests (--show N)`);
  if (args.json) out.push(reportJson(report));
  out.push(summaryLine(report));
  process.stdout.write(out.join('\n') + '\n');
  return report.failed === 0 && report.errors === 0 && !ranNothing ? 0 : 1;
}
