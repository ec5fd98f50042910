import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCsvMasks, loadMetadataMasks, MaskFileError } from '../../engine/conformance/flag-masks';
import { parseRevocationList } from '../../engine/conformance/revocation-list';
import { findCompanion, findMooFiles, globToRegExp, matchesFilter } from '../../engine/conformance/test-files';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ringside-conform-'));
}

describe('undefined-flag masks', () => {
  it('metadata.json: by opcode, and by reg field for groups', () => {
    const dir = tempDir();
    const path = join(dir, 'metadata.json');
    writeFileSync(path, JSON.stringify({
      opcodes: {
        '08': { status: 'normal', 'flags-mask': 65519 },
        '00': { status: 'normal' },
        F6: { reg: { '4': { 'flags-mask': 65323 }, '0': { status: 'normal' } } },
      },
    }));
    const t = loadMetadataMasks(path);
    expect(t.lookup(0x08, 1)).toBe(65519);
    expect(t.lookup(0x00, null)).toBeNull();
    expect(t.lookup(0xf6, 4)).toBe(65323);
    expect(t.lookup(0xf6, 0)).toBeNull();
    expect(t.lookup(0x0f01, 0)).toBeNull();
    writeFileSync(path, '{"opcodes": 3}');
    expect(() => loadMetadataMasks(path)).toThrow(MaskFileError);
  });

  it('80386.csv: op / ex / f_umask columns, quoted fields, two-byte opcodes', () => {
    const dir = tempDir();
    const path = join(dir, '80386.csv');
    writeFileSync(path, [
      'op,re,g,ex,ud,pf,66,67,fc,pm,lck,rep,so,reg,m,mnemonic,f_umask,desc',
      '08,,,,,,1,1,,,1,,1,1,1,OR,FFEF,"logical, inclusive OR"',
      'C0,,2,4,,,1,1,,,,,1,1,1,SHL,F7FF,shift',
      '0FBC,,,,,,1,1,,,,,1,1,1,BSF,0x08D4,bit scan',
      '00,,,,,,1,1,,,1,,1,1,1,ADD,,add',
    ].join('\n'));
    const t = loadCsvMasks(path);
    expect(t.lookup(0x08, 3)).toBe(0xffef);
    expect(t.lookup(0xc0, 4)).toBe(0xf7ff);
    expect(t.lookup(0xc0, 5)).toBeNull();
    // 0x08D4 lists undefined bits (OF SF ZF AF PF... fewer than 8 set): inverted to an AND mask.
    expect(t.lookup(0x0fbc, 0)).toBe(~0x08d4 >>> 0);
    expect(t.lookup(0x00, 0)).toBeNull();
    writeFileSync(path, 'x,y\n1,2\n');
    expect(() => loadCsvMasks(path)).toThrow(/lacks/);
  });
});

describe('revocation list', () => {
  it('keeps hashes, skips comments and blank lines, rejects garbage', () => {
    const set = parseRevocationList('# comment\n\n8ABBBC61A5866292B0BC816660D7B334BEA7962A\n', 'list');
    expect([...set]).toEqual(['8abbbc61a5866292b0bc816660d7b334bea7962a']);
    expect(() => parseRevocationList('not-a-hash\n', 'list')).toThrow(/list:1/);
  });
});

describe('files and companions', () => {
  it('walks a directory for .MOO / .MOO.gz in name order and finds companions nearest first', () => {
    const root = tempDir();
    mkdirSync(join(root, 'v1_real_mode'));
    for (const n of ['01.MOO.gz', '00.MOO.gz', 'notes.txt', '80.4.moo']) writeFileSync(join(root, 'v1_real_mode', n), '');
    writeFileSync(join(root, 'revocation_list.txt'), '');
    writeFileSync(join(root, 'v1_real_mode', 'metadata.json'), '{}');
    const files = findMooFiles(root);
    expect(files.map((f) => f.slice(root.length + 1))).toEqual(['v1_real_mode/00.MOO.gz', 'v1_real_mode/01.MOO.gz', 'v1_real_mode/80.4.moo']);
    expect(findCompanion(files[0], 'revocation_list.txt')).toBe(join(root, 'revocation_list.txt'));
    expect(findCompanion(files[0], 'metadata.json')).toBe(join(root, 'v1_real_mode', 'metadata.json'));
    expect(findCompanion(files[0], '80386.csv')).toBeNull();
    expect(() => findMooFiles(join(root, 'missing'))).toThrow(/no such file/);
  });

  it('globs match names with or without the MOO suffix', () => {
    expect(matchesFilter('/x/80.4.MOO.gz', globToRegExp('80.*'))).toBe(true);
    expect(matchesFilter('/x/80.4.MOO.gz', globToRegExp('80.4'))).toBe(true);
    expect(matchesFilter('/x/81.4.MOO.gz', globToRegExp('80.*'))).toBe(false);
    expect(matchesFilter('/x/0A.MOO', globToRegExp('0[0-9A-F].moo'))).toBe(true);
    expect(matchesFilter('/x/1A.MOO', globToRegExp('0?'))).toBe(false);
  });
});
