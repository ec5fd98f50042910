// The README's reverse-execution walk-through in a real VS Code UI (code-server + Chromium, as vscode.e2e.test.ts),
// on examples/stale-cache-gp: tick "CPU exception" (vector == 13) and continue to the #GP that DS's stale cache
// causes, where Segments → DS shows the cache's limit 0x0FFF beside GDT entry 3's 0xFFFF and the Segment Map marks DS
// inconsistent; tick "Descriptor write" and press Reverse Continue to the store that raised the limit; tick
// "Segment load" (reg == DS) and press Reverse Continue to the load of DS that filled the cache. Each step leaves a
// screenshot (reverse-*.png) in test/e2e/screenshots/ for the README.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { CodeServer, installExtension, makeCodeServerDirs, type CodeServerDirs } from './code-server';
import { e2eRequired, findE2eEnv, PROJECT_ROOT, type E2eEnv } from './e2e-env';
import { packageInCopy } from './package-copy';
import { launchChromium, poll, Workbench } from './workbench';
import { scenarioSteps } from './scenario-steps';
import { makeExampleWorkspace, type ExampleWorkspace } from './workspace';

const EXAMPLE = 'stale-cache-gp';
const SCREENSHOT_DIR = join(PROJECT_ROOT, 'test', 'e2e', 'screenshots');
const KEEP_SCREENSHOTS = process.env.RINGSIDE_E2E_KEEP_SCREENSHOTS === '1';
/** Breakpoints view labels of the filters (debug-adapter/exception-filters.ts; not imported, to keep the engine out). */
const CPU_EXCEPTION = 'CPU exception';
const DESCRIPTOR_WRITE = 'Descriptor write';
const SEGMENT_LOAD = 'Segment load';
const SOURCE = readFileSync(join(PROJECT_ROOT, 'examples', EXAMPLE, `${EXAMPLE}.asm`), 'utf8').split('\n');
/** 1-based line of the first source line that starts (after indentation) with `text`. */
function lineOf(text: string): number {
  const i = SOURCE.findIndex((l) => l.trimStart().startsWith(text));
  if (i < 0) throw new Error(`"${text}" is not in ${EXAMPLE}.asm`);
  return i + 1;
}
/** Linear address of the store beyond the cached limit, `mov dword [0x2000], 'FAR!'` (C7 05 00200000 …) in the image. */
const FAR_STORE = 0x7c00 + readFileSync(join(PROJECT_ROOT, 'examples', EXAMPLE, `${EXAMPLE}.bin`)).indexOf(Buffer.from([0xc7, 0x05, 0x00, 0x20, 0x00, 0x00]));
/** Lines of the #GP handler's first instruction, of the one after the GDT store, and of the one after step 1's `mov ds, ax`. */
const HANDLER_LINE = SOURCE.findIndex((l) => l.startsWith('gp_handler:')) + 2;
const AFTER_LIMIT_WRITE_LINE = lineOf('mov word [es:gdt + SEL_TABLE], NEW_LIMIT') + 1;
const AFTER_DS_LOAD_LINE = lineOf('mov ds, ax') + 1;
const NASM_AVAILABLE = spawnSync('nasm', ['-v'], { encoding: 'utf8' }).status === 0;

const found = findE2eEnv();
if (!found.ok) console.warn(`reverse.e2e: ${e2eRequired() ? 'FAILING' : 'skipping'}: ${found.reason}`);

