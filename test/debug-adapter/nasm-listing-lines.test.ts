// Source breakpoints in the NASM source of a flat binary, through the nasm listing beside the image (X.lst for
// X.bin): examples/descriptor-cache is copied with its include folder, assembled with a listing, and debugged.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { listingMismatch } from '../../debug-adapter/listing-source-lines';
import { nasmInstalled } from '../extension/nasm-available';
import { buildOnce, launchStopped, ROOT, startClient } from './dap-client';

let dc: DebugClient | undefined;
let scratch: string;
let folder: string;
let source: string;
let image: string;
let listing: string;
const lineOf = (text: string) => readFileSync(source, 'utf8').split('\n').findIndex((l) => l.trim() === text) + 1;

beforeAll(() => {
  buildOnce();
  scratch = mkdtempSync(path.join(tmpdir(), 'ringside-listing-lines-'));
  cpSync(path.join(ROOT, 'examples/descriptor-cache'), path.join(scratch, 'descriptor-cache'), { recursive: true });
  cpSync(path.join(ROOT, 'examples/include'), path.join(scratch, 'include'), { recursive: true });
  folder = path.join(scratch, 'descriptor-cache');
  source = path.join(folder, 'descriptor-cache.asm');
  image = path.join(folder, 'descriptor-cache.bin');
  listing = path.join(folder, 'descriptor-cache.lst');
  if (nasmInstalled) execFileSync('nasm', ['-f', 'bin', '-i', '../include/', 'descriptor-cache.asm', '-o', '/dev/null', '-l', 'descriptor-cache.lst'], { cwd: folder });
}, 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function outputs(dc: DebugClient, run: () => Promise<unknown>): Promise<string> {
  const seen: string[] = [];
  const listener = (e: DebugProtocol.OutputEvent) => seen.push(e.body.output);
  dc.on('output', listener);
  await run();
  dc.off('output', listener);
  return seen.join('');
}

describe.skipIf(!nasmInstalled)('breakpoints in the NASM source of a flat binary (nasm listing beside it)', () => {
  it('binds a source breakpoint, stops on it with the .asm line, and steps by source line', async () => {
    const line = lineOf('mov ds, ax');
    expect(line).toBe(52);
    const client = (dc = await startClient());
    let bp: DebugProtocol.Breakpoint | undefined;
    await launchStopped(client, { program: image }, async () => {
      bp = (await client.setBreakpointsRequest({ source: { path: source }, breakpoints: [{ line }] })).body.breakpoints[0];
    });
    expect(bp?.verified).toBe(true);
    expect(bp?.line).toBe(line);
    const stop = client.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await client.continueRequest({ threadId: 1 });
    expect((await stop).body.reason).toBe('breakpoint');
    const top = (await client.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    expect(top.source?.path).toBe(source);
    expect(top.line).toBe(line);
    // `next` steps by source line: the PRINT macro on the following line is one step, however many instructions.
    const stepped = client.waitForEvent('stopped');
    await client.nextRequest({ threadId: 1 });
    await stepped;
    const after = (await client.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    expect(after.source?.path).toBe(source);
    expect(after.line).toBe(line + 1);
    const next = client.waitForEvent('stopped');
    await client.nextRequest({ threadId: 1 });
    await next;
    expect((await client.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].line).toBeGreaterThan(line + 1);
  });

  it('ignores a listing whose bytes are not the image, and says so once', async () => {
    const stale = path.join(scratch, 'stale');
    cpSync(folder, stale, { recursive: true });
    const lst = readFileSync(path.join(stale, 'descriptor-cache.lst'), 'utf8');
    // "mov ds, ax" (8ED8) becomes "mov es, ax" (8EC0) in the listing only.
    const row = lst.split('\n').find((l) => /^\s*52 [0-9A-F]{8} 8ED8\s/.test(l))!;
    expect(row).toBeDefined();
    writeFileSync(path.join(stale, 'descriptor-cache.lst'), lst.replace(row, row.replace('8ED8', '8EC0')));
    const client = (dc = await startClient());
    let bp: DebugProtocol.Breakpoint | undefined;
    const text = await outputs(client, () =>
      launchStopped(client, { program: path.join(stale, 'descriptor-cache.bin') }, async () => {
        bp = (await client.setBreakpointsRequest({ source: { path: path.join(stale, 'descriptor-cache.asm') }, breakpoints: [{ line: 52 }] })).body.breakpoints[0];
      }),
    );
    expect(bp?.verified).toBe(false);
    expect(text.match(/descriptor-cache\.lst is stale/g)).toHaveLength(1);
  });
});

describe.skipIf(!nasmInstalled)('listingMismatch', () => {
  it('accepts the listing of the image, and names the first byte that differs', () => {
    const text = readFileSync(listing, 'utf8');
    const bytes = new Uint8Array(readFileSync(image));
    expect(listingMismatch(text, bytes)).toBeNull();
    expect(listingMismatch(text, bytes.subarray(0, 16))).toMatch(/past the image's end/);
    bytes[1] ^= 0xff;
    expect(listingMismatch(text, bytes)).toMatch(/^offset 0x1 holds/);
  });
});

it.runIf(!nasmInstalled)('nasm is not installed: the listing tests are skipped', () => {
  console.warn('nasm not found: skipping the nasm listing tests of the adapter');
});
