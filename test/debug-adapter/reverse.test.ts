// Reverse execution through the Debug Adapter Protocol: stepBack, reverseContinue and ringside/goto, bare and under
// the monitor. A reverse stop must look like the forward stop at the same moment: same reason, same registers and
// segment caches, same guest time; and stepping back N then forward N must give back the same machine.
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, FIXTURES, launchStopped, momentOf, named, ROOT, scopeVariables, startClient, stoppedAfter } from './dap-client';

const DESCRIPTOR_CACHE = path.join(ROOT, 'examples/descriptor-cache/descriptor-cache.bin');
const SEED = path.join(ROOT, 'examples/seed-sequence/seed-sequence.bin');
const BENCH_LOOP = path.join(ROOT, 'examples/bench-loop/bench-loop.bin');

let dc: DebugClient;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
});

const until = (go: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> => stoppedAfter(dc, go);

/** What a user sees of a moment (dap-client.ts). */
const moment = (): ReturnType<typeof momentOf> => momentOf(dc);

for (const monitor of [false, true]) {
  describe(`reverse execution${monitor ? ' under the monitor' : ''}`, () => {
    it('reverseContinue with the segment-load filter lands on each earlier DS load of the forward run, in reverse, then at the start', async () => {
      dc = await startClient();
      await launchStopped(dc, { program: DESCRIPTOR_CACHE, monitor });
      const start = await moment();
      expect(start.instructions).toBe(0);
      await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'segment-load', condition: 'reg == DS' }] });
      const forward: Awaited<ReturnType<typeof moment>>[] = [];
      const summaries: string[] = [];
      const timeline: { summary: string; ordinal: number }[] = [];
      const ordinals: number[] = [];
      const moments: { instructions: number; eventOrdinal: number }[] = [];
      dc.on('ringside/event', (e: DebugProtocol.Event) => timeline.push({ summary: e.body.summary, ordinal: e.body.detail.ordinal }));
      dc.on('ringside/moment', (e: DebugProtocol.Event) => moments.push(e.body));
      for (let k = 0; k < 4; k++) {
        const s = await until(() => dc.continueRequest({ threadId: 1 }));
        expect(s.body.reason).toBe('exception');
        expect(s.body.description).toBe('segment-load');
        summaries.push(s.body.text ?? '');
        forward.push(await moment());
        ordinals.push(moments[moments.length - 1].eventOrdinal);
      }
      expect(new Set(forward.map((m) => m.instructions)).size).toBe(4);
      // Back from the fourth: the third, second, first load, each as the forward run saw it.
      for (let k = 2; k >= 0; k--) {
        const s = await until(() => dc.customRequest('reverseContinue', { threadId: 1 }));
        expect(s.body.reason).toBe('exception');
        expect(s.body.description).toBe('segment-load');
        expect(s.body.text).toBe(summaries[k]);
        expect(await moment()).toEqual(forward[k]);
      }
      const s = await until(() => dc.customRequest('reverseContinue', { threadId: 1 }));
      expect(s.body.reason).toBe('entry');
      expect(await moment()).toEqual(start);
      // And forward again: the same first load.
      await until(() => dc.continueRequest({ threadId: 1 }));
      expect(await moment()).toEqual(forward[0]);
      // "Go to this moment" on a timeline entry: the last event before the third load's stop, by its ordinal, is
      // in the Event Timeline, and going to it lands where that stop was.
      console.log(JSON.stringify({ ordinals, forward: forward.map((f) => f.instructions), tl: timeline.slice(0, 30), moments }));
      const third = timeline.find((t) => t.ordinal === ordinals[2]);
      expect(third, 'the event of the third DS load in the Event Timeline').toBeDefined();
      expect(third!.summary).toBe(summaries[2]);
      const s3 = await until(() => dc.customRequest('ringside/goto', { event: ordinals[2] }));
      expect(s3.body.reason).toBe('goto');
      expect(await moment()).toEqual(forward[2]);
      expect(moments[moments.length - 1]).toEqual({ instructions: forward[2].instructions, eventOrdinal: ordinals[2] });
      await expect(dc.customRequest('ringside/goto', { event: 1e9 })).rejects.toThrow(/has not happened yet/);
      expect(await moment()).toEqual(forward[2]);
    });

    it('stepBack N then step N gives back the same machine; each step back shows the moment the forward step showed', async () => {
      dc = await startClient();
      await launchStopped(dc, { program: SEED, monitor });
      await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'segment-load', condition: 'reg == DS' }] });
      await until(() => dc.continueRequest({ threadId: 1 }));
      await dc.setExceptionBreakpointsRequest({ filters: [] });
      const forward = [await moment()];
      for (let k = 0; k < 6; k++) {
        await until(() => dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
        forward.push(await moment());
      }
      for (let k = 5; k >= 0; k--) {
        const s = await until(() => dc.customRequest('stepBack', { threadId: 1, granularity: 'instruction' }));
        expect(s.body.reason).toBe('step');
        expect(await moment()).toEqual(forward[k]);
      }
      for (let k = 1; k <= 6; k++) {
        await until(() => dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
        expect(await moment()).toEqual(forward[k]);
      }
    });

    it('ringside/goto travels to any moment the run has reached, and refuses the ones it has not', async () => {
      dc = await startClient();
      await launchStopped(dc, { program: SEED, monitor });
      await dc.customRequest('setInstructionBreakpoints', { breakpoints: [] });
      const seen: Awaited<ReturnType<typeof moment>>[] = [];
      for (let k = 0; k < 40; k++) {
        await until(() => dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
        if (k % 13 === 0) seen.push(await moment());
      }
      const furthest = (await moment()).instructions;
      for (const m of [...seen].reverse().concat(seen)) {
        const s = await until(() => dc.customRequest('ringside/goto', { instructions: m.instructions }));
        expect(s.body.reason).toBe('goto');
        expect(await moment()).toEqual(m);
      }
      await expect(dc.customRequest('ringside/goto', { instructions: furthest + 1 })).rejects.toThrow(/has reached/);
      await expect(dc.customRequest('ringside/goto', {})).rejects.toThrow(/instructions is required/);
      await expect(dc.customRequest('ringside/goto', { instructions: -3 })).rejects.toThrow(/whole number/);
    });
  });
}