describe.skipIf(!found.ok && !e2eRequired())('the reverse-execution walk-through in a real VS Code UI', () => {
  let env: E2eEnv;
  let root: string;
  let dirs: CodeServerDirs;
  let workspace: ExampleWorkspace;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench;
  const { step, failedStep } = scenarioSteps(() => wb, 'failure-reverse-');

  const shot = (name: string): Promise<string> => wb.screenshot(KEEP_SCREENSHOTS ? name : `${name}.tmp`);

  async function debugState(): Promise<string> {
    return `Call Stack: "${await wb.stopState()}" ${JSON.stringify(await wb.rowTexts('debug-call-stack'))}; ` +
      `exception widget: ${JSON.stringify(await wb.exceptionWidgetTexts())}; notifications: ${JSON.stringify(await wb.notificationTexts())}`;
  }

  async function signature(): Promise<string> {
    return `${await wb.stopState()} @ ${(await wb.rowTexts('debug-call-stack'))[0] ?? ''}`;
  }

  /**
   * Clicks a debug toolbar button and waits for the stop it leads to: Call Stack state `reason`, top frame at
   * `line` of the source, and not the stop shown before (which stays on screen for a moment after the click).
   */
  async function pressAndStop(button: string, reason: string, line: number): Promise<string[]> {
    const before = await signature();
    await wb.page.waitForTimeout(1000); // a person's pace: the workbench's requests for the last stop land first
    await wb.debugToolbar(button);
    const at = new RegExp(`${workspace.sourceName} ${line}:1\\b`);
    return poll(`a ${reason} stop at line ${line}`, async () => {
      const frames = await wb.rowTexts('debug-call-stack');
      const state = await wb.stopState();
      const now = `${state} @ ${frames[0] ?? ''}`;
      return now !== before && new RegExp(reason, 'i').test(state) && at.test(frames[0] ?? '') ? frames : undefined;
    }, 60_000, debugState);
  }

  /** The exception widget's text (clicking the top frame when the workbench missed showing it, as a person would). */
  async function exceptionWidget(): Promise<string> {
    const shown = async (): Promise<string[] | undefined> => {
      const texts = await wb.exceptionWidgetTexts();
      return texts.length > 0 ? texts : undefined;
    };
    let texts = await poll('the exception widget', shown, 5_000).catch(() => undefined);
    if (!texts) {
      await wb.page.locator('.debug-call-stack .monaco-list-row').first().click();
      texts = await poll('the exception widget (after clicking the top frame)', shown, 15_000, debugState);
    }
    return texts.join('\n');
  }

  /**
   * Segments → DS (other panes collapsed: the list renders only the rows in view): its `cache` and `table entry`
   * rows (each with base= and limit= in its value), `consistent` and `differs`.
   */
  async function dsRows(): Promise<{ ds: string; cache: string; entry: string; consistent: string; differs: string }> {
    for (const pane of ['Watch', 'Call Stack', 'Loaded Scripts', 'Breakpoints']) await wb.setPaneExpanded(pane, false);
    await wb.collapseVariable('Registers');
    for (const name of ['Segments', 'DS']) await wb.expandVariable(name);
    const row = (texts: string[], re: RegExp): string | undefined => texts.find((t) => re.test(t));
    return poll('DS with its cache and table entry in Variables', async () => {
      const t = await wb.rowTexts('debug-variables');
      const rows = { ds: row(t, /^DS = /), cache: row(t, /^cache = .*limit=/), entry: row(t, /^table entry = .*limit=/), consistent: row(t, /^consistent = /), differs: row(t, /^differs = /) };
      return Object.values(rows).every((v) => v !== undefined) ? (rows as Record<keyof typeof rows, string>) : undefined;
    }, 20_000, async () => `Variables rows: ${JSON.stringify(await wb.rowTexts('debug-variables'))}`);
  }

  async function restorePanes(): Promise<void> {
    await wb.collapseVariable('Segments');
    for (const pane of ['Call Stack', 'Breakpoints']) await wb.setPaneExpanded(pane, true);
  }


  // The steps name source lines, which come from the nasm listing the extension makes for a flat binary.
  const needsNasm = (): string | undefined => (NASM_AVAILABLE ? undefined : 'nasm is not installed: no listing ties the image to its source lines');

  beforeAll(() => {
    if (!found.ok) throw new Error(found.reason);
    env = found.env;
    root = mkdtempSync(join(tmpdir(), 'ringside-e2e-reverse-'));
    dirs = makeCodeServerDirs(root);
    workspace = makeExampleWorkspace(root, EXAMPLE, { stopOnEntry: true });
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (!failedStep() && root) rmSync(root, { recursive: true, force: true });
    else if (root) console.warn(`reverse.e2e: kept ${root} (code-server log: ${dirs?.logFile})`);
  }, 30_000);

  step('packages and installs the extension, opens the example and starts debugging (stop on entry)', 300_000, async () => {
    const vsix = process.env.RINGSIDE_E2E_VSIX ?? packageInCopy(PROJECT_ROOT, root);
    expect(installExtension(env, dirs, vsix)).toMatch(/successfully installed/i);
    server = await CodeServer.start(env, dirs, workspace.folder);
    browser = await launchChromium(env.chromium);
    wb = new Workbench(await browser.newPage({ viewport: { width: 1600, height: 1000 } }), SCREENSHOT_DIR);
    await wb.open(server.url, workspace.exampleFolderName);
    await wb.setSideBarWidth(480);
    await wb.expandExplorerFolder(workspace.exampleFolderName);
    await wb.openFromExplorer(workspace.sourceName);
    await wb.page.keyboard.press('Control+Shift+D'); // Run and Debug view
    await wb.page.locator('.start-debug-action-item .codicon-debug-start').click();
    await wb.page.locator('.debug-toolbar .codicon-debug-continue').waitFor({ state: 'visible', timeout: 60_000 });
    await poll('the stop on entry', async () => (/entry/i.test(await wb.stopState()) ? true : undefined), 30_000, debugState);
  });

  step(`ticks "${CPU_EXCEPTION}" (vector == 13), continues to the #GP, and sees DS's cache disagree with GDT entry 3`, 120_000, async () => {
    await wb.enableExceptionFilter(CPU_EXCEPTION, 'vector == 13');
    const frames = await pressAndStop('debug-continue', 'cpu-exception', HANDLER_LINE);
    // Below the handler: the exception frame at the faulting store.
    expect(frames[1]).toBe(`[exception #GP at 0008:${FAR_STORE.toString(16).padStart(8, '0')}]`);
    const widget = await exceptionWidget();
    expect(widget).toMatch(/Exception has occurred: cpu-exception/);
    expect(widget).toMatch(/#GP\(0x0000\): offset lies outside the segment limit/);
    expect(widget).toMatch(/limit 0xfff\b/);
    // The SDM's rule: the cached limit 0x0FFF counts, not the 0xFFFF GDT entry 3 now holds.
    const rows = await dsRows();
    expect(rows.ds).toMatch(/^DS = 0x0018$/i);
    expect(rows.cache).toMatch(/limit=0x00000fff\b/i);
    expect(rows.entry).toMatch(/limit=0x0000ffff\b/i);
    expect(rows.consistent).toBe('consistent = false');
    expect(rows.differs).toBe('differs = limit');
    await shot('reverse-01-gp-stale-cache');
    await restorePanes();
  }, needsNasm);

  step('opens the Segment Map at the #GP: DS inconsistent, its cache limit beside the table\'s', 60_000, async () => {
    await wb.runCommand('Ringside: Show Segment Map');
    // The webview may render more than once (its first content, then the stop's): each look finds DS afresh.
    const dsSection = async (): Promise<Locator | undefined> => {
      for (const f of wb.page.frames()) {
        const ds = f.locator('section.register[data-register="DS"]');
        if ((await ds.count().catch(() => 0)) > 0) return ds;
      }
      return undefined;
    };
    const text = await poll('the Segment Map webview to show DS inconsistent', async () => {
      const ds = await dsSection();
      if (!ds || !/\binconsistent\b/.test((await ds.getAttribute('class', { timeout: 2_000 })) ?? '')) return undefined;
      return ds.innerText({ timeout: 2_000 });
    }, 30_000);
    expect(text).toMatch(/^DS\s+0x0018/i);
    expect(text).toMatch(/0x00000fff/i);
    expect(text).toMatch(/0x0000ffff/i);
    expect(text).toMatch(/inconsistent: limit/);
    await poll('DS scrolled into view in the Segment Map', async () => {
      const ds = await dsSection();
      if (!ds) return undefined;
      await ds.scrollIntoViewIfNeeded({ timeout: 2_000 });
      return true;
    }, 15_000);
    await shot('reverse-02-gp-segment-map');
    // Back to the source for the next stops.
    await wb.page.locator('.tabs-container .tab', { hasText: workspace.sourceName }).first().click();
  });

  step(`ticks "${DESCRIPTOR_WRITE}", presses Reverse Continue, and is at the store that raised GDT entry 3's limit`, 120_000, async () => {
    await wb.enableExceptionFilter(DESCRIPTOR_WRITE, 'table == "GDT" && index == 3');
    await pressAndStop('debug-reverse-continue', 'descriptor-write', AFTER_LIMIT_WRITE_LINE);
    const widget = await exceptionWidget();
    expect(widget).toMatch(/Exception has occurred: descriptor-write/);
    expect(widget).toMatch(/GDT\[3\]/);
    // The store has just made DS's cache stale.
    const rows = await dsRows();
    expect(rows.cache).toMatch(/limit=0x00000fff\b/i);
    expect(rows.entry).toMatch(/limit=0x0000ffff\b/i);
    expect(rows.consistent).toBe('consistent = false');
    await shot('reverse-03-descriptor-write');
    await restorePanes();
  }, needsNasm);

  step(`ticks "${SEGMENT_LOAD}" (reg == DS), presses Reverse Continue, and is at the load of DS, cache and table agreeing`, 120_000, async () => {
    await wb.enableExceptionFilter(SEGMENT_LOAD, 'reg == DS');
    await pressAndStop('debug-reverse-continue', 'segment-load', AFTER_DS_LOAD_LINE);
    const widget = await exceptionWidget();
    expect(widget).toMatch(/Exception has occurred: segment-load/);
    expect(widget).toMatch(/\bDS\b.*0x0018/);
    const rows = await dsRows();
    expect(rows.ds).toMatch(/^DS = 0x0018$/i);
    expect(rows.cache).toMatch(/limit=0x00000fff\b/i);
    expect(rows.entry).toMatch(/limit=0x00000fff\b/i);
    expect(rows.consistent).toBe('consistent = true');
    await shot('reverse-04-ds-load');
    await restorePanes();
  }, needsNasm);

  step('stops the debug session', 60_000, async () => {
    await wb.debugToolbar('debug-stop');
    await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 20_000 });
  });
});
