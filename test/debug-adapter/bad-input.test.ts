// Bad input for the platform's launch attributes, each refused in one line naming its attribute (or, for keys the
// guest never reads, a documented outcome): a bzImage with a broken header, an initrd that does not fit in the
// guest's memory, a disk file that does not exist, keys typed for a guest that never reads its keyboard.
import * as path from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, launchStopped, ROOT, screenIoBoot, startClient } from './dap-client';

const FAKE_BZIMAGE = path.join(ROOT, 'test', 'fixtures', 'linux', 'fake-bzimage.bin');
let dc: DebugClient | undefined;
let dir: string;

beforeAll(() => {
  buildOnce();
  dir = mkdtempSync(path.join(tmpdir(), 'ringside-bad-input-'));
}, 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

async function launchError(args: Record<string, unknown>): Promise<string> {
  dc = await startClient();
  await dc.initializeRequest({ adapterID: 'ringside' });
  try {
    await dc.launchRequest({ stopOnEntry: true, monitor: false, ...args } as DebugProtocol.LaunchRequestArguments);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the launch was accepted');
}

describe('bad platform input at launch', () => {
  it('a bzImage with a broken header: one line naming "program"', async () => {
    const broken = readFileSync(FAKE_BZIMAGE);
    broken.writeUInt16LE(0x1234, 0x1fe); // boot_flag
    const file = path.join(dir, 'broken-bzimage.bin');
    writeFileSync(file, broken);
    const message = await launchError({ program: file, format: 'linux' });
    expect(message).toBe(`launch: "program" ${file}: broken bzImage header: boot_flag at 0x1FE is 0x1234, not 0xAA55`);
  });

  it('an initrd that does not fit: one line naming "initrd" and the memory attribute', async () => {
    const initrd = path.join(dir, 'big-initrd.cpio');
    writeFileSync(initrd, Buffer.alloc(15 * 1024 * 1024));
    const message = await launchError({ program: FAKE_BZIMAGE, format: 'linux', initrd, memoryMB: 16 });
    expect(message).toMatch(new RegExp(`^launch: "initrd" ${initrd.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the initrd \\(15728640 bytes\\) does not fit in guest memory: .*\\(use a larger "memoryMB"\\)$`));
    expect(message).not.toContain('\n');
  });

  it('a disk file that does not exist: one line naming "disks"', async () => {
    const missing = path.join(dir, 'no-such-disk.img');
    const message = await launchError({ program: screenIoBoot(dir, 'v'), disks: [missing] });
    expect(message).toBe(`launch: "disks": cannot read ${missing} (no such file)`);
  });

  it('keys the guest never reads: the run ends as it would, and the Debug Console says how many keys were left', async () => {
    dc = await startClient();
    const output: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => output.push(e.body.output));
    await launchStopped(dc, { program: screenIoBoot(dir, 'v'), keys: 'abc' });
    const exited = dc.waitForEvent('exited') as Promise<DebugProtocol.ExitedEvent>;
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: 1 });
    expect((await exited).body.exitCode).toBe(0);
    await terminated;
    expect(output.join('')).toContain('Ringside: the guest never read 3 typed keys ("keys" or the Screen view).\n');
  });
});