describe('reverse execution and the debugger state around it', () => {
  it('an instruction breakpoint with a hit count is found backwards with the count it had then', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: BENCH_LOOP });
    // The loop's `dec ecx; jnz loop` (49 75 rel8 back), found in the image, which loads at 0x7C00 (guest.inc).
    const image = readFileSync(BENCH_LOOP);
    let at = -1;
    for (let k = 0; k + 2 < image.length && at < 0; k++) if (image[k] === 0x49 && image[k + 1] === 0x75 && image[k + 2] >= 0x80) at = k;
    expect(at, "the loop's dec ecx").toBeGreaterThan(0);
    const dec = `0x${(0x7c00 + at).toString(16)}`;
    await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: dec, hitCondition: '% 2000' }] });
    const passes: number[] = [];
    for (let k = 0; k < 3; k++) {
      const s = await until(() => dc.continueRequest({ threadId: 1 }));
      expect(s.body.reason).toBe('instruction breakpoint');
      passes.push((await moment()).instructions);
    }
    // 2000 passes of a ten-instruction loop between stops.
    expect(passes[2] - passes[1]).toBe(20000);
    expect(passes[1] - passes[0]).toBe(20000);
    for (const k of [1, 0]) {
      const back = await until(() => dc.customRequest('reverseContinue', { threadId: 1 }));
      expect(back.body.reason).toBe('instruction breakpoint');
      expect((await moment()).instructions).toBe(passes[k]);
    }
    const first = await until(() => dc.customRequest('reverseContinue', { threadId: 1 }));
    expect(first.body.reason).toBe('entry');
    // Forward again, the hit counts are those of the start: the first stop is the 2000th pass again.
    await until(() => dc.continueRequest({ threadId: 1 }));
    expect((await moment()).instructions).toBe(passes[0]);
  });

  it('an edit after travelling back forgets the recorded future; reverse off refuses the requests', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: SEED });
    for (let k = 0; k < 5; k++) await until(() => dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
    await until(() => dc.customRequest('ringside/goto', { instructions: 2 }));
    const regs = await scopeVariables(dc, 'Registers');
    await dc.setVariableRequest({ variablesReference: (await dc.scopesRequest({ frameId: 1 })).body.scopes[0].variablesReference, name: 'EAX', value: '0x1234' });
    expect(regs.length).toBeGreaterThan(0);
    await expect(dc.customRequest('ringside/goto', { instructions: 5 })).rejects.toThrow(/has reached 2 instructions/);
    await dc.stop();

    dc = await startClient();
    await launchStopped(dc, { program: SEED, reverse: { enabled: false } });
    await expect(dc.customRequest('stepBack', { threadId: 1 })).rejects.toThrow(/reverse execution is off/);
    const control = await scopeVariables(dc, 'Control');
    expect(named(control, 'reverse').value).toBe('off');
  });

  it('stepBack by line lands at the start of each line a forward line step stopped at, across a call', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: path.join(FIXTURES, 'frames.elf') }, async () => {
      await dc.setBreakpointsRequest({ source: { path: path.join(FIXTURES, 'frames.asm') }, breakpoints: [{ line: 24 }] });
    });
    await until(() => dc.continueRequest({ threadId: 1 }));
    await dc.setBreakpointsRequest({ source: { path: path.join(FIXTURES, 'frames.asm') }, breakpoints: [] });
    const line = async (): Promise<number> => (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].line;
    const forward: { line: number; at: Awaited<ReturnType<typeof moment>> }[] = [{ line: await line(), at: await moment() }];
    // Into inner (a call: line 25 -> 32 …), then on by lines.
    for (let k = 0; k < 6; k++) {
      await until(() => dc.stepInRequest({ threadId: 1 }));
      forward.push({ line: await line(), at: await moment() });
    }
    expect(forward.map((f) => f.line)).toEqual([24, 25, 32, 33, 34, 35, 36]);
    for (let k = forward.length - 2; k >= 0; k--) {
      const s = await until(() => dc.customRequest('stepBack', { threadId: 1 }));
      expect(s.body.reason).toBe('step');
      expect(await line()).toBe(forward[k].line);
      expect(await moment()).toEqual(forward[k].at);
    }
  });

  it('launch checks the reverse attribute', async () => {
    dc = await startClient();
    await dc.initializeRequest({ adapterID: 'ringside' });
    await expect(dc.launchRequest({ program: SEED, reverse: { enabled: 'yes', maxMemoryMB: 2 } } as DebugProtocol.LaunchRequestArguments)).rejects.toThrow(
      /"reverse" "enabled" must be true or false.*"maxMemoryMB" must be a whole number from 16/,
    );
  });
});
