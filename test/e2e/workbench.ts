// Drives the VS Code workbench in Chromium the way a person would: clicks Explorer rows, palette rows and the
// debug toolbar's buttons, and reads the debug views' rows. Selectors are the workbench's own DOM classes;
// waits poll because the debug views re-render after every stop (design/e2e.md).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

/** Flags that keep Chromium off the network; --no-sandbox because the tests run as root. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-dev-shm-usage',
];

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
}

/** Retries `probe` until it returns a value other than undefined, or throws with `what` and the last state. */
export async function poll<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  describeState?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const state = describeState ? await describeState().catch((e: Error) => `(state unavailable: ${e.message})`) : '';
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${state ? `\n${state}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export class Workbench {
  constructor(
    readonly page: Page,
    private readonly screenshotDir: string,
  ) {
    mkdirSync(screenshotDir, { recursive: true });
  }

  /** Loads the workbench and waits for the Explorer to list `expectFile`. */
  async open(url: string, expectFile: string): Promise<void> {
    await this.page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await this.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await this.explorerRow(expectFile).waitFor({ state: 'visible', timeout: 60_000 });
  }

  async screenshot(name: string): Promise<string> {
    const file = join(this.screenshotDir, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  explorerRow(fileName: string): Locator {
    return this.page
      .locator('.explorer-folders-view .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(fileName)}$`) }) });
  }

  /** Expands a folder in the Explorer by clicking its row (unless it is expanded already). */
  async expandExplorerFolder(folderName: string): Promise<void> {
    const row = this.explorerRow(folderName);
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
    await poll(`Explorer folder ${folderName} to expand`, async () => ((await row.getAttribute('aria-expanded')) === 'true' ? true : undefined), 10_000);
  }

  /** Opens a file by clicking its Explorer row; waits for the editor tab to be active. */
  async openFromExplorer(fileName: string): Promise<void> {
    await this.explorerRow(fileName).click();
    await this.page
      .locator('.tabs-container .tab.active', { hasText: fileName })
      .waitFor({ state: 'visible', timeout: 20_000 });
    await this.page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ state: 'visible' });
  }

  /** Moves the cursor to `line` with Go to Line (Ctrl+G) in the focused editor. */
  async goToLine(line: number): Promise<void> {
    await this.page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await this.page.keyboard.press('Control+G');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`:${line}`);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /**
   * Opens the Command Palette, types `title`, and clicks the row whose label is exactly it. A command whose
   * precondition is not met yet (e.g. debug commands before the extension's debugger is registered) is not
   * listed: the palette is closed and reopened until it is, up to `timeoutMs`. A command that opens a picker of
   * its own (`opensPicker`) leaves the quick input open: pick from it with pickQuickInput.
   */
  async runCommand(title: string, timeoutMs = 30_000, opensPicker = false): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    const row = this.page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) })
      .first();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${title}`);
      try {
        await row.waitFor({ state: 'visible', timeout: 3_000 });
        break;
      } catch (err) {
        const listed = await this.page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
        await this.page.keyboard.press('Escape');
        await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
        if (Date.now() > deadline) {
          throw new Error(`the Command Palette never listed "${title}" (it listed ${JSON.stringify(listed)})`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    await row.click();
    if (!opensPicker) await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /**
   * Opens the Run and Debug view and the box of "Add Function Breakpoint" in its Breakpoints pane, and types `name`
   * into it. The command's box shows only in a rendered, expanded Breakpoints pane: a command run while the view is
   * still opening (the shortcut's effect is asynchronous) leaves no box, so the pane is waited for and expanded
   * first, and the command is run again when the box did not come (a CI run once waited 10 s for it in vain).
   */
  async addFunctionBreakpoint(name: string, timeoutMs = 30_000): Promise<void> {
    const header = this.page.locator('.pane-header[aria-label="Breakpoints Section"]');
    const input = this.page.locator('.debug-breakpoints .monaco-inputbox input');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await header.count()) === 0) await this.page.keyboard.press('Control+Shift+D');
      await header.waitFor({ state: 'visible', timeout: 10_000 });
      await this.setPaneExpanded('Breakpoints', true);
      await this.runCommand('Add Function Breakpoint');
      try {
        await input.waitFor({ state: 'visible', timeout: 5_000 });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error('the box of "Add Function Breakpoint" never showed in the Breakpoints pane', { cause: err });
      }
    }
    await input.fill(name);
    await this.page.keyboard.press('Enter');
  }

  /**
   * Picks `name` from the context menu that just opened and waits for `shows` to be visible. The workbench's menus
   * ignore a click that comes too soon after they open (the mouse-up of the click that opened them must not pick
   * an item), and a test's click can be that fast: a CI run once left the menu open with the item highlighted.
   * So the item is clicked, and clicked again (then chosen with Enter) while the menu stays open without `shows`.
   */
  async pickMenuItem(name: string, shows: Locator, timeoutMs = 20_000): Promise<void> {
    const item = this.page.getByRole('menuitem', { name });
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      if ((await item.count()) > 0) {
        if (attempt % 2 === 0) await item.click().catch(() => undefined);
        else await item.press('Enter').catch(() => undefined);
      }
      try {
        await shows.waitFor({ state: 'visible', timeout: 2_000 });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`picking "${name}" from the context menu showed nothing`, { cause: err });
      }
    }
  }

  /** Clicks the row labelled exactly `label` in the open quick input (a picker a command opened). */
  async pickQuickInput(label: string): Promise<void> {
    const row = this.page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }) })
      .first();
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    await row.click();
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /**
   * Texts of the rendered rows of a list-based view (`debug-variables`, `debug-breakpoints`, `debug-call-stack`),
   * whitespace folded to single spaces ("DS = 0x0010"). Lists are virtual: only rows in view are rendered.
   */
  async rowTexts(viewClass: string): Promise<string[]> {
    const texts = await this.page.locator(`.${viewClass} .monaco-list-row`).allInnerTexts();
    return texts.map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /** A Variables row (scope or variable) named exactly `name`; variables render as "name =". */
  variableRow(name: string): Locator {
    return this.page
      .locator('.debug-variables .monaco-list-row')
      .filter({ has: this.page.locator('.name, .scope', { hasText: new RegExp(`^${escapeRegExp(name)}( =)?$`) }) })
      .first();
  }

  /** Collapses a Variables row if it is expanded (to make room: the list renders only the rows in view). */
  async collapseVariable(name: string): Promise<void> {
    const row = this.variableRow(name);
    if ((await row.count()) > 0 && (await row.getAttribute('aria-expanded')) === 'true') await row.click();
  }

  /** Collapses (or expands) a pane of the side bar by its title ("Watch", "Breakpoints"...) unless it already is. */
  async setPaneExpanded(title: string, expanded: boolean): Promise<void> {
    const header = this.page.locator(`.pane-header[aria-label="${title} Section"]`);
    if ((await header.count()) === 0) return;
    if (((await header.getAttribute('aria-expanded')) === 'true') !== expanded) await header.click();
  }

  /**
   * What the Call Stack says about the stop: the state message in its header (one thread) and each thread row's
   * state label (several threads), e.g. "entry", "breakpoint", "segment-load"; empty while running.
   */
  async stopState(): Promise<string> {
    const labels = await this.page.locator('.call-stack-state-message .label, .debug-call-stack .thread .state .label').allInnerTexts();
    return labels.join(' ').trim();
  }

  /** Expands a Variables row (scope or variable) by clicking it unless it is expanded already. */
  async expandVariable(name: string, timeoutMs = 20_000): Promise<void> {
    const row = await poll(`Variables row "${name}"`, async () => ((await this.variableRow(name).count()) > 0 ? this.variableRow(name) : undefined), timeoutMs, async () =>
      `Variables rows: ${JSON.stringify(await this.rowTexts('debug-variables'))}`,
    );
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
    await poll(`Variables row "${name}" to expand`, async () => ((await this.variableRow(name).getAttribute('aria-expanded')) === 'true' ? true : undefined), timeoutMs);
  }

  /** Drags the sash on the side bar's right edge so that the side bar is `width` pixels wide. */
  async setSideBarWidth(width: number): Promise<void> {
    const box = await this.page.locator('.part.sidebar').boundingBox();
    if (!box) throw new Error('the side bar is not shown');
    const y = box.y + box.height / 2;
    await this.page.mouse.move(box.x + box.width + 2, y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + width + 2, y, { steps: 5 });
    await this.page.mouse.up();
  }

  /** The Breakpoints view row of an exception filter, by the label the adapter gives it. */
  exceptionFilterRow(label: string): Locator {
    return this.page
      .locator('.debug-breakpoints .monaco-list-row')
      .filter({ has: this.page.locator('.breakpoint.exception .name', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }) })
      .first();
  }

  /**
   * Ticks an exception filter's checkbox in the Breakpoints view, after typing `condition` into the box its
   * "Edit Condition..." action opens (the pencil shown on hover). Waits until the row shows both.
   */
  async enableExceptionFilter(label: string, condition?: string): Promise<void> {
    const row = this.exceptionFilterRow(label);
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    if (condition !== undefined) {
      await row.hover();
      await row.locator('.codicon-edit').click();
      const input = this.page.locator('.debug-breakpoints .monaco-inputbox input');
      await input.waitFor({ state: 'visible' });
      await input.fill(condition);
      await this.page.keyboard.press('Enter');
      await poll(`the condition of "${label}" to show`, async () =>
        ((await row.locator('.condition').innerText()).trim() === condition ? true : undefined), 10_000);
    }
    const checkbox = row.locator('.monaco-checkbox');
    if ((await checkbox.getAttribute('aria-checked')) !== 'true') await checkbox.click();
    await poll(`the "${label}" checkbox to be checked`, async () =>
      ((await checkbox.getAttribute('aria-checked')) === 'true' ? true : undefined), 10_000);
    // The workbench sends setExceptionBreakpoints asynchronously after the tick and shows nothing when the adapter
    // has it; a Continue clicked at once can reach the adapter first and let the guest run past the event. A
    // person's pace, one second, lets the request land.
    await this.page.waitForTimeout(1000);
  }

  /** Texts of the editor's exception widget (shown at a stop with reason "exception"), or [] when none. */
  async exceptionWidgetTexts(): Promise<string[]> {
    const texts = await this.page.locator('.exception-widget').allInnerTexts();
    return texts.map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /** Texts of the notification toasts shown now. */
  async notificationTexts(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
  }

  /** Clicks a debug toolbar button by its codicon (`debug-continue`, `debug-step-over`, `debug-stop`...). */
  async debugToolbar(codicon: string): Promise<void> {
    await this.page.locator(`.debug-toolbar .action-item .codicon-${codicon}`).click();
  }
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
