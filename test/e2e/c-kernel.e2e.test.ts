// The README's "Debugging a C kernel" walk-through in a real VS Code UI (code-server + Chromium, as
// vscode.e2e.test.ts): examples/c-kernel opened as a workspace, a function breakpoint on `gdt_set` with the
// condition `n == 3` added in the Breakpoints view, debugging started from the Run view, the arguments read in the
// Variables pane, `gdt[3].base_low` watched while stepping out of gdt_set, then the "Segment load" filter with
// `reg == DS && selector == 0x18` continued to, where Segments → DS → cache holds the base gdt[3] describes.
// Each step leaves a screenshot (c-kernel-*.png) in test/e2e/screenshots/ for the README.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { CodeServer, installExtension, makeCodeServerDirs, type CodeServerDirs } from './code-server';
import { e2eRequired, findE2eEnv, PROJECT_ROOT, type E2eEnv } from './e2e-env';
import { packageInCopy } from './package-copy';
import { escapeRegExp, launchChromium, poll, Workbench } from './workbench';
import { scenarioSteps } from './scenario-steps';

const FOLDER = 'c-kernel';
const SCREENSHOT_DIR = join(PROJECT_ROOT, 'test', 'e2e', 'screenshots');
const KEEP_SCREENSHOTS = process.env.RINGSIDE_E2E_KEEP_SCREENSHOTS === '1';
const WATCHED = 'gdt[3].base_low';
const SCRATCH = '(u32)scratch & 0xffff';
const DS_LOAD_CONDITION = 'reg == DS && selector == 0x18';

const found = findE2eEnv();
if (!found.ok) console.warn(`c-kernel.e2e: ${e2eRequired() ? 'FAILING' : 'skipping'}: ${found.reason}`);

/** The workspace: examples/c-kernel's source, built kernel and launch configuration (its program path adjusted). */
function makeWorkspace(root: string): string {
  const folder = join(root, 'workspace');
  mkdirSync(join(folder, '.vscode'), { recursive: true });
  cpSync(join(PROJECT_ROOT, 'examples', FOLDER), join(folder, FOLDER), { recursive: true });
  const configuration = {
    type: 'ringside',
    request: 'launch',
    name: 'Ringside: C kernel',
    program: `\${workspaceFolder}/${FOLDER}/kernel.elf`,
    format: 'multiboot',
    monitor: true,
    stopOnEntry: false,
  };
  writeFileSync(join(folder, '.vscode', 'launch.json'), JSON.stringify({ version: '0.2.0', configurations: [configuration] }, null, 2));
  return folder;
}

