// Running a directory (or one file) of MOO vectors: reading each file, finding its companions (revocation list,
// undefined-flag masks), running every test and collecting the outcome per file.

import { readFileSync } from 'node:fs';
import { IoBus } from '../bus/io-bus';
import { profileFor } from './cpu-profile';
import { FlagMaskTable, loadCsvMasks, loadMetadataMasks } from './flag-masks';
import { readMoo } from './moo-reader';
import { MooTest } from './moo-types';
import { RecordingMemory } from './recording-memory';
import { loadRevocationList } from './revocation-list';
import { DEFAULT_STEP_LIMIT, runTest, TestOutcome } from './run-test';
import { findCompanion, findMooFiles, globToRegExp, matchesFilter } from './test-files';

export interface ConformOptions {
  /** Tests per file (the first N). */
  limit?: number;
  /** Shell glob on file names. */
  filter?: string;
  stepLimit?: number;
  /** Called after each test (progress, custom reporting). */
  onTest?: (file: string, test: MooTest, outcome: TestOutcome) => void;
}

export interface FailedTest {
  file: string;
  index: number;
  name: string;
  bytes: string;
  reason: string;
}

export interface FileResult {
  path: string;
  cpuId: string;
  passed: number;
  failed: number;
  skipped: number;
  /** Set when the file could not be read or run at all. */
  error: string | null;
}

export interface ConformReport {
  files: FileResult[];
  passed: number;
  failed: number;
  skipped: number;
  /** Files that could not be read. */
  errors: number;
  failures: FailedTest[];
  /** Skip reasons and how often each occurred. */
  skipReasons: Map<string, number>;
}

/** Enough RAM for every address a real-mode test can reach with 24 address lines (and the 386EX's 16 MiB). */
const TEST_MEMORY_BYTES = 16 * 1024 * 1024;

export function runConformance(target: string, options: ConformOptions = {}): ConformReport {
  const filter = options.filter ? globToRegExp(options.filter) : null;
  const files = findMooFiles(target).filter((f) => !filter || matchesFilter(f, filter));
  const report: ConformReport = { files: [], passed: 0, failed: 0, skipped: 0, errors: 0, failures: [], skipReasons: new Map() };
  const memory = new RecordingMemory(TEST_MEMORY_BYTES);
  const io = new IoBus();
  const companions = new Companions();
  for (const path of files) {
    const result: FileResult = { path, cpuId: '', passed: 0, failed: 0, skipped: 0, error: null };
    report.files.push(result);
    try {
      const file = readMoo(readFileSync(path));
      result.cpuId = file.cpuId;
      const profile = profileFor(file);
      const env = {
        profile, masks: companions.masksFor(path, profile.registerWidth), fileMask: file.fileMask,
        revoked: companions.revocationsFor(path),
        memory, io, stepLimit: options.stepLimit ?? DEFAULT_STEP_LIMIT,
      };
      const tests = options.limit !== undefined ? file.tests.slice(0, options.limit) : file.tests;
      for (const test of tests) {
        const outcome = runTest(test, env);
        options.onTest?.(path, test, outcome);
        if (outcome.status === 'passed') result.passed++;
        else if (outcome.status === 'skipped') {
          result.skipped++;
          report.skipReasons.set(outcome.reason, (report.skipReasons.get(outcome.reason) ?? 0) + 1);
        } else {
          result.failed++;
          report.failures.push({ file: path, index: test.index, name: test.name, bytes: hexBytes(test.bytes), reason: outcome.reason });
        }
      }
    } catch (e) {
      result.error = (e as Error).message;
      report.errors++;
    }
    report.passed += result.passed;
    report.failed += result.failed;
    report.skipped += result.skipped;
  }
  return report;
}

function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** The companions of the files of one run, each read once. */
class Companions {
  private readonly masks = new Map<string, FlagMaskTable>();
  private readonly revocations = new Map<string, Set<string>>();

  /** 80386.csv for the 32-bit set, metadata.json for the 16-bit ones; null when none lies beside the file. */
  masksFor(path: string, width: 16 | 32): FlagMaskTable | null {
    const companion = findCompanion(path, width === 32 ? '80386.csv' : 'metadata.json');
    if (!companion) return null;
    if (!this.masks.has(companion)) {
      this.masks.set(companion, width === 32 ? loadCsvMasks(companion) : loadMetadataMasks(companion));
    }
    return this.masks.get(companion)!;
  }

  revocationsFor(path: string): Set<string> {
    const companion = findCompanion(path, 'revocation_list.txt');
    if (!companion) return new Set();
    if (!this.revocations.has(companion)) this.revocations.set(companion, loadRevocationList(companion));
    return this.revocations.get(companion)!;
  }
}
