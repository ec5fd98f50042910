import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nasmInstalled } from './nasm-available';
import { imagePathFor, imageState, listingPathFor, nasmArguments, nasmIncludeDirs, probeNasm } from '../../extension/nasm-build-plan';


describe('nasm build plan', () => {
  it('puts the image beside the source with a .bin extension', () => {
    expect(imagePathFor('/w/src/boot.asm')).toBe('/w/src/boot.bin');
    expect(imagePathFor('/w/k.nasm')).toBe('/w/k.bin');
    expect(listingPathFor('/w/src/boot.bin')).toBe('/w/src/boot.lst');
    expect(nasmArguments('/w/a.asm', '/w/a.bin')).toEqual(['-f', 'bin', '/w/a.asm', '-o', '/w/a.bin', '-l', '/w/a.lst']);
    expect(nasmArguments('/w/a.asm', '/w/a.bin', ['/w/include'])).toEqual(['-f', 'bin', '-i', '/w/include/', '/w/a.asm', '-o', '/w/a.bin', '-l', '/w/a.lst']);
  });

  it('tells a missing, a stale and a fresh image apart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringside-plan-'));
    const src = join(dir, 'a.asm');
    const img = join(dir, 'a.bin');
    writeFileSync(src, 'hlt\n');
    expect(await imageState(src, img)).toBe('missing');
    writeFileSync(img, Buffer.from([0xf4]));
    expect(await imageState(src, img)).toBe('missing'); // no listing yet
    const lst = join(dir, 'a.lst');
    writeFileSync(lst, '');
    utimesSync(src, new Date(2000, 0, 1), new Date(2000, 0, 2));
    utimesSync(img, new Date(2000, 0, 1), new Date(2000, 0, 1));
    utimesSync(lst, new Date(2000, 0, 3), new Date(2000, 0, 3));
    expect(await imageState(src, img)).toBe('stale');
    utimesSync(img, new Date(2000, 0, 3), new Date(2000, 0, 3));
    expect(await imageState(src, img)).toBe('fresh');
  });

  it('finds include folders beside the source and above it, within the workspace', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'ringside-inc-'));
    mkdirSync(join(ws, 'examples', 'include'), { recursive: true });
    mkdirSync(join(ws, 'examples', 'hello', 'include'), { recursive: true });
    mkdirSync(join(ws, 'include'));
    const src = join(ws, 'examples', 'hello', 'hello.asm');
    expect(await nasmIncludeDirs(src, ws)).toEqual([join(ws, 'examples', 'hello', 'include'), join(ws, 'examples', 'include'), join(ws, 'include')]);
    expect(await nasmIncludeDirs(src, join(ws, 'examples'))).toEqual([join(ws, 'examples', 'hello', 'include'), join(ws, 'examples', 'include')]);
  });

  it('says clearly when nasm cannot be found', async () => {
    const probe = await probeNasm('/nonexistent/nasm-ringside-test');
    expect(probe).toEqual({ ok: false, message: expect.stringMatching(/^nasm is not installed .*ringside\.nasmPath/) });
  });

  it.skipIf(!nasmInstalled)('finds an installed nasm and its version', async () => {
    const probe = await probeNasm('nasm');
    expect(probe).toMatchObject({ ok: true, version: expect.stringMatching(/NASM version \d+\.\d+/) });
  });
});
