// The disassembly document a frame without a source line gets: it shows instructions before the stop too, and the
// frame's line is the stopped instruction's.
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { buildOnce, FIXTURES, launchStopped, startClient } from './dap-client';

let dc: DebugClient | undefined;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

async function topFrameListing(client: DebugClient): Promise<{ name: string; lines: string[]; line: number }> {
  const frame = (await client.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
  const ref = frame.source?.sourceReference;
  expect(ref).toBeGreaterThan(0);
  const content = (await client.sourceRequest({ sourceReference: ref!, source: frame.source })).body.content;
  return { name: frame.source!.name!, lines: content.split('\n'), line: frame.line };
}

describe('disassembly listing of a frame without source', () => {
  it('starts some instructions before the stop at the image entry, with the frame line on the stopped instruction', async () => {
    const client = (dc = await startClient());
    // spin.bin: a flat binary without symbols or lines, entered at its first byte (0x7c00).
    await launchStopped(client, { program: path.join(FIXTURES, 'spin.bin') });
    const first = await topFrameListing(client);
    expect(first.line).toBeGreaterThan(4);
    expect(first.lines[first.line - 1]).toMatch(/^00007c00 +66 31 c0 +xor eax, ?eax/i);
    expect(first.lines.slice(0, first.line - 1).every((l) => /^00007b[0-9a-f]{2} /.test(l))).toBe(true);

    const stepped = client.waitForEvent('stopped');
    await client.nextRequest({ threadId: 1, granularity: 'instruction' });
    await stepped;
    const second = await topFrameListing(client);
    expect(second.name).toBe(first.name);
    expect(second.line).toBe(first.line + 1);
    expect(second.lines[second.line - 1]).toMatch(/^00007c03 .*inc eax/i);
  });
});
