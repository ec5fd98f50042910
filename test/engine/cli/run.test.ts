import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'bin', 'ringside.js');

function ringside(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(() => {
  spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'ringside-cli-'));
  // mov al,'H' / out 0xE9,al / mov al,'i' / out 0xE9,al / mov al,5 / out 0xF4,al
  writeFileSync(join(dir, 'exit5.bin'), Uint8Array.from([0xb0, 0x48, 0xe6, 0xe9, 0xb0, 0x69, 0xe6, 0xe9, 0xb0, 0x05, 0xe6, 0xf4]));
  writeFileSync(join(dir, 'spin.bin'), Uint8Array.from([0xeb, 0xfe]));
  writeFileSync(join(dir, 'halt.bin'), Uint8Array.from([0xfa, 0xf4]));
  writeFileSync(join(dir, 'sti-halt.bin'), Uint8Array.from([0xfb, 0xf4]));
});

describe('ringside run', () => {
  it('--disk names a missing disk file in one line, exit code 1', () => {
    const r = ringside(['run', join(dir, 'exit5.bin'), '--disk', join(dir, 'no-such-disk.img')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ringside: cannot read disk ${join(dir, 'no-such-disk.img')}: ENOENT\n`);
  });

  it('--disk is repeatable: the disks become the primary slave, secondary master and secondary slave', () => {
    const guest = join(root, 'test', 'engine', 'devices', 'guests', 'ata-disks.bin');
    const disks = ['D1', 'D2', 'D3'].map((label) => {
      const file = join(dir, `${label}.img`);
      const bytes = new Uint8Array(1024);
      bytes.set(Buffer.from(label));
      writeFileSync(file, bytes);
      return file;
    });
    const r = ringside(['run', guest, ...disks.flatMap((d) => ['--disk', d])]);
    expect(r.code).toBe(0);
    expect(r.stdout.slice(5)).toBe('D1\0\0 D2\0\0 D3\0\0 WRIT ');
    expect(readFileSync(disks[2]).subarray(0, 4).toString()).toBe('D3\0\0'); // the file is never changed
  });

  it('prints guest output, exits with the guest exit code and reports JSON last', () => {
    const r = ringside(['run', join(dir, 'exit5.bin'), '--json', '--port-log', '0xE9']);
    expect(r.code).toBe(5);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0].startsWith('Hi')).toBe(true);
    const summary = JSON.parse(lines[lines.length - 1].replace(/^Hi/, ''));
    expect(summary).toMatchObject({ stop: 'exit', exitCode: 5, instructions: 6, ports: { '0xe9': [0x48, 0x69] } });
    expect(typeof summary.mips).toBe('number');
  });

  it('traces port-io events one per line on stderr', () => {
    const r = ringside(['run', join(dir, 'exit5.bin'), '--trace', 'port-io']);
    expect(r.stderr.trim().split('\n')).toEqual([
      'port-io out port=0x00e9 size=1 value=0x48',
      'port-io out port=0x00e9 size=1 value=0x69',
      'port-io out port=0x00f4 size=1 value=0x05',
    ]);
  });

  it('exits 0 on HLT with interrupts disabled', () => {
    expect(ringside(['run', join(dir, 'halt.bin')]).code).toBe(0);
  });

  it('says so when the guest halts with interrupts enabled and nothing can wake it', () => {
    const r = ringside(['run', join(dir, 'sti-halt.bin')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/halted with interrupts enabled/);
    expect(ringside(['run', join(dir, 'halt.bin')]).stderr).toBe('');
  });

  it('exits 2 at the instruction limit', () => {
    const r = ringside(['run', join(dir, 'spin.bin'), '--max-instructions', '1000', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ stop: 'limit', instructions: 1000 });
  });

  it.each([
    [['run'], /exactly one IMAGE/],
    [['run', '/nonexistent/image.bin'], /cannot read image/],
    [['run', 'x', '--format', 'exe'], /unknown format "exe"/],
    [['run', 'x', '--memory', 'lots'], /--memory: "lots" is not a number/],
    [['run', 'x', '--bogus'], /unknown option --bogus/],
    [['run', 'x', '--trace', 'segment-load,nonsense'], /unknown event "nonsense"/],
    [['frobnicate'], /unknown command/],
  ])('rejects %j with one clear line and exit code 1', (args, message) => {
    const r = ringside(args as string[]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reports a truncated ELF image as an error', () => {
    const path = join(dir, 'broken.elf');
    writeFileSync(path, Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]));
    const r = ringside(['run', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ringside: /);
  });

  it('prints --version and --help', () => {
    expect(ringside(['--version']).stdout).toMatch(/^ringside \d+\.\d+\.\d+/);
    expect(ringside(['--help']).stdout).toMatch(/ringside run IMAGE/);
  });
});
