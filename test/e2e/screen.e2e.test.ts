// End to end in a real VS Code UI: the Guest Screen view. A boot sector that echoes keys on its text screen
// (test/e2e/guests/typewriter.asm) runs under the freshly packaged extension in code-server; "Ringside: Show
// Screen" from the Command Palette opens the view, keys pressed in it reach the guest's keyboard, the guest's echo
// shows in the view, and '@' switches the guest to VBE 800x600x32, which the view draws from the framebuffer.
// Screenshots: screenshots/13-screen-text.png and 14-screen-vbe.png (npm run e2e keeps them; other runs write
// *.tmp.png). Needs `bash scripts/e2e-setup.sh` first, like vscode.e2e.test.ts.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Frame } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeServer, installExtension, makeCodeServerDirs, type CodeServerDirs } from './code-server';
import { e2eRequired, findE2eEnv, PROJECT_ROOT, type E2eEnv } from './e2e-env';
import { packageInCopy } from './package-copy';
import { launchChromium, poll, Workbench } from './workbench';

const IMAGE = 'typewriter.img';
const SOURCE = 'typewriter.asm';
const SCREENSHOT_DIR = join(PROJECT_ROOT, 'test', 'e2e', 'screenshots');
const KEEP_SCREENSHOTS = process.env.RINGSIDE_E2E_KEEP_SCREENSHOTS === '1';
const TYPED = 'hello ring';

const found = findE2eEnv();
if (!found.ok) console.warn(`screen.e2e: ${e2eRequired() ? 'FAILING' : 'skipping'}: ${found.reason}`);

describe.skipIf(!found.ok && !e2eRequired())('the Guest Screen view in a real VS Code UI', () => {
  let env: E2eEnv;
  let root: string;
  let dirs: CodeServerDirs;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench;
  let failed = false;

  const shot = (name: string): Promise<string> => wb.screenshot(KEEP_SCREENSHOTS ? name : `${name}.tmp`);

  /** The webview frame of the Guest Screen view once it shows `selector`. */
  function screenFrame(what: string, selector: string, has: (f: Frame) => Promise<boolean>): Promise<Frame> {
    return poll(what, async () => {
      for (const f of wb.page.frames()) {
        if ((await f.locator(selector).count().catch(() => 0)) > 0 && (await has(f).catch(() => false))) return f;
      }
      return undefined;
    }, 60_000);
  }

  beforeAll(() => {
    if (!found.ok) throw new Error(found.reason);
    env = found.env;
    root = mkdtempSync(join(tmpdir(), 'ringside-e2e-screen-'));
    dirs = makeCodeServerDirs(root);
    const folder = join(root, 'workspace');
    mkdirSync(join(folder, '.vscode'), { recursive: true });
    for (const file of [IMAGE, SOURCE]) copyFileSync(join(PROJECT_ROOT, 'test', 'e2e', 'guests', file), join(folder, file));
    const configuration = { type: 'ringside', request: 'launch', name: 'Ringside: typewriter', program: `\${workspaceFolder}/${IMAGE}`, stopOnEntry: false };
    writeFileSync(join(folder, '.vscode', 'launch.json'), JSON.stringify({ version: '0.2.0', configurations: [configuration] }, null, 2));
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (!failed && root) rmSync(root, { recursive: true, force: true });
    else if (root) console.warn(`screen.e2e: kept ${root} (code-server log: ${dirs?.logFile})`);
  }, 30_000);

  it('types into the guest through the Screen view and sees its text screen, then its VBE framebuffer', async () => {
    try {
      const vsix = process.env.RINGSIDE_E2E_VSIX ?? packageInCopy(PROJECT_ROOT, root);
      expect(installExtension(env, dirs, vsix)).toMatch(/successfully installed/i);
      server = await CodeServer.start(env, dirs, join(root, 'workspace'));
      browser = await launchChromium(env.chromium);
      wb = new Workbench(await browser.newPage({ viewport: { width: 1600, height: 1000 } }), SCREENSHOT_DIR);
      wb.page.on('console', (m) => m.type() === 'error' && console.warn(`screen.e2e: browser console: ${m.text()}`));
      await wb.open(server.url, IMAGE);
      await wb.openFromExplorer(SOURCE); // the view opens beside the guest's source

      // Start debugging from the Run view: the guest runs (no stop on entry) and waits for keys.
      await wb.page.keyboard.press('Control+Shift+D');
      await wb.page.locator('.start-debug-action-item .codicon-debug-start').click();
      await wb.page.locator('.debug-toolbar .codicon-debug-pause').waitFor({ state: 'visible', timeout: 60_000 });

      const screenTab = wb.page.locator('.tabs-container .tab', { hasText: 'Guest Screen' }).first();
      await wb.runCommand('Ringside: Show Screen');
      await screenTab.waitFor({ state: 'visible', timeout: 30_000 });
      const text = await screenFrame('the Guest Screen view with the guest\'s title bar', 'pre.text', async (f) =>
        /Ringside typewriter/.test(await f.locator('pre.text').innerText()),
      );
      expect(await text.locator('.status').innerText()).toMatch(/running/);

      // Keys pressed with the view focused go to the guest's keyboard; the guest echoes them on its screen.
      await text.locator('body').click();
      await wb.page.keyboard.type(TYPED, { delay: 30 });
      await wb.page.keyboard.press('Enter');
      await wb.page.keyboard.type('2nd line', { delay: 30 });
      const echoed = await poll('the typed line on the guest\'s screen', async () => {
        const t = await text.locator('pre.text').innerText();
        return new RegExp(`> ${TYPED} *\\n> 2nd line`).test(t) ? t : undefined;
      }, 30_000);
      expect(echoed.split('\n')[0]).toMatch(/^ Ringside typewriter/);
      // The title bar is white on blue (attribute 1Fh): the view draws the guest's colours.
      await expect(text.locator('pre.text span').first().getAttribute('style')).resolves.toMatch(/background:/);
      await shot('13-screen-text');

      // '@': the guest sets VBE 800x600x32 and paints its framebuffer; the view shows it as a picture.
      await wb.page.keyboard.type('@');
      const vbe = await screenFrame('the framebuffer in the Guest Screen view', 'img.framebuffer', async () => true);
      expect(await vbe.locator('.status').innerText()).toMatch(/VBE 800x600x32/);
      await expect(vbe.locator('img.framebuffer').getAttribute('width')).resolves.toBe('800');
      // The guest paints row by row (red grows to the right, green downwards, blue 60h); the view follows it while
      // it runs, up to the last pixel: (799, 599) is C7h/95h/60h.
      await poll('the whole gradient in the framebuffer picture', async () => {
        const rgb = await vbe.locator('img.framebuffer').evaluate((img: HTMLImageElement) => {
          const canvas = document.createElement('canvas');
          canvas.width = img.naturalWidth;
          canvas.height = img.naturalHeight;
          const ctx = canvas.getContext('2d');
          if (!ctx || !img.complete || img.naturalWidth !== 800) return null;
          ctx.drawImage(img, 0, 0);
          return Array.from(ctx.getImageData(799, 599, 1, 1).data.slice(0, 3));
        });
        return rgb !== null && rgb[0] === 0xc7 && rgb[1] === 0x95 && rgb[2] === 0x60 ? true : undefined;
      }, 60_000);
      await shot('14-screen-vbe');

      await wb.debugToolbar('debug-stop');
      await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 20_000 });
    } catch (err) {
      failed = true;
      if (wb) await wb.screenshot('failure-screen.tmp').catch(() => undefined);
      throw err;
    }
  }, 600_000);
});
