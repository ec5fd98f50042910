// The "Ringside: Show Screen" webview: the guest's screen from `ringside/screen`, refreshed at every stop and four
// times a second while a Ringside session runs; keys pressed while the view has focus go to the guest's keyboard
// as `ringside/keys` requests. The page runs only its own nonce'd script and loads nothing from outside (the
// framebuffer comes as a data: PNG).
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { KEYS_REQUEST, SCREEN_REQUEST, type ScreenResponseBody } from '../debug-adapter/protocol-types';
import type { RingsideLog } from './log-channel';
import { keyText, renderScreen, renderScreenMessage, SCREEN_CSS } from './screen-html';

const REFRESH_MS = 250;

export class ScreenPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private generation = 0;
  private lastHtml = '';

  constructor(
    onDidStop: vscode.Event<vscode.DebugSession>,
    private readonly log: RingsideLog,
  ) {
    this.disposables.push(
      vscode.commands.registerCommand('ringside.showScreen', () => this.show()),
      onDidStop((session) => this.panel && void this.refresh(session)),
      vscode.debug.onDidChangeActiveDebugSession((session) => this.panel && void this.refresh(session)),
      vscode.debug.onDidTerminateDebugSession((session) => {
        if (this.panel && session.type === 'ringside') this.post(this.lastHtml + renderScreenMessage(`The session "${session.name}" has ended.`));
      }),
    );
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, false);
    } else {
      this.panel = vscode.window.createWebviewPanel('ringside.screen', 'Guest Screen', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: [],
      });
      this.panel.webview.html = pageHtml(this.panel.webview.cspSource);
      this.panel.onDidDispose(() => {
        this.panel = undefined;
        if (this.timer) clearInterval(this.timer);
        this.timer = undefined;
      });
      this.panel.webview.onDidReceiveMessage((m: { ready?: boolean; keys?: string }) => {
        if (m.ready) void this.refresh(vscode.debug.activeDebugSession);
        if (typeof m.keys === 'string') void this.type(m.keys);
      });
      // While the guest runs nothing announces a change: look a few times a second (a visible view only).
      this.timer = setInterval(() => this.panel?.visible && void this.refresh(vscode.debug.activeDebugSession), REFRESH_MS);
    }
    void this.refresh(vscode.debug.activeDebugSession);
  }

  dispose(): void {
    this.panel?.dispose();
    if (this.timer) clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
  }

  private async type(text: string): Promise<void> {
    const session = vscode.debug.activeDebugSession;
    if (!session || session.type !== 'ringside') return;
    try {
      await session.customRequest(KEYS_REQUEST, { text });
    } catch (e) {
      this.log.write('warn', `keys were not accepted: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async refresh(session: vscode.DebugSession | undefined): Promise<void> {
    const generation = ++this.generation;
    if (!session || session.type !== 'ringside') {
      this.post(renderScreenMessage('Start a Ringside debug session; the view shows the guest\'s screen.'));
      return;
    }
    let html: string;
    try {
      html = renderScreen((await session.customRequest(SCREEN_REQUEST)) as ScreenResponseBody);
      this.lastHtml = html;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.log.write('debug', `screen request failed: ${message}`);
      return;
    }
    if (generation === this.generation) this.post(html);
  }

  private post(html: string): void {
    void this.panel?.webview.postMessage({ html });
  }
}

function pageHtml(cspSource: string): string {
  const nonce = randomBytes(16).toString('base64');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src ${cspSource} 'unsafe-inline'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style>${SCREEN_CSS}</style><title>Guest Screen</title></head>
<body tabindex="0"><div id="root">${renderScreenMessage('Waiting for the debug session…')}</div>
<script nonce="${nonce}">
  const vscode = acquireVsCodeApi();
  const root = document.getElementById('root');
  let shown = '';
  window.addEventListener('message', (event) => {
    if (typeof event.data.html === 'string' && event.data.html !== shown) root.innerHTML = shown = event.data.html;
  });
  const keyText = ${keyText.toString()};
  document.addEventListener('keydown', (e) => {
    const text = keyText(e);
    if (text === null) return;
    e.preventDefault();
    vscode.postMessage({ keys: text });
  });
  document.body.focus();
  vscode.postMessage({ ready: true });
</script></body></html>`;
}
