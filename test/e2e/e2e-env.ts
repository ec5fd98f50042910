// Where scripts/e2e-setup.sh put Node 24, code-server and Chromium, and whether they are all there. The e2e test
// skips with this module's reason when they are not (unless RINGSIDE_E2E_REQUIRED=1, as CI sets after running
// the setup, in which case a missing piece is a failure).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(__dirname, '..', '..');

export interface E2eEnv {
  /** Node 24 binary code-server runs on. */
  node: string;
  /** code-server's entry script (`out/node/entry.js`), started with `node`. */
  codeServerEntry: string;
  codeServerVersion: string;
  chromium: string;
}

export type E2eEnvResult = { ok: true; env: E2eEnv } | { ok: false; reason: string };

export function e2eDir(): string {
  return process.env.RINGSIDE_E2E_DIR ?? join(PROJECT_ROOT, '.e2e');
}

export function e2eRequired(): boolean {
  return process.env.RINGSIDE_E2E_REQUIRED === '1';
}

/** Reads .e2e/env.json (written by the setup's last step) and checks every file it names exists. */
export function findE2eEnv(): E2eEnvResult {
  const envFile = join(e2eDir(), 'env.json');
  if (!existsSync(envFile)) {
    return { ok: false, reason: `${envFile} is missing: run \`bash scripts/e2e-setup.sh\` first (installs code-server, Node 24, chromium)` };
  }
  let env: E2eEnv;
  try {
    env = JSON.parse(readFileSync(envFile, 'utf8')) as E2eEnv;
  } catch (err) {
    return { ok: false, reason: `${envFile} is not valid JSON (${(err as Error).message}): run scripts/e2e-setup.sh again` };
  }
  for (const key of ['node', 'codeServerEntry', 'chromium'] as const) {
    if (typeof env[key] !== 'string' || !existsSync(env[key])) {
      return { ok: false, reason: `${key} (${String(env[key])}) named by ${envFile} does not exist: run scripts/e2e-setup.sh again` };
    }
  }
  return { ok: true, env };
}
