import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nasmInstalled } from './nasm-available';
import { imagePathFor, imageState, nasmArguments, probeNasm } from '../../extension/nasm-build-plan';


describe('nasm build plan', () => {
  it('puts the image beside the source with a .bin extension', () => {
    expect(imagePathFor('/w/src/boot.asm')).toBe('/w/src/boot.bin');
    expect(imagePathFor('/w/k.nasm')).toBe('/w/k.bin');
    expect(nasmArguments('/w/a.asm', '/w/a.bin')).toEqual(['-f', 'bin', '/w/a.asm', '-o', '/w/a.bin']);
  });

  it('tells a missing, a stale and a fresh image apart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringside-plan-'));
    const src = join(dir, 'a.asm');
    const img = join(dir, 'a.bin');
    writeFileSync(src, 'hlt\n');
    expect(await imageState(src, img)).toBe('missing');
    writeFileSync(img, Buffer.from([0xf4]));
    utimesSync(src, new Date(2000, 0, 1), new Date(2000, 0, 2));
    utimesSync(img, new Date(2000, 0, 1), new Date(2000, 0, 1));
    expect(await imageState(src, img)).toBe('stale');
    utimesSync(img, new Date(2000, 0, 3), new Date(2000, 0, 3));
    expect(await imageState(src, img)).toBe('fresh');
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
