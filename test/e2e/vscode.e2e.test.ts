// End to end in a real VS Code UI: code-server serves the workbench to Debian's Chromium (playwright-core), the
// freshly packaged .vsix is installed, and a person's debugging session on examples/descriptor-cache is replayed
// by clicking: open the source from the Explorer, set a breakpoint, start debugging (stop on entry), read
// Segments → DS → cache in the Variables pane, tick the "Segment load" exception filter with a condition, continue
// to the breakpoint (on the `mov ds, ax` of step 2), continue to DS being loaded with selector 0x18, tick "Cache becomes inconsistent", continue to the GDT write that makes
// DS's cache stale, and open the Segment Map. Each step is its own test and leaves a screenshot in
// test/e2e/screenshots/. Needs `bash scripts/e2e-setup.sh` first; without it the suite skips and says so
// (RINGSIDE_E2E_REQUIRED=1 turns that into a failure, for CI).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Frame } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { CodeServer, installExtension, makeCodeServerDirs, type CodeServerDirs } from './code-server';
import { e2eRequired, findE2eEnv, PROJECT_ROOT, type E2eEnv } from './e2e-env';
import { packageInCopy } from './package-copy';
import { launchChromium, poll, Workbench } from './workbench';
import { scenarioSteps } from './scenario-steps';
import { makeExampleWorkspace, type ExampleWorkspace } from './workspace';
import { zipEntryNames } from './zip-entries';

const EXAMPLE = 'descriptor-cache';
/** `mov ds, ax` of step 2 in examples/descriptor-cache/descriptor-cache.asm: the first load of DS from the GDT. */
const BREAKPOINT_LINE = 52;
/** Breakpoints view labels of the `segment-load` and `cache-inconsistent` filters (debug-adapter/exception-filters.ts;
 *  not imported, so that this UI test does not load the engine into the test process). */
