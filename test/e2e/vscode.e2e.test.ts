// End to end in a real VS Code UI: code-server serves the workbench to Debian's Chromium (playwright-core), the
// freshly packaged .vsix is installed, and a person's debugging session is replayed by clicking: open the example's
// source from the Explorer, set a breakpoint, start debugging (stop on entry), read Segments → DS → cache in the
// Variables pane, tick the "Segment load" exception filter, continue to a segment-load stop, open the Segment Map.
// Each step is its own test and leaves a screenshot in test/e2e/screenshots/. Needs `bash scripts/e2e-setup.sh`
// first; without it the suite skips and says so (RINGSIDE_E2E_REQUIRED=1 turns that into a failure, for CI).
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Frame } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { CodeServer, installExtension, makeCodeServerDirs, type CodeServerDirs } from './code-server';
import { e2eRequired, findE2eEnv, PROJECT_ROOT, type E2eEnv } from './e2e-env';
import { packageInCopy } from './package-copy';
import { launchChromium, poll, Workbench } from './workbench';
import { makeExampleWorkspace, type ExampleWorkspace } from './workspace';
import { zipEntryNames } from './zip-entries';

const EXAMPLE = 'descriptor-cache';
/** `mov ds, ax` of step 2 in examples/descriptor-cache/descriptor-cache.asm: the first load of DS from the GDT. */
const BREAKPOINT_LINE = 52;
/** The Breakpoints view label of the `segment-load` filter (debug-adapter/exception-filters.ts; not imported, so
 *  this UI test does not load the engine into the test process). */
const SEGMENT_LOAD_LABEL = 'Segment load';
const SCREENSHOT_DIR = join(PROJECT_ROOT, 'test', 'e2e', 'screenshots');
/** npm run e2e keeps the step screenshots under their committed names; other runs write *.tmp.png (gitignored). */
const KEEP_SCREENSHOTS = process.env.RINGSIDE_E2E_KEEP_SCREENSHOTS === '1';
/** Files the .vsix must hold to install and activate: the manifest, the bundled extension, the adapter launcher. */
const VSIX_REQUIRED = ['extension/package.json', 'extension/dist/extension.js', 'extension/bin/ringside.js'];
/** What `bin/ringside.js dap` loads; checked before debugging starts, so the steps before it still say what works. */
const VSIX_ADAPTER = 'extension/dist/adapter.js';
/** A prebuilt .vsix to test instead of running npm run package (for working on this test while the build is broken). */
const PREBUILT_VSIX = process.env.RINGSIDE_E2E_VSIX;

const found = findE2eEnv();
if (!found.ok) console.warn(`vscode.e2e: ${e2eRequired() ? 'FAILING' : 'skipping'}: ${found.reason}`);

