// The "Ringside: Show Segment Map" webview. On each stop of the active Ringside session it asks the adapter for
// `ringside/segmentMap` and sends the drawn HTML into the page, which swaps it in (keeping the scroll position).
// The page runs only its own nonce'd script and loads nothing from outside.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { SEGMENT_MAP_REQUEST, type SegmentMapResponseBody } from '../debug-adapter/protocol-types';
import type { RingsideLog } from './log-channel';
import { renderMessage, renderSegmentMap, SEGMENT_MAP_CSS } from './segment-map-html';

export class SegmentMapPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** Counts refreshes so that an answer arriving after a newer stop is dropped. */
  private generation = 0;

  constructor(
    onDidStop: vscode.Event<vscode.DebugSession>,
    private readonly log: RingsideLog,
  ) {
    this.disposables.push(
      vscode.commands.registerCommand('ringside.showSegmentMap', () => this.show()),
      onDidStop((session) => {
        // The stop can arrive before VS Code makes its session the active one; follow it unless another Ringside
        // session is in focus.
        const active = vscode.debug.activeDebugSession;
        if (this.panel && (!active || active === session || active.type !== 'ringside')) void this.refresh(session);
      }),
      vscode.debug.onDidChangeActiveDebugSession((session) => this.panel && void this.refresh(session)),
      vscode.debug.onDidTerminateDebugSession((session) => {
        if (this.panel && session.type === 'ringside') this.post(renderMessage(`The session "${session.name}" has ended.`));
      }),
    );
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
    } else {
      this.panel = vscode.window.createWebviewPanel('ringside.segmentMap', 'Segment Map', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: [],
      });
      this.panel.webview.html = pageHtml(this.panel.webview.cspSource);
      this.panel.onDidDispose(() => (this.panel = undefined));
      // The page asks once its script runs: a message posted before that could be lost.
      this.panel.webview.onDidReceiveMessage((m: { ready?: boolean }) => m.ready && void this.refresh(vscode.debug.activeDebugSession));
    }
    void this.refresh(vscode.debug.activeDebugSession);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private async refresh(session: vscode.DebugSession | undefined): Promise<void> {
    const generation = ++this.generation;
    if (!session || session.type !== 'ringside') {
      this.post(renderMessage('Start a Ringside debug session; the map shows the segment registers each time the guest stops.'));
      return;
    }
    let html: string;
    try {
      const map = (await session.customRequest(SEGMENT_MAP_REQUEST)) as SegmentMapResponseBody;
      html = renderSegmentMap(map);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.log.write('warn', `segment map request failed: ${message}`);
      html = renderMessage(`The adapter could not give the segment map here: ${message} (the guest may be running; the map refreshes at the next stop).`);
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
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style>${SEGMENT_MAP_CSS}</style><title>Segment Map</title></head>
<body><div id="root">${renderMessage('Waiting for the debug session…')}</div>
<script nonce="${nonce}">
  const root = document.getElementById('root');
  window.addEventListener('message', (event) => { if (typeof event.data.html === 'string') root.innerHTML = event.data.html; });
  acquireVsCodeApi().postMessage({ ready: true });
</script></body></html>`;
}
