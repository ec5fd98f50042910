// The README's reverse-execution walk-through over the Debug Adapter Protocol, bare and under the monitor
// (examples/stale-cache-gp): stop on the #GP that DS's stale cache causes (cpu-exception filter), Reverse Continue
// with descriptor-write to the GDT store that raised the limit behind DS's back, Reverse Continue with segment-load
// (reg == DS) to the load that filled the cache. Each reverse stop must be the stop a forward run makes at that
// moment (checked by continuing forward from the DS load through both again), and the views must show what a real
// CPU holds: at the #GP, DS's cache keeps the old limit 0x0FFF while GDT entry 3 says 0xFFFF (SDM vol. 3A, 3.4.3).
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { SegmentMapResponseBody } from '../../debug-adapter/protocol-types';
import { buildOnce, children, launchStopped, momentOf, named, ROOT, scopeVariables, startClient, stoppedAfter } from './dap-client';

const PROGRAM = path.join(ROOT, 'examples/stale-cache-gp/stale-cache-gp.bin');
const LOAD = 0x7c00;
const image = readFileSync(PROGRAM);
/** Linear address of the first instruction with these bytes in the image. */
function addressOf(bytes: number[]): number {
  const at = image.indexOf(Buffer.from(bytes));
  if (at < 0) throw new Error(`${bytes.map((b) => b.toString(16)).join(' ')} is not in the image`);
  return LOAD + at;
}
/** `mov ds, ax` right after `mov ax, 0x18` (66 B8 18 00): step 1's load of DS (the #GP handler's comes later). */
const DS_LOAD = addressOf([0x66, 0xb8, 0x18, 0x00, 0x8e, 0xd8]) + 4;
/** `mov dword [0x2000], 'FAR!'` (C7 05 00200000 …): the store beyond the cached limit. */
const FAR_STORE = addressOf([0xc7, 0x05, 0x00, 0x20, 0x00, 0x00]);
/** `mov word [es:gdt + 0x18], 0xFFFF` (26 66 C7 05 addr FF FF): the store that raises entry 3's limit. */
const LIMIT_WRITE = addressOf([0x26, 0x66, 0xc7, 0x05]);
/** gp_handler's first instructions: push eax; push ebp; mov ebp, esp. */
const GP_HANDLER = addressOf([0x50, 0x55, 0x89, 0xe5]);

let dc: DebugClient;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
});

const until = (go: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> => stoppedAfter(dc, go);
const hex = (n: number): RegExp => new RegExp(`^0x0*${n.toString(16)}$`, 'i');

async function eip(): Promise<number> {
  return Number(named(await scopeVariables(dc, 'Registers'), 'EIP').value);
}

/** Segments → DS: its value line and the `cache`, `table entry`, `consistent`, `differs` rows with their fields. */
async function dsRows(): Promise<{ value: string; cacheLimit: string; entryLimit: string; consistent: string; differs: string }> {
  const ds = named(await scopeVariables(dc, 'Segments'), 'DS');
  const rows = await children(dc, ds);
  const limitOf = async (row: string): Promise<string> => named(await children(dc, named(rows, row)), 'limit').value;
  return {
    value: ds.value,
    cacheLimit: await limitOf('cache'),
    entryLimit: await limitOf('table entry'),
    consistent: named(rows, 'consistent').value,
    differs: named(rows, 'differs').value,
  };
}

async function segmentMapDs(): Promise<SegmentMapResponseBody['registers'][number]> {
  const map = (await dc.customRequest('ringside/segmentMap')).body as SegmentMapResponseBody;
  return map.registers.find((r) => r.name === 'DS')!;
}

function arm(filters: { filterId: string; condition?: string }[]): Promise<unknown> {
  return dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: filters });
}

const GP = { filterId: 'cpu-exception', condition: 'vector == 13' };
const WRITE = { filterId: 'descriptor-write', condition: 'table == "GDT" && index == 3' };
const LOAD_DS = { filterId: 'segment-load', condition: 'reg == DS' };