describe.skipIf(!found.ok && !e2eRequired())('Ringside in a real VS Code UI (code-server + Chromium)', () => {
  let env: E2eEnv;
  let root: string;
  let dirs: CodeServerDirs;
  let workspace: ExampleWorkspace;
  let vsix: string;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench;
  let failedStep: string | undefined;
  let shotNumber = 0;

  async function shot(name: string): Promise<void> {
    shotNumber++;
    const base = `${String(shotNumber).padStart(2, '0')}-${name}`;
    await wb.screenshot(KEEP_SCREENSHOTS ? base : `${base}.tmp`);
  }

  /** A scenario step: runs only while every earlier step passed, and leaves a screenshot when it fails. */
  function step(name: string, timeoutMs: number, body: () => Promise<void>): void {
    it(name, async (ctx: TestContext) => {
      if (failedStep) ctx.skip(`an earlier step failed: ${failedStep}`);
      try {
        await body();
      } catch (err) {
        failedStep = name;
        if (wb) await wb.screenshot(`failure-${name.replace(/[^a-z0-9]+/gi, '-')}.tmp`).catch(() => undefined);
        throw err;
      }
    }, timeoutMs);
  }

  beforeAll(() => {
    if (!found.ok) throw new Error(found.reason);
    env = found.env;
    root = mkdtempSync(join(tmpdir(), 'ringside-e2e-'));
    dirs = makeCodeServerDirs(root);
    workspace = makeExampleWorkspace(root, EXAMPLE, { stopOnEntry: true });
  });

  afterAll(async () => {
    // Always take code-server's whole process group down, whatever failed.
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (!failedStep && root) rmSync(root, { recursive: true, force: true });
    else if (root) console.warn(`vscode.e2e: kept ${root} (code-server log: ${dirs?.logFile})`);
  }, 30_000);

  step('packages the extension with npm run package', 180_000, async () => {
    if (PREBUILT_VSIX) {
      console.warn(`vscode.e2e: testing the prebuilt ${PREBUILT_VSIX} (RINGSIDE_E2E_VSIX), not a fresh npm run package`);
      vsix = join(root, 'ringside.vsix');
      copyFileSync(PREBUILT_VSIX, vsix);
    } else {
      vsix = packageInCopy(PROJECT_ROOT, root);
    }
    const entries = zipEntryNames(vsix);
    for (const file of VSIX_REQUIRED) expect(entries, `the .vsix lacks ${file}`).toContain(file);
  });

  step('installs the .vsix with code-server --install-extension', 120_000, async () => {
    const output = installExtension(env, dirs, vsix);
    expect(output).toMatch(/successfully installed/i);
  });

  step('serves the workbench and shows the example in the Explorer', 120_000, async () => {
    server = await CodeServer.start(env, dirs, workspace.folder);
    browser = await launchChromium(env.chromium);
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    wb = new Workbench(page, SCREENSHOT_DIR);
    await wb.open(server.url, workspace.sourceName);
    await expect(wb.explorerRow(workspace.imageName).count()).resolves.toBe(1);
    await shot('workbench');
  });

  step('opens the NASM source by clicking its Explorer row', 60_000, async () => {
    await wb.openFromExplorer(workspace.sourceName);
    // The status bar names the language the extension contributes.
    await poll('the NASM language mode in the status bar', async () =>
      (await wb.page.locator('.statusbar-item', { hasText: /^NASM$/ }).count()) > 0 ? true : undefined,
    );
    await shot('source-open');
  });

  step(`sets a breakpoint on line ${BREAKPOINT_LINE}`, 60_000, async () => {
    await wb.goToLine(BREAKPOINT_LINE);
    await wb.runCommand('Debug: Toggle Breakpoint');
    const glyph = wb.page.locator('.glyph-margin-widgets [class*="codicon-debug-breakpoint"]');
    await glyph.first().waitFor({ state: 'visible', timeout: 10_000 });
    await wb.page.keyboard.press('Control+Shift+D'); // Run and Debug view
    const rows = await poll('the breakpoint in the Breakpoints view', async () => {
      const texts = await wb.rowTexts('debug-breakpoints');
      return texts.some((t) => t.includes(workspace.sourceName) && t.includes(String(BREAKPOINT_LINE))) ? texts : undefined;
    });
    expect(rows.join('\n')).toContain(workspace.sourceName);
    await shot('breakpoint');
  });

  step('starts debugging from the Run view and stops on entry', 90_000, async () => {
    expect(zipEntryNames(vsix), `the .vsix lacks ${VSIX_ADAPTER}, which \`bin/ringside.js dap\` loads`).toContain(VSIX_ADAPTER);
    await wb.page.locator('.start-debug-action-item .codicon-debug-start').click();
    await wb.page.locator('.debug-toolbar .codicon-debug-continue').waitFor({ state: 'visible', timeout: 60_000 });
    const state = await poll('the Call Stack to say the guest stopped on entry', async () => {
      const text = await wb.stopState();
      return /entry/i.test(text) ? text : undefined;
    }, 30_000, async () => `Call Stack state: "${await wb.stopState()}", rows: ${JSON.stringify(await wb.rowTexts('debug-call-stack'))}`);
    expect(state).toMatch(/entry/i);
    // The top frame is the entry point of the flat binary, 0000:7C00 (launch.json keeps the default load address).
    expect((await wb.rowTexts('debug-call-stack'))[0]).toMatch(/0000:7c00/i);
    await shot('stopped-on-entry');
  });

  step('shows Segments in the Variables pane and DS with its hidden cache', 60_000, async () => {
    // The list renders only the rows in view: make room for Segments → DS → cache.
    for (const pane of ['Watch', 'Call Stack', 'Loaded Scripts', 'Breakpoints']) await wb.setPaneExpanded(pane, false);
    await wb.collapseVariable('Registers');
    await wb.expandVariable('Segments');
    await wb.expandVariable('DS');
    await wb.expandVariable('cache');
    const rows = await poll(
      'the fields of DS.cache',
      async () => {
        const texts = await wb.rowTexts('debug-variables');
        return ['base', 'limit', 'type', 'dpl'].every((f) => texts.some((t) => new RegExp(`^${f} =`).test(t)))
          ? texts
          : undefined;
      },
      20_000,
      async () => `Variables rows: ${JSON.stringify(await wb.rowTexts('debug-variables'))}`,
    );
    // Real mode at entry: DS = 0x0000, its cache base 0 and limit 0xFFFF (reset state, SDM Vol. 3A §9.1.1).
    expect(rows).toContainEqual(expect.stringMatching(/^DS = 0x[0-9a-f]{4}\b/i));
    expect(rows).toContainEqual(expect.stringMatching(/^base = 0x0+$/i));
    expect(rows).toContainEqual(expect.stringMatching(/^limit = 0x0*ffff$/i));
    await shot('variables-ds-cache');
  });

  step(`ticks the "${SEGMENT_LOAD_LABEL}" exception filter in the Breakpoints view`, 60_000, async () => {
    await wb.collapseVariable('Segments');
    for (const pane of ['Call Stack', 'Breakpoints']) await wb.setPaneExpanded(pane, true);
    const filterRow = wb.page
      .locator('.debug-breakpoints .monaco-list-row')
      .filter({ has: wb.page.locator('.breakpoint.exception .name', { hasText: new RegExp(`^${SEGMENT_LOAD_LABEL}$`) }) })
      .first();
    await filterRow.waitFor({ state: 'visible', timeout: 20_000 });
    const checkbox = filterRow.locator('.monaco-checkbox, input[type="checkbox"]').first();
    const checked = async () =>
      (await checkbox.getAttribute('aria-checked')) === 'true' || (await checkbox.isChecked().catch(() => false));
    if (!(await checked())) await checkbox.click();
    await poll(`the "${SEGMENT_LOAD_LABEL}" checkbox to be checked`, async () => ((await checked()) ? true : undefined), 10_000);
    await shot('segment-load-filter');
  });

  step('continues to a stop on a segment load', 90_000, async () => {
    await wb.debugToolbar('debug-continue');
    const state = await poll('the Call Stack to say the guest stopped on a segment load', async () => {
      const text = await wb.stopState();
      return /segment-load/i.test(text) ? text : undefined;
    }, 60_000, async () => `Call Stack state: "${await wb.stopState()}", rows: ${JSON.stringify(await wb.rowTexts('debug-call-stack'))}`);
    expect(state).toMatch(/segment-load/i);
    // The editor's exception widget gives the event: which register was loaded, from what, and why.
    const widget = await poll('the exception widget', async () => {
      const texts = await wb.page.locator('.exception-widget').allInnerTexts();
      return texts.length > 0 ? texts.join('\n') : undefined;
    });
    expect(widget).toMatch(/Exception has occurred: segment-load/);
    expect(widget).toMatch(/\b(CS|SS|DS|ES|FS|GS)\b/);
    await shot('segment-load-stop');
  });

  step('opens the Segment Map from the Command Palette', 60_000, async () => {
    await wb.runCommand('Ringside: Show Segment Map');
    await wb.page.locator('.tabs-container .tab', { hasText: 'Segment Map' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    const frame = await poll('the Segment Map webview to show DS', async () => {
      for (const f of wb.page.frames()) {
        if ((await f.locator('section.register[data-register="DS"]').count().catch(() => 0)) > 0) return f;
      }
      return undefined;
    }, 30_000);
    const ds = await (frame as Frame).locator('section.register[data-register="DS"]').innerText();
    expect(ds).toMatch(/^DS\s+0x[0-9a-f]{4}/i);
    expect(ds).toMatch(/\bcache\b/);
    await expect((frame as Frame).locator('section.register[data-register="CS"]').count()).resolves.toBe(1);
    await shot('segment-map');
  });

  step('stops the debug session from the toolbar', 60_000, async () => {
    await wb.debugToolbar('debug-stop');
    await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 20_000 });
  });
});
