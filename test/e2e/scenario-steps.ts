// The steps of an end-to-end walk-through: each a vitest test that runs only while every earlier step passed (a
// later step would only fail for the same reason), and that leaves a screenshot of the workbench when it fails.
import { it, type TestContext } from 'vitest';
import type { Workbench } from './workbench';

export interface ScenarioSteps {
  /** Declares a step; `skipWhy` names a missing prerequisite that makes it meaningless here (skipped, not failed). */
  step(name: string, timeoutMs: number, body: () => Promise<void>, skipWhy?: () => string | undefined): void;
  /** The first step that failed, if any (its scratch folder is then kept for a look). */
  failedStep(): string | undefined;
}

/** `workbench` reads the scenario's current workbench (none before launch); failure shots are named `prefix` + step. */
export function scenarioSteps(workbench: () => Workbench | undefined, failureShotPrefix: string): ScenarioSteps {
  let failed: string | undefined;
  return {
    step(name, timeoutMs, body, skipWhy) {
      it(name, async (ctx: TestContext) => {
        if (failed) ctx.skip(`an earlier step failed: ${failed}`);
        const why = skipWhy?.();
        if (why) ctx.skip(why);
        try {
          await body();
        } catch (err) {
          failed = name;
          const wb = workbench();
          if (wb) await wb.screenshot(`${failureShotPrefix}${name.replace(/[^a-z0-9]+/gi, '-')}.tmp`).catch(() => undefined);
          throw err;
        }
      }, timeoutMs);
    },
    failedStep: () => failed,
  };
}
