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
    // The guest's "Hi" has no newline: the summary still starts a line of its own.
    expect(lines[0]).toBe('Hi');
    const summary = JSON.parse(lines[lines.length - 1]);
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

  it('--cpu picks the model (pentium-pro by default) and --json reports it', () => {
    const image = join(dir, 'spin.bin');
    const summary = (args: string[]) => JSON.parse(ringside(['run', image, '--max-instructions', '10', '--json', ...args]).stdout.trim().split('\n').pop()!);
    expect(summary([]).cpu).toBe('pentium-pro');
    for (const model of ['486sx', '486dx', 'pentium', 'pentium-pro']) expect(summary(['--cpu', model]).cpu).toBe(model);
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
    [['run', 'x', '--cpu', '386'], /--cpu: unknown model "386" \(expected 486sx\|486dx\|pentium\|pentium-pro\)/],
    [['lockstep', 'x', '--cpu', 'p6'], /--cpu: unknown model "p6"/],
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

  it.each([
    ['run', /^usage: ringside run IMAGE[\s\S]*--max-instructions/],
    ['conform', /^usage: ringside conform DIR\|FILE[\s\S]*--filter GLOB/],
    ['lockstep', /^usage: ringside lockstep IMAGE[\s\S]*--random N/],
    ['dap', /^usage: ringside dap/],
  ])('prints the usage of %s for --help and -h, exit code 0', (command, usage) => {
    for (const flag of ['--help', '-h']) {
      const r = ringside([command, flag]);
      expect(r.code, `${command} ${flag}`).toBe(0);
      expect(r.stdout).toMatch(usage);
      expect(r.stderr).toBe('');
    }
    // Also after other arguments.
    expect(ringside([command, 'x', '--help']).code).toBe(0);
  });

  it('keeps --json on a line of its own after guest output without a newline, also when the run fails', () => {
    const out = ringside(['run', join(dir, 'exit5.bin'), '--json']);
    expect(out.stdout).toMatch(/^Hi\n\{"stop":"exit"/);
    // A failure after guest output (the limit) and an error before any output (no newline added there).
    const limit = ringside(['run', join(dir, 'spin.bin'), '--json', '--max-instructions', '10']);
    expect(limit.stdout).toMatch(/^\{"stop":"limit"/);
    const bad = ringside(['run', '/nonexistent.bin', '--json']);
    expect(bad.stdout).toMatch(/^\{"stop":"error"/);
  });

  it.each([
    ['--load', ['--format', 'bin']],
    ['--entry', ['--format', 'bin']],
    ['--memory', []],
    ['--max-instructions', []],
    ['--port-log', []],
  ])('reports a number too large for %s as it was typed', (option, extra) => {
    for (const typed of ['0xFFFFFFFFFFFFFFFFFFFF', '99999999999999999999999']) {
      const r = ringside(['run', join(dir, 'exit5.bin'), ...extra, option, typed]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`"${typed}" is too large`);
      expect(r.stderr).not.toMatch(/e\+\d/);
    }
    // lockstep and conform quote it too.
    expect(ringside(['lockstep', join(dir, 'exit5.bin'), '--instructions', '0xFFFFFFFFFFFFFFFFFFFF']).stderr).toContain('"0xFFFFFFFFFFFFFFFFFFFF" is too large');
    expect(ringside(['conform', dir, '--limit', '99999999999999999999999']).stderr).toContain('"99999999999999999999999" is too large');
  });

  it('--output-times writes the guest time of every output byte, the same bare and monitored', () => {
    const r = ringside(['run', join(dir, 'exit5.bin'), '--output-times', join(dir, 'exit5.times')]);
    expect(r.code).toBe(5);
    // Each OUT leaves its byte after the instructions before it: MOV, then OUT (1); MOV, OUT, MOV, then OUT (3).
    expect(readFileSync(join(dir, 'exit5.times'), 'utf8')).toBe('1 e9 48\n3 e9 69\n');
    // The timer example prints on port E9h and COM1 under its PIT interrupt: every byte at the same guest time.
    const timer = join(root, 'examples', 'timer', 'timer.bin');
    const runs = ['bare', 'monitor'].map((mode) => {
      const file = join(dir, `timer-${mode}.times`);
      const t = ringside(['run', timer, '--output-times', file, ...(mode === 'monitor' ? ['--monitor'] : [])]);
      expect(t.code, t.stderr).toBe(0);
      return { lines: readFileSync(file, 'utf8').trimEnd().split('\n'), stdout: t.stdout, stderr: t.stderr };
    });
    const e9 = runs[0].lines.filter((l) => l.split(' ')[1] === 'e9');
    const com1 = runs[0].lines.filter((l) => l.split(' ')[1] === 'com1');
    expect(Buffer.from(e9.map((l) => parseInt(l.split(' ')[2], 16))).toString('latin1')).toBe(runs[0].stdout);
    expect(com1.length).toBeGreaterThan(0);
    expect(Buffer.from(com1.map((l) => parseInt(l.split(' ')[2], 16))).toString('latin1')).toBe(runs[0].stderr);
    expect(runs[1].lines).toEqual(runs[0].lines);
    const unwritable = ringside(['run', join(dir, 'exit5.bin'), '--output-times', join(dir, 'no-such-folder', 'x.times')]);
    expect([unwritable.code, unwritable.stderr]).toEqual([1, `ringside: option --output-times: cannot write ${join(dir, 'no-such-folder', 'x.times')}: ENOENT\n`]);
  });

  it('names the largest address when --load is beyond 32 bits', () => {
    expect(ringside(['run', join(dir, 'exit5.bin'), '--load', '0x100000000']).stderr).toMatch(/--load: "0x100000000" is too large \(at most 0xFFFFFFFF\)/);
  });
});

describe('ringside conform', () => {
  it('says so and exits 1 when a folder holds no test files', () => {
    const empty = mkdtempSync(join(tmpdir(), 'ringside-empty-'));
    const r = ringside(['conform', empty]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no \.MOO or \.MOO\.gz files in .*: nothing was run/);
  });

  it('says so and exits 1 when the filter matches nothing', () => {
    const r = ringside(['conform', join(root, 'test/fixtures/moo'), '--filter', 'no-such-file*']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no \.MOO or \.MOO\.gz files matching no-such-file\* in .*: nothing was run/);
    // The same folder with a filter that matches runs and passes.
    expect(ringside(['conform', join(root, 'test/fixtures/moo'), '--limit', '2']).code).toBe(0);
  });
});
