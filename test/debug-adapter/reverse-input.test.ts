// Reverse execution with host input: keys typed through ringside/keys (the Screen view), bytes sent through
// ringside/serialInput (the COM1 terminal) and the launch attribute `keys` are in the record, so travelling back to
// before they arrived and running forward again gives them again at the same moments: the guest reads the same
// keys and reaches the same state. Input given in the past makes a new future, and the old one is gone.
//
// The guest is test/fixtures/boot/screen-io.asm: 'k' reads three keys through INT 16h, 's' three bytes from COM1,
// each echoed to port E9h, then `done` ends the run.
import * as path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, launchStopped, momentOf, screenIoBoot, startClient, stoppedAfter } from './dap-client';

// Offsets in screen-io.bin (nasm -l): the first INT 16h of 'k', the first COM1 status poll of 's', `done`.
const KEY_READ = 0x7c00 + 0x1e;
const SERIAL_POLL = 0x7c00 + 0x4c;
const DONE = 0x7c00 + 0x97;

let dc: DebugClient | undefined;
let dir: string;
let output: string[] = [];

beforeAll(() => {
  buildOnce();
  dir = mkdtempSync(path.join(tmpdir(), 'ringside-reverse-input-'));
}, 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

const bootWith = (command: string): string => screenIoBoot(dir, command);

async function start(args: Record<string, unknown>, breakAt: number[]): Promise<DebugClient> {
  const client = await startClient();
  output = [];
  client.on('output', (e: DebugProtocol.OutputEvent) => e.body.category === 'stdout' && output.push(e.body.output));
  await launchStopped(client, args, () => breakpoints(client, breakAt));
  return client;
}

function breakpoints(client: DebugClient, at: number[]): Promise<unknown> {
  return client.customRequest('setInstructionBreakpoints', { breakpoints: at.map((a) => ({ instructionReference: '0x' + a.toString(16) })) });
}

/** Continues and waits for the next stop; a guest still waiting for input that never comes is paused and named. */
async function continueToStop(client: DebugClient): Promise<void> {
  try {
    await stoppedAfter(client, () => client.continueRequest({ threadId: 1 }));
  } catch {
    await stoppedAfter(client, () => client.pauseRequest({ threadId: 1 }));
    throw new Error(`the run did not reach the next breakpoint (the guest waits for input; it printed "${output.join('')}")`);
  }
}

const instructionsNow = async (client: DebugClient): Promise<number> => (await momentOf(client)).instructions;

describe('reverse execution gives recorded input again', () => {
  for (const [what, command, breakAt, send, monitor] of [
    ['keys from ringside/keys', 'k', KEY_READ, (c: DebugClient) => c.customRequest('ringside/keys', { text: 'xy\n' }), false],
    ['keys from ringside/keys, under the monitor', 'k', KEY_READ, (c: DebugClient) => c.customRequest('ringside/keys', { text: 'xy\n' }), true],
    ['bytes from ringside/serialInput', 's', SERIAL_POLL, (c: DebugClient) => c.customRequest('ringside/serialInput', { data: 'pq!' }), false],
  ] as const) {
    it(`${what}: back to before they arrived, forward again, the same keys read and the same end`, async () => {
      dc = await start({ program: bootWith(command), monitor }, [breakAt]);
      await continueToStop(dc);
      const arrived = await instructionsNow(dc);
      await send(dc);
      await breakpoints(dc, [DONE]);
      await continueToStop(dc);
      const end = await momentOf(dc);
      const printed = output.join('');
      expect(printed).toBe(command === 'k' ? 'xy\r' : 'pq!');

      // Back before the input (a replay from a checkpoint), then forward by running: the input comes again.
      await stoppedAfter(dc, () => dc!.customRequest('ringside/goto', { instructions: arrived - 3 }));
      expect(await instructionsNow(dc)).toBe(arrived - 3);
      output = [];
      await continueToStop(dc);
      expect(await momentOf(dc)).toEqual(end);
      expect(output.join('')).toBe(printed);

      // Step back over the last read and forward again by steps.
      const back = 40;
      for (let k = 0; k < back; k++) await stoppedAfter(dc, () => dc!.customRequest('stepBack', { threadId: 1, granularity: 'instruction' }));
      expect(await instructionsNow(dc)).toBe(end.instructions - back);
      for (let k = 0; k < back; k++) await stoppedAfter(dc, () => dc!.stepInRequest({ threadId: 1, granularity: 'instruction' }));
      expect(await momentOf(dc)).toEqual(end);
    });
  }

  it('the launch attribute keys: a travel back to the start and a run forward read them again', async () => {
    dc = await start({ program: bootWith('k'), keys: 'ab\\n' }, [DONE]);
    await continueToStop(dc);
    const end = await momentOf(dc);
    expect(output.join('')).toBe('ab\r');
    await stoppedAfter(dc, () => dc!.customRequest('ringside/goto', { instructions: 0 }));
    output = [];
    await continueToStop(dc);
    expect(await momentOf(dc)).toEqual(end);
    expect(output.join('')).toBe('ab\r');
  });

  it('keys typed in the past make a new future: the guest reads them, and the old future is gone', async () => {
    dc = await start({ program: bootWith('k') }, [KEY_READ]);
    await continueToStop(dc);
    const arrived = await instructionsNow(dc);
    await dc.customRequest('ringside/keys', { text: 'old' });
    await breakpoints(dc, [DONE]);
    await continueToStop(dc);
    const oldEnd = await instructionsNow(dc);
    await stoppedAfter(dc, () => dc!.customRequest('ringside/goto', { instructions: arrived - 3 }));
    await dc.customRequest('ringside/keys', { text: 'NEW' });
    output = [];
    await continueToStop(dc);
    expect(output.join('')).toBe('NEW');
    // The record now holds the new run: back to before the new keys and forward gives them again.
    const newEnd = await momentOf(dc);
    await stoppedAfter(dc, () => dc!.customRequest('ringside/goto', { instructions: arrived - 5 }));
    output = [];
    await continueToStop(dc);
    expect(await momentOf(dc)).toEqual(newEnd);
    expect(output.join('')).toBe('NEW');
    if (newEnd.instructions < oldEnd) {
      await expect(dc.customRequest('ringside/goto', { instructions: oldEnd })).rejects.toThrow(/has reached/);
    }
  });
});