const SEGMENT_LOAD_LABEL = 'Segment load';
const CACHE_INCONSISTENT_LABEL = 'Cache becomes inconsistent';
/** Step 2 of the example: `mov ds, ax` with SEL_WINDOW = 0x18, GDT entry 3 with base 0x00020000, limit 0xFFFF. */
const DS_LOAD_CONDITION = 'reg == DS && selector == 0x18';
/** A launch configuration with an ill-typed attribute: VS Code must say what is wrong instead of starting. */
const BAD_CONFIGURATION = {
  type: 'ringside',
  request: 'launch',
  name: 'Ringside: memory as words',
  program: `\${workspaceFolder}/${EXAMPLE}/${EXAMPLE}.bin`,
  memoryMB: 'sixteen',
};
const SCREENSHOT_DIR = join(PROJECT_ROOT, 'test', 'e2e', 'screenshots');
/** npm run e2e keeps the step screenshots under their committed names; other runs write *.tmp.png (gitignored). */
const KEEP_SCREENSHOTS = process.env.RINGSIDE_E2E_KEEP_SCREENSHOTS === '1';
/** Files the .vsix must hold to install and activate: the manifest, the bundled extension, the adapter launcher. */
const VSIX_REQUIRED = ['extension/package.json', 'extension/dist/extension.js', 'extension/bin/ringside.js'];
/** What `bin/ringside.js dap` loads; checked before debugging starts, so the steps before it still say what works. */
const VSIX_ADAPTER = 'extension/dist/adapter.js';
/** A prebuilt .vsix to test instead of running npm run package (for working on this test while the build is broken). */
const PREBUILT_VSIX = process.env.RINGSIDE_E2E_VSIX;
const NASM_AVAILABLE = spawnSync('nasm', ['-v'], { encoding: 'utf8' }).status === 0;

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
  const { step, failedStep } = scenarioSteps(() => wb, 'failure-');

  async function shot(name: string): Promise<void> {
    await wb.screenshot(KEEP_SCREENSHOTS ? name : `${name}.tmp`);
  }

  async function describeDebugState(): Promise<string> {
    return `Call Stack state: "${await wb.stopState()}", rows: ${JSON.stringify(await wb.rowTexts('debug-call-stack'))}, ` +
      `exception widget: ${JSON.stringify(await wb.exceptionWidgetTexts())}`;
  }

  /**
   * Clicks Continue and waits for the next stop, whose Call Stack state must say `reason` ("breakpoint" or a
   * filter id). The new stop is told apart from the one before by its reason and top frame: right after the
   * click the Call Stack still shows the old stop for a moment, and reading that as the new one would be wrong.
   */
  async function continueTo(reason: string, button = 'debug-continue'): Promise<string> {
    const before = await stopSignature();
    // A person looks at a stop before continuing. Clicking at once races the workbench's own requests for the stop
    // (scopes, variables), which then reach the adapter while the guest runs again and are refused with a
    // notification ("the guest is running"); that race is the adapter's to smooth, not this scenario's subject.
    await wb.page.waitForTimeout(1000);
    await wb.debugToolbar(button);
    const state = await poll(`the next stop (expected: ${reason})`, async () => {
      const now = await stopSignature();
      return now !== before && !/running/i.test(now) && (await wb.stopState()) !== '' ? await wb.stopState() : undefined;
    }, 60_000, describeDebugState);
    expect(state, `the stop after Continue; ${await describeDebugState()}`).toMatch(new RegExp(reason, 'i'));
    return state;
  }

  async function stopSignature(): Promise<string> {
    const frames = await wb.rowTexts('debug-call-stack');
    return `${await wb.stopState()} @ ${frames[0] ?? ''}`;
  }

  /**
   * The editor's exception widget, once it shows (a stop with reason "exception"). The workbench now and then
   * misses showing it when the stop opens a new disassembly document (a race between the editor's model and the
   * focused frame); a person then clicks the top frame in the Call Stack, which shows it, and so does this.
   */
  async function exceptionWidgetText(): Promise<string> {
    const shown = async () => {
      const texts = await wb.exceptionWidgetTexts();
      return texts.length > 0 ? texts : undefined;
    };
    let texts = await poll('the exception widget', shown, 5_000).catch(() => undefined);
    if (!texts) {
      console.warn('vscode.e2e: the exception widget did not show by itself; clicking the top Call Stack frame');
      await wb.page.locator('.debug-call-stack .monaco-list-row').first().click();
      texts = await poll('the exception widget (after clicking the top frame)', shown, 15_000, describeDebugState);
    }
    return texts.join('\n');
  }

  /** Expands a path of Variables rows (Segments → DS → cache) with room made for it, and returns the rows. */
  async function showVariables(path: string[], expectRows: RegExp[]): Promise<string[]> {
    // The list renders only the rows in view: the other panes are collapsed to give the Variables pane the height.
    for (const pane of ['Watch', 'Call Stack', 'Loaded Scripts', 'Breakpoints']) await wb.setPaneExpanded(pane, false);
    await wb.collapseVariable('Registers');
    for (const name of path) await wb.expandVariable(name);
    return poll(`Variables rows matching ${expectRows.join(', ')}`, async () => {
      const texts = await wb.rowTexts('debug-variables');
      return expectRows.every((re) => texts.some((t) => re.test(t))) ? texts : undefined;
    }, 20_000, async () => `Variables rows: ${JSON.stringify(await wb.rowTexts('debug-variables'))}`);
  }

  async function restorePanes(): Promise<void> {
    await wb.collapseVariable('Segments');
    for (const pane of ['Call Stack', 'Breakpoints']) await wb.setPaneExpanded(pane, true);
  }


  beforeAll(() => {
    if (!found.ok) throw new Error(found.reason);
    env = found.env;
    root = mkdtempSync(join(tmpdir(), 'ringside-e2e-'));
    dirs = makeCodeServerDirs(root);
    workspace = makeExampleWorkspace(root, EXAMPLE, { stopOnEntry: true }, [BAD_CONFIGURATION]);
  });

  afterAll(async () => {
    // Always take code-server's whole process group down, whatever failed.
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (!failedStep() && root) rmSync(root, { recursive: true, force: true });
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
    await wb.open(server.url, workspace.exampleFolderName);
    await wb.explorerRow('include').waitFor({ state: 'visible', timeout: 10_000 });
    await wb.setSideBarWidth(440); // room for the Variables values in the screenshots
    await shot('01-workbench');
  });

  step('opens the NASM source by clicking Explorer rows', 60_000, async () => {
    await wb.expandExplorerFolder(workspace.exampleFolderName);
    await wb.explorerRow(workspace.imageName).waitFor({ state: 'visible', timeout: 10_000 });
    await wb.openFromExplorer(workspace.sourceName);
    // The status bar names the language the extension contributes.
    await poll('the NASM language mode in the status bar', async () =>
      (await wb.page.locator('.statusbar-item', { hasText: /^NASM$/ }).count()) > 0 ? true : undefined,
    );
    await shot('02-source-open');
  });

  step(`sets a breakpoint on line ${BREAKPOINT_LINE}`, 60_000, async () => {
    await wb.goToLine(BREAKPOINT_LINE);
    await wb.runCommand('Debug: Toggle Breakpoint');
    const glyph = wb.page.locator('.glyph-margin-widgets [class*="codicon-debug-breakpoint"]');
    await glyph.first().waitFor({ state: 'visible', timeout: 10_000 });
    await wb.page.keyboard.press('Control+Shift+D'); // Run and Debug view
    await poll('the breakpoint in the Breakpoints view', async () => {
      const texts = await wb.rowTexts('debug-breakpoints');
      return texts.some((t) => t.includes(workspace.sourceName) && t.includes(String(BREAKPOINT_LINE))) ? texts : undefined;
    });
    await shot('03-breakpoint');
  });

  step('starts debugging from the Run view and stops on entry', 90_000, async () => {
    expect(zipEntryNames(vsix), `the .vsix lacks ${VSIX_ADAPTER}, which \`bin/ringside.js dap\` loads`).toContain(VSIX_ADAPTER);
    await wb.page.locator('.start-debug-action-item .codicon-debug-start').click();
    await wb.page.locator('.debug-toolbar .codicon-debug-continue').waitFor({ state: 'visible', timeout: 60_000 });
    const state = await poll('the Call Stack to say the guest stopped on entry', async () => {
      const text = await wb.stopState();
      return /entry/i.test(text) ? text : undefined;
    }, 30_000, describeDebugState);
    expect(state).toMatch(/entry/i);
    // The top frame is the entry point of the flat binary, 0000:7C00 (launch.json keeps the default load address).
    expect((await wb.rowTexts('debug-call-stack'))[0]).toMatch(/0000:7c00/i);
    await shot('04-stopped-on-entry');
  });

  step('shows Segments in the Variables pane and DS with its hidden cache', 60_000, async () => {
    const rows = await showVariables(['Segments', 'DS', 'cache'], [/^DS = /, /^base = /, /^limit = /, /^type = /, /^dpl = /]);
    // Real mode at entry: DS = 0x0000, its cache base 0 and limit 0xFFFF (reset state, SDM Vol. 3A §9.1.1).
    expect(rows).toContainEqual(expect.stringMatching(/^DS = 0x0000\b/i));
    expect(rows).toContainEqual(expect.stringMatching(/^base = 0x0+$/i));
    expect(rows).toContainEqual(expect.stringMatching(/^limit = 0x0*ffff$/i));
    await shot('05-variables-ds-cache');
    await restorePanes();
  });

  step(`ticks the "${SEGMENT_LOAD_LABEL}" exception filter with the condition ${DS_LOAD_CONDITION}`, 60_000, async () => {
    await wb.enableExceptionFilter(SEGMENT_LOAD_LABEL, DS_LOAD_CONDITION);
    await shot('06-segment-load-filter');
  });

  step(`continues to the breakpoint on line ${BREAKPOINT_LINE} in the NASM source`, 120_000, async () => {
    // The extension gives the flat binary a nasm listing, through which the adapter binds source breakpoints;
    // the first DS load with selector 0x18 is the instruction on that line, so the breakpoint comes first.
    await continueTo('breakpoint');
    const frames = await wb.rowTexts('debug-call-stack');
    expect(frames[0]).toContain(workspace.sourceName);
    expect(frames[0]).toMatch(new RegExp(`\\b${BREAKPOINT_LINE}:1\\b`));
    await wb.page.locator('.tabs-container .tab.active', { hasText: workspace.sourceName }).waitFor({ state: 'visible', timeout: 10_000 });
    await shot('07-breakpoint-hit');
  }, () => (NASM_AVAILABLE ? undefined : 'nasm is not installed: the extension cannot make the listing that binds breakpoints in a flat binary\'s source'));

  step('continues to the segment load of DS with selector 0x18', 120_000, async () => {
    const state = await continueTo('segment-load');
    expect(state).toMatch(/segment-load/i);
    // The editor's exception widget gives the event: which register was loaded, from what, and why.
    const widget = await exceptionWidgetText();
    expect(widget).toMatch(/Exception has occurred: segment-load/);
    expect(widget).toMatch(/\bDS\b.*0x0018/);
    await shot('08-segment-load-stop');
    // DS's cache now holds GDT entry 3: base 0x00020000, limit 0xFFFF.
    const rows = await showVariables(['Segments', 'DS', 'cache'], [/^DS = 0x0018/i, /^base = /, /^limit = /]);
    expect(rows).toContainEqual(expect.stringMatching(/^base = 0x0*20000$/i));
    expect(rows).toContainEqual(expect.stringMatching(/^limit = 0x0*ffff$/i));
    // Every request VS Code made for this stop was answered: no row or notification carries an adapter error.
    const errors = [...rows, ...(await wb.notificationTexts())].filter((t) => /guest is running|pause it first/i.test(t));
    expect(errors, 'requests for the new stop were refused as if the guest still ran').toEqual([]);
    await shot('09-variables-ds-loaded');
    await restorePanes();
  });

  step(`continues with "${CACHE_INCONSISTENT_LABEL}" to the GDT write that makes DS's cache stale`, 120_000, async () => {
    await wb.enableExceptionFilter(CACHE_INCONSISTENT_LABEL);
    const state = await continueTo('cache-inconsistent');
    expect(state).toMatch(/cache-inconsistent/i);
    const widget = await exceptionWidgetText();
    expect(widget).toMatch(/Exception has occurred: cache-inconsistent/);
    expect(widget).toMatch(/\bDS\b/);
    await shot('10-cache-inconsistent-stop');
  });

  step('opens the Segment Map from the Command Palette and sees DS inconsistent', 60_000, async () => {
    await wb.runCommand('Ringside: Show Segment Map');
    await wb.page.locator('.tabs-container .tab', { hasText: 'Segment Map' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    const frame = await poll('the Segment Map webview to show DS', async () => {
      for (const f of wb.page.frames()) {
        if ((await f.locator('section.register[data-register="DS"]').count().catch(() => 0)) > 0) return f;
      }
      return undefined;
    }, 30_000);
    const ds = (frame as Frame).locator('section.register[data-register="DS"]');
    // The cache still has the old base while GDT entry 3 was rewritten behind DS's back.
    await expect(ds.getAttribute('class')).resolves.toMatch(/\binconsistent\b/);
    const text = await ds.innerText();
    expect(text).toMatch(/^DS\s+0x0018/i);
    expect(text).toMatch(/inconsistent/i);
    expect(text).toMatch(/0x00020000/);
    await expect((frame as Frame).locator('section.register[data-register="CS"]').count()).resolves.toBe(1);
    // Give the map the height of the window and bring DS into view for the screenshot.
    await wb.runCommand('View: Hide Panel');
    await ds.scrollIntoViewIfNeeded();
    await shot('11-segment-map');
  });

  step('presses Reverse Continue and is back at the DS load, its cache as it was then', 120_000, async () => {
    // Both filters are still ticked: running backwards from the GDT write, the last stop before it is the load.
    const state = await continueTo('segment-load', 'debug-reverse-continue');
    expect(state).toMatch(/segment-load/i);
    const widget = await exceptionWidgetText();
    expect(widget).toMatch(/Exception has occurred: segment-load/);
    expect(widget).toMatch(/\bDS\b.*0x0018/);
    const rows = await showVariables(['Segments', 'DS', 'cache'], [/^DS = 0x0018/i, /^base = /, /^limit = /]);
    expect(rows).toContainEqual(expect.stringMatching(/^base = 0x0*20000$/i));
    expect(rows).toContainEqual(expect.stringMatching(/^limit = 0x0*ffff$/i));
    await shot('11a-reverse-continue-ds-load');
    await restorePanes();
  });

  step('stops the debug session from the toolbar', 60_000, async () => {
    await wb.debugToolbar('debug-stop');
    await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 20_000 });
  });

  step('refuses a launch configuration with an ill-typed attribute, saying which', 60_000, async () => {
    await wb.runCommand('Debug: Select and Start Debugging', 30_000, true);
    await wb.pickQuickInput(BAD_CONFIGURATION.name);
    const message = await poll('a notification naming the bad attribute', async () => {
      const texts = await wb.notificationTexts();
      return texts.find((t) => t.includes(BAD_CONFIGURATION.name));
    }, 20_000);
    expect(message).toMatch(/memoryMB/);
    expect(message).not.toMatch(/\bat .*\.js:\d+/); // a message, not a stack trace
    await shot('12-bad-configuration');
    // No session was started.
    await expect(wb.page.locator('.debug-toolbar').isVisible()).resolves.toBe(false);
  });
});