describe.skipIf(!found.ok && !e2eRequired())('the C kernel walk-through in a real VS Code UI', () => {
  let env: E2eEnv;
  let root: string;
  let dirs: CodeServerDirs;
  let workspace: string;
  let vsix: string;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench;
  const { step, failedStep } = scenarioSteps(() => wb, 'failure-c-kernel-');

  const shot = (name: string): Promise<string> => wb.screenshot(KEEP_SCREENSHOTS ? name : `${name}.tmp`);

  async function debugState(): Promise<string> {
    return `Call Stack: "${await wb.stopState()}" ${JSON.stringify(await wb.rowTexts('debug-call-stack'))}; ` +
      `Variables: ${JSON.stringify(await wb.rowTexts('debug-variables'))}; Watch: ${JSON.stringify(await wb.rowTexts('debug-watch'))}; ` +
      `notifications: ${JSON.stringify(await wb.notificationTexts())}`;
  }

  /** Waits for a stop whose Call Stack state matches `reason`, with `top` as its top frame, unlike `before`. */
  async function waitForStop(reason: RegExp, top: RegExp, before: string): Promise<string[]> {
    return poll(`a stop (${reason}) in ${top}`, async () => {
      const frames = await wb.rowTexts('debug-call-stack');
      const state = await wb.stopState();
      const now = `${state} @ ${frames[0] ?? ''}`;
      return now !== before && reason.test(state) && frames.length > 0 && top.test(frames[0]) ? frames : undefined;
    }, 60_000, debugState);
  }

  async function signature(): Promise<string> {
    return `${await wb.stopState()} @ ${(await wb.rowTexts('debug-call-stack'))[0] ?? ''}`;
  }

  /** The Watch pane's row for `expression`, as "expression = value". */
  async function watchValue(expression: string, matching: RegExp): Promise<string> {
    return poll(`the Watch row of ${expression} to match ${matching}`, async () => {
      const row = (await wb.rowTexts('debug-watch')).find((t) => t.startsWith(`${expression} = `));
      return row && matching.test(row) ? row : undefined;
    }, 20_000, debugState);
  }

  async function variableRows(wanted: RegExp[]): Promise<string[]> {
    return poll(`Variables rows ${wanted.join(', ')}`, async () => {
      const texts = await wb.rowTexts('debug-variables');
      return wanted.every((re) => texts.some((t) => re.test(t))) ? texts : undefined;
    }, 20_000, debugState);
  }


  beforeAll(() => {
    if (!found.ok) throw new Error(found.reason);
    env = found.env;
    root = mkdtempSync(join(tmpdir(), 'ringside-e2e-c-'));
    dirs = makeCodeServerDirs(root);
    workspace = makeWorkspace(root);
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (!failedStep() && root) rmSync(root, { recursive: true, force: true });
    else if (root) console.warn(`c-kernel.e2e: kept ${root} (code-server log: ${dirs?.logFile})`);
  }, 30_000);

  step('packages and installs the extension, and opens kernel.c from the Explorer', 300_000, async () => {
    vsix = process.env.RINGSIDE_E2E_VSIX ?? packageInCopy(PROJECT_ROOT, root);
    expect(installExtension(env, dirs, vsix)).toMatch(/successfully installed/i);
    server = await CodeServer.start(env, dirs, workspace);
    browser = await launchChromium(env.chromium);
    wb = new Workbench(await browser.newPage({ viewport: { width: 1600, height: 1000 } }), SCREENSHOT_DIR);
    await wb.open(server.url, FOLDER);
    await wb.setSideBarWidth(520);
    await wb.expandExplorerFolder(FOLDER);
    await wb.openFromExplorer('kernel.c');
  });

  step('adds a function breakpoint on gdt_set with the condition n == 3', 60_000, async () => {
    await wb.page.keyboard.press('Control+Shift+D'); // Run and Debug view
    await wb.addFunctionBreakpoint('gdt_set');
    const input = wb.page.locator('.debug-breakpoints .monaco-inputbox input');
    const row = wb.page
      .locator('.debug-breakpoints .monaco-list-row')
      .filter({ has: wb.page.locator('.name', { hasText: /^gdt_set$/ }) })
      .first();
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    // Its pencil (shown on hover) offers "Edit Condition..." and "Edit Hit Count...": the first opens the box.
    await row.hover();
    await row.locator('[aria-label="Edit Condition..."]').click();
    await wb.pickMenuItem('Edit Condition...', input);
    await input.fill('n == 3');
    await wb.page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden', timeout: 10_000 });
    await shot('c-kernel-01-function-breakpoint');
  });

  step('starts debugging and stops in gdt_set with its arguments in the Variables pane', 120_000, async () => {
    await wb.page.locator('.start-debug-action-item .codicon-debug-start').click();
    const frames = await waitForStop(/function breakpoint/i, /^gdt_set\b/, await signature());
    expect(frames[0]).toMatch(/kernel\.c/);
    expect(frames[1]).toMatch(/^kmain\b/);
    for (const pane of ['Watch', 'Breakpoints', 'Loaded Scripts']) await wb.setPaneExpanded(pane, false);
    await wb.expandVariable('Arguments');
    const rows = await variableRows([/^n = 3$/, /^limit = 63$/, /^access = 146 '\\222'$/, /^flags = 4 '\\004'$/, /^base = \d+$/]);
    expect(rows).toContainEqual('n = 3');
    await shot('c-kernel-02-arguments');
  });

  step(`watches ${WATCHED} (0 before gdt_set fills entry 3) and steps out`, 120_000, async () => {
    await wb.setPaneExpanded('Watch', true);
    for (const expression of [WATCHED, SCRATCH]) {
      const header = wb.page.locator('.pane-header[aria-label="Watch Section"]');
      await header.hover();
      await header.locator('[aria-label="Add Expression"]').click();
      const input = wb.page.locator('.debug-watch .monaco-inputbox input');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(expression);
      await wb.page.keyboard.press('Enter');
    }
    await watchValue(WATCHED, / = 0$/);
    await shot('c-kernel-03-watch-before');
    const before = await signature();
    await wb.page.waitForTimeout(1000); // a person's pace: the workbench's requests for this stop land first
    await wb.debugToolbar('debug-step-out');
    await waitForStop(/step/i, /^kmain\b/, before);
    const scratch = Number(/ = (\w+)$/.exec(await watchValue(SCRATCH, / = (0x[0-9a-f]+|\d+)$/i))![1]);
    expect(scratch).toBeGreaterThan(0);
    await watchValue(WATCHED, new RegExp(`^${escapeRegExp(WATCHED)} = ${scratch}$`));
    await shot('c-kernel-04-watch-after-step-out');
  });

  step('continues with the "Segment load" filter to the DS reload and sees DS\'s cache in Segments', 120_000, async () => {
    await wb.setPaneExpanded('Breakpoints', true);
    await wb.enableExceptionFilter('Segment load', DS_LOAD_CONDITION);
    const before = await signature();
    await wb.debugToolbar('debug-continue');
    await waitForStop(/segment-load/i, /^scratch_write\b/, before);
    await wb.setPaneExpanded('Watch', true);
    const low = Number(/ = (\d+)$/.exec(await watchValue(WATCHED, / = \d+$/))![1]);
    // Room for DS's rows: the list renders only the rows in view.
    for (const pane of ['Watch', 'Breakpoints', 'Call Stack']) await wb.setPaneExpanded(pane, false);
    await wb.collapseVariable('Arguments');
    for (const name of ['Segments', 'DS', 'cache']) await wb.expandVariable(name);
    const rows = await variableRows([/^DS = 0x0018/i, /^base = 0x[0-9a-f]+$/i, /^limit = 0x0*3f$/i]);
    const base = Number(/^base = (0x[0-9a-f]+)$/i.exec(rows.find((r) => /^base = /.test(r))!)![1]);
    expect(base & 0xffff).toBe(low);
    await shot('c-kernel-05-ds-reload-segments');
  });

  step('stops the debug session', 60_000, async () => {
    await wb.debugToolbar('debug-stop');
    await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 20_000 });
  });
});
