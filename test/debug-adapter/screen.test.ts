// The Screen view's requests: `ringside/screen` answers with the text cells and cursor at a stop (and while the
// guest runs), `ringside/keys` types on the guest's keyboard; the launch attributes keys, serialIn, initrd and
// append reach the machine.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { buildOnce, launchStopped, ROOT, screenIoBoot, startClient } from './dap-client';
import type { ScreenResponseBody } from '../../debug-adapter/protocol-types';

let dc: DebugClient | undefined;
let dir: string;

/** screen-io.bin (test/fixtures/boot) with its command byte set: 'k' reads keys, 'v' writes "VGA", 's' reads COM1. */
const bootWith = (command: string): string => screenIoBoot(dir, command);

function text(body: ScreenResponseBody): string {
  if (body.kind !== 'text') throw new Error('not a text screen');
  return String.fromCharCode(...body.cells.slice(0, body.columns).map((c) => c & 0xff)).trimEnd();
}

beforeAll(() => {
  buildOnce();
  dir = mkdtempSync(path.join(tmpdir(), 'ringside-screen-dap-'));
});
afterEach(async () => {
  await dc?.stop();
  dc = undefined;
});

describe('Screen view requests', () => {
  it('ringside/screen gives the text cells, their attributes and the cursor at a stop', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: bootWith('v') });
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    await exited;
    const body = (await dc.customRequest('ringside/screen')).body as ScreenResponseBody;
    expect(body).toMatchObject({ kind: 'text', columns: 80, rows: 25, cursor: { row: 1, column: 0 }, running: false });
    expect(text(body)).toBe('VGA');
    if (body.kind === 'text') expect(body.cells[0]).toBe(0x1e56);
  });

  it('ringside/keys types on the keyboard of a running guest, which reads them through the BIOS', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: bootWith('k') });
    const output: string[] = [];
    dc.on('output', (e) => e.body.category === 'stdout' && output.push(e.body.output));
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    const running = (await dc.customRequest('ringside/screen')).body as ScreenResponseBody;
    expect(running.kind).toBe('text');
    await dc.customRequest('ringside/keys', { text: 'o' });
    await dc.customRequest('ringside/keys', { text: 'K\n' });
    await exited;
    expect(output.join('')).toContain('oK\r');
  });

  it('refuses keys no keyboard types, and a bad keys attribute at launch', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: bootWith('k') });
    await expect(dc.customRequest('ringside/keys', { text: 'é' })).rejects.toThrow(/no key on a US keyboard types U\+00E9/);
    await dc.stop();
    dc = await startClient();
    await dc.initializeRequest({ adapterID: 'ringside' });
    await expect(dc.launchRequest({ program: bootWith('k'), keys: 'a\\q' } as never)).rejects.toThrow(/"keys" a\\q: unknown escape "\\q"/);
  });

  it('launch attributes keys and serialIn feed the guest as it reads them', async () => {
    const input = path.join(dir, 'serial.txt');
    writeFileSync(input, 'abc');
    for (const [program, attrs, expected] of [
      [bootWith('k'), { keys: 'hi\\n' }, 'hi\r'],
      [bootWith('s'), { serialIn: input }, 'abc'],
    ] as const) {
      dc = await startClient();
      const output: string[] = [];
      dc.on('output', (e) => e.body.category === 'stdout' && output.push(e.body.output));
      await launchStopped(dc, { program, ...attrs });
      const exited = dc.waitForEvent('exited');
      await dc.continueRequest({ threadId: 1 });
      await exited;
      expect(output.join('')).toContain(expected);
      await dc.stop();
      dc = undefined;
    }
  });

  it('launches a bzImage with initrd and append', async () => {
    const initrd = path.join(dir, 'initrd.bin');
    writeFileSync(initrd, Buffer.alloc(100, 1));
    dc = await startClient();
    const output: string[] = [];
    dc.on('output', (e) => e.body.category === 'stdout' && output.push(e.body.output));
    await launchStopped(dc, { program: path.join(ROOT, 'test', 'fixtures', 'linux', 'fake-bzimage.bin'), format: 'linux', initrd, append: 'root=/dev/ram0' });
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    await exited;
    // The initrd's last page ends where the ACPI tables' 64 KiB at the top of the 16 MiB begin.
    expect(output.join('')).toMatch(/loader=FF .* initrd=00FEF000\+00000064 cmdline=\[root=\/dev\/ram0\]/);
  });
});