for (const monitor of [false, true]) {
  describe(`the stale-cache #GP walk-through${monitor ? ' under the monitor' : ''}`, () => {
    it('stops on the #GP, reverses to the descriptor write, then to the DS load; forward again meets the same stops', async () => {
      dc = await startClient();
      await launchStopped(dc, { program: PROGRAM, monitor });

      // 1. Forward to the #GP.
      await arm([GP]);
      const gp = await until(() => dc.continueRequest({ threadId: 1 }));
      expect(gp.body.reason).toBe('exception');
      expect(gp.body.description).toBe('cpu-exception');
      // The stop names the SDM's rule: the offset lies beyond the limit in DS's cache (0xFFF), not the GDT's.
      expect(gp.body.text).toMatch(/access\.limit/);
      expect(gp.body.text).toMatch(/limit 0xfff\b/);
      const gpMoment = await momentOf(dc);
      // The stop comes after the delivery, at the handler's first instruction, with the faulting store as the
      // exception frame below it in the call stack.
      expect(await eip()).toBe(GP_HANDLER);
      const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames.map((f) => f.name);
      expect(frames[1]).toBe(`[exception #GP at 0008:${FAR_STORE.toString(16).padStart(8, '0')}]`);
      const atGp = await dsRows();
      expect(atGp.value).toMatch(/^0x0018\b/);
      expect(atGp.cacheLimit).toMatch(hex(0xfff));
      expect(atGp.entryLimit).toMatch(hex(0xffff));
      expect(atGp.consistent).toBe('false');
      expect(atGp.differs).toBe('limit');
      const mapGp = await segmentMapDs();
      expect({ selector: mapGp.selector, cache: mapGp.cache.limit, entry: mapGp.tableEntry?.limit, consistent: mapGp.consistent, differs: mapGp.differs }).toEqual({
        selector: 0x18,
        cache: 0xfff,
        entry: 0xffff,
        consistent: false,
        differs: ['limit'],
      });

      // 2. Reverse Continue with descriptor-write: the store that raised GDT entry 3's limit.
      await arm([GP, WRITE]);
      const write = await until(() => dc.customRequest('reverseContinue', { threadId: 1 }));
      expect(write.body.reason).toBe('exception');
      expect(write.body.description).toBe('descriptor-write');
      expect(write.body.text).toMatch(/GDT\[3\]/);
      expect(write.body.text).toMatch(/0x0040930200000fff -> 0x004093020000ffff/);
      const writeMoment = await momentOf(dc);
      expect(writeMoment.instructions).toBeLessThan(gpMoment.instructions);
      // A stop after the store: the instruction that made it is the one just before.
      expect(await eip()).toBe(LIMIT_WRITE + 10);
      const atWrite = await dsRows();
      expect([atWrite.cacheLimit, atWrite.entryLimit, atWrite.consistent]).toEqual([expect.stringMatching(hex(0xfff)), expect.stringMatching(hex(0xffff)), 'false']);

      // 3. Reverse Continue with segment-load (reg == DS) as well: the load of DS with 0x18, its cache consistent.
      await arm([GP, WRITE, LOAD_DS]);
      const load = await until(() => dc.customRequest('reverseContinue', { threadId: 1 }));
      expect(load.body.reason).toBe('exception');
      expect(load.body.description).toBe('segment-load');
      expect(load.body.text).toMatch(/\bDS\b.*0x0010 -> 0x0018/);
      expect(load.body.text).toMatch(/limit=0x00000fff/);
      const loadMoment = await momentOf(dc);
      expect(loadMoment.instructions).toBeLessThan(writeMoment.instructions);
      expect(await eip()).toBe(DS_LOAD + 2);
      const atLoad = await dsRows();
      expect([atLoad.value, atLoad.cacheLimit, atLoad.entryLimit, atLoad.consistent]).toEqual([
        expect.stringMatching(/^0x0018\b/),
        expect.stringMatching(hex(0xfff)),
        expect.stringMatching(hex(0xfff)),
        'true',
      ]);
      expect((await segmentMapDs()).consistent).toBe(true);

      // Forward again with all three armed: the descriptor write, then the #GP, each the moment the reverse run
      // showed (so the reverse stops were the last matching events of a forward run, not merely similar ones).
      const w2 = await until(() => dc.continueRequest({ threadId: 1 }));
      expect([w2.body.description, w2.body.text]).toEqual([write.body.description, write.body.text]);
      expect(await momentOf(dc)).toEqual(writeMoment);
      const gp2 = await until(() => dc.continueRequest({ threadId: 1 }));
      expect([gp2.body.description, gp2.body.text]).toEqual([gp.body.description, gp.body.text]);
      expect(await momentOf(dc)).toEqual(gpMoment);
    });
  });
}
