// Draws the Screen view from a `ringside/screen` response: a text mode as rows of coloured spans (the 16 VGA
// colours of each cell's attribute, code page 437 characters, the cursor cell marked), a graphics mode as the PNG
// the adapter sent. Also the page's key handling (`keyText`), which turns a key event into the text typed on the
// guest's keyboard. Pure string building, tested without a webview.
import type { ScreenResponseBody } from '../debug-adapter/protocol-types';
import { cp437 } from '../engine/devices/vga-text';
import { VGA_PALETTE } from '../engine/screen/screen';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const css = (i: number): string => '#' + VGA_PALETTE[i].map((v) => v.toString(16).padStart(2, '0')).join('');

function status(body: ScreenResponseBody): string {
  const what = body.kind === 'text' ? `text ${body.columns}×${body.rows}` : `${body.mode}, ${body.width}×${body.height}`;
  return `<div class="status">${escapeHtml(what)} · ${body.running ? 'running' : 'stopped'} at ${body.instructions.toLocaleString('en-US')} instructions · keys typed here go to the guest's keyboard</div>`;
}

export function renderScreen(body: ScreenResponseBody): string {
  if (body.kind === 'graphics') {
    const picture = body.png === null
      ? `<div class="message">The guest is in ${escapeHtml(body.mode)}, which Ringside does not draw.</div>`
      : `<img class="framebuffer" alt="guest framebuffer" width="${body.width}" height="${body.height}" src="data:image/png;base64,${body.png}">`;
    return picture + status(body);
  }
  const rows: string[] = [];
  for (let r = 0; r < body.rows; r++) {
    let html = '';
    let c = 0;
    while (c < body.columns) {
      const attr = body.cells[r * body.columns + c] >> 8;
      const isCursor = body.cursor !== null && body.cursor.row === r && body.cursor.column === c;
      let text = '';
      // A run of cells with one attribute becomes one span; the cursor cell is a span of its own.
      do {
        const code = body.cells[r * body.columns + c] & 0xff;
        text += code === 0 ? ' ' : cp437(code);
        c++;
      } while (!isCursor && c < body.columns && body.cells[r * body.columns + c] >> 8 === attr && !(body.cursor?.row === r && body.cursor.column === c));
      html += `<span${isCursor ? ' class="cursor"' : ''} style="color:${css(attr & 0x0f)};background:${css((attr >> 4) & 0x07)}">${escapeHtml(text)}</span>`;
    }
    rows.push(html);
  }
  return `<pre class="text">${rows.join('\n')}</pre>` + status(body);
}

export function renderScreenMessage(text: string): string {
  return `<div class="message">${escapeHtml(text)}</div>`;
}

/** The text a key event types on the guest's keyboard, or null for keys that type nothing (Shift alone, F-keys). */
export function keyText(e: { key: string; ctrlKey: boolean; altKey: boolean; metaKey: boolean }): string | null {
  if (e.metaKey || e.altKey) return null;
  if (e.ctrlKey) return e.key.length === 1 && /[a-z]/i.test(e.key) ? String.fromCharCode(e.key.toUpperCase().charCodeAt(0) - 64) : null;
  const named: Record<string, string> = { Enter: '\n', Backspace: '\b', Tab: '\t', Escape: '\x1b' };
  if (e.key in named) return named[e.key];
  return e.key.length === 1 && e.key >= ' ' && e.key <= '~' ? e.key : null;
}

export const SCREEN_CSS = `
body { padding: 8px; }
.text { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 14px; line-height: 1.15; margin: 0; background: #000;
  display: inline-block; padding: 4px; outline: none; }
.text span { white-space: pre; }
.cursor { text-decoration: underline; text-decoration-thickness: 3px; animation: blink 1s step-end infinite; }
@keyframes blink { 50% { text-decoration-color: transparent; } }
.framebuffer { image-rendering: pixelated; max-width: 100%; height: auto; }
.status { margin-top: 6px; color: var(--vscode-descriptionForeground); font-size: 12px; }
.message { color: var(--vscode-descriptionForeground); }
`;
