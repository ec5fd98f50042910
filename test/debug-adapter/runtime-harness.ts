// Drives the adapter's Runtime directly (no DAP process): for tests that run many stops and travels, where a
// request round trip per stop would cost more than the guest does. Stops and ends arrive as the Runtime emits them.
import { readFileSync } from 'node:fs';
import { readLaunchSettings } from '../../debug-adapter/launch-config';
import { Runtime, type RuntimeEnd, type RuntimeStop } from '../../debug-adapter/runtime';

export interface Outcome {
  stop?: RuntimeStop;
  end?: RuntimeEnd;
}

/** A Runtime on `program`, stopped at its entry (launch attributes as in a launch request). */
export function openRuntime(program: string, attributes: Record<string, unknown> = {}): Runtime {
  const settings = readLaunchSettings({ program, stopOnEntry: true, ...attributes });
  const rt = new Runtime(settings, readFileSync(settings.program));
  rt.on('output', () => undefined);
  rt.syncBreakpoints();
  return rt;
}

/** Runs `go` (a forward command) and resolves with the stop or the end it leads to. */
export function outcome(rt: Runtime, go: () => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const done = (o: Outcome): void => {
      rt.off('stopped', onStop);
      rt.off('ended', onEnd);
      resolve(o);
    };
    const onStop = (stop: RuntimeStop): void => done({ stop });
    const onEnd = (end: RuntimeEnd): void => done({ end });
    rt.on('stopped', onStop);
    rt.on('ended', onEnd);
    go();
  });
}

/** Starts the runtime (stopOnEntry: it stops at once). */
export async function started(rt: Runtime): Promise<void> {
  const o = await outcome(rt, () => rt.start());
  if (o.stop?.reason !== 'entry') throw new Error(`expected a stop at the entry, got ${JSON.stringify(o)}`);
}

/** Guest time since launch. */
export function at(rt: Runtime): number {
  return rt.instructions;
}

/** Bytes of `image` at which `pattern` starts (the first occurrence), or -1. */
export function findBytes(image: Uint8Array, pattern: number[], from = 0): number {
  outer: for (let k = from; k + pattern.length <= image.length; k++) {
    for (let j = 0; j < pattern.length; j++) if (image[k + j] !== pattern[j]) continue outer;
    return k;
  }
  return -1;
}
