// A launch that fails names the attribute at fault, with its value: the launch check for what it can judge alone
// (memoryMB against the engine's maximum), the machine for what needs the files (a symbols file that is not ELF
// or is cut short, a flat binary placed outside memory, an entry real mode cannot reach).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, FIXTURES } from './dap-client';
import { RawDap } from './raw-dap';
import { MAX_MEMORY_MB as CHECKED_MAX } from '../../debug-adapter/launch-attributes';
import { Machine, MAX_MEMORY_MB } from '../../engine/machine/machine';

const SPIN = path.join(FIXTURES, 'spin.bin');
const ELF = path.join(FIXTURES, 'frames.elf');
let dap: RawDap;
let tmp: string;
beforeAll(() => {
  buildOnce();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ringside-blame-'));
}, 60000);
afterEach(() => dap?.kill());
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function launchError(args: Record<string, unknown>): Promise<string> {
  dap = new RawDap();
  await dap.request('initialize', { adapterID: 'ringside' });
  const r = await dap.request('launch', { monitor: false, ...args });
  expect(r.success).toBe(false);
  return r.message ?? '';
}

describe('launch errors name the attribute at fault', () => {
  it('takes the engine\'s maximum memory as the launch check\'s', () => {
    expect(CHECKED_MAX).toBe(MAX_MEMORY_MB);
    expect(new Machine({ memoryMB: MAX_MEMORY_MB }).mem.size).toBe(MAX_MEMORY_MB * 1024 * 1024);
    expect(() => new Machine({ memoryMB: MAX_MEMORY_MB + 1 })).toThrow(/memory must be 1 to 3072 MiB/);
  });

  it('refuses memoryMB 3073 to 4095 at the launch check, naming memoryMB', async () => {
    for (const memoryMB of [3073, 4095]) {
      const m = await launchError({ program: SPIN, memoryMB });
      expect(m).toMatch(new RegExp(`"memoryMB" must be a whole number from 1 to 3072, not number ${memoryMB}`));
      expect(m).not.toMatch(/"program"/);
      dap.kill();
    }
  });

  // A symbols file only helps (issue 15: never a failed session for it): the launch goes on, and the Debug Console
  // says what is wrong with it, naming "symbols" (issue 17 item 6: not "program").
  async function symbolsWarning(symbols: string): Promise<string> {
    dap = new RawDap();
    await dap.request('initialize', { adapterID: 'ringside' });
    const r = await dap.request('launch', { monitor: false, program: SPIN, symbols, stopOnEntry: true });
    expect(r.success).toBe(true);
    const out = await dap.waitFor((m) => m.type === 'event' && m.event === 'output' && /"symbols"/.test(String((m.body as { output?: string })?.output)));
    return String((out.body as { output: string }).output);
  }

  it('names "symbols" for a symbols file that is not ELF or is cut short', async () => {
    const notElf = await symbolsWarning(SPIN);
    expect(notElf).toMatch(/"symbols" .*spin\.bin: not an ELF file/);
    expect(notElf).not.toMatch(/"program"/);
    dap.kill();
    const cut = path.join(tmp, 'cut.elf');
    fs.writeFileSync(cut, fs.readFileSync(ELF).subarray(0, 200));
    expect(await symbolsWarning(cut)).toMatch(/"symbols" .*cut\.elf: ELF .* lies outside the file/);
  });

  it('names "loadAddress" for a flat binary placed outside memory, with the memory size', async () => {
    const m = await launchError({ program: SPIN, format: 'bin', loadAddress: '0xfffffe', memoryMB: 16 });
    expect(m).toMatch(/^launch: "loadAddress" 0x00fffffe: .* lies outside the 16 MiB of guest memory \("memoryMB" is 16\)/);
  });

  it('names "entry" for an entry real mode cannot reach', async () => {
    const m = await launchError({ program: SPIN, format: 'bin', entry: '0x200000', mode: 'real' });
    expect(m).toMatch(/^launch: "entry" 0x00200000: .*cannot be reached in real mode/);
  });

  it('names "program" for an image that is not what its format says', async () => {
    expect(await launchError({ program: SPIN, format: 'elf' })).toMatch(/^launch: "program" .*spin\.bin: not an ELF file/);
  });
});
