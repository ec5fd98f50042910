// The Screen view's drawing and key handling (extension/screen-html.ts), without a webview.
import { describe, expect, it } from 'vitest';
import { keyText, renderScreen } from '../../extension/screen-html';

function textBody(cells: number[], cursor: { row: number; column: number } | null) {
  return { kind: 'text' as const, columns: 4, rows: 2, cells, cursor, instructions: 1234, running: true };
}

describe('Screen view HTML', () => {
  it('draws runs of one attribute as coloured spans, the cursor cell on its own, code page 437 as Unicode', () => {
    const html = renderScreen(textBody([0x1e41, 0x1e42, 0x07c4, 0x0720, 0x073c, 0x0700, 0x0700, 0x0700], { row: 1, column: 1 }));
    expect(html).toContain('<span style="color:#ffff55;background:#0000aa">AB</span>');
    expect(html).toContain('<span style="color:#aaaaaa;background:#000000">─ </span>');
    expect(html).toContain('<span style="color:#aaaaaa;background:#000000">&#60;</span><span class="cursor" style="color:#aaaaaa;background:#000000"> </span>');
    expect(html).toContain('text 4×2 · running at 1,234 instructions');
  });

  it('shows a framebuffer as its PNG and says when a mode is not drawn', () => {
    expect(renderScreen({ kind: 'graphics', width: 800, height: 600, mode: 'VBE 800x600x32', png: 'iVBO', instructions: 5, running: false })).toContain(
      '<img class="framebuffer" alt="guest framebuffer" width="800" height="600" src="data:image/png;base64,iVBO">',
    );
    expect(renderScreen({ kind: 'graphics', width: 320, height: 200, mode: 'BIOS mode 13h', png: null, instructions: 5, running: false })).toContain(
      'The guest is in BIOS mode 13h, which Ringside does not draw.',
    );
  });

  it('turns key events into the text typed on the guest keyboard', () => {
    const k = (key: string, mods: Partial<{ ctrlKey: boolean; altKey: boolean; metaKey: boolean }> = {}) =>
      keyText({ key, ctrlKey: false, altKey: false, metaKey: false, ...mods });
    expect(k('a')).toBe('a');
    expect(k('A')).toBe('A');
    expect(k('Enter')).toBe('\n');
    expect(k('Backspace')).toBe('\b');
    expect(k('Escape')).toBe('\x1b');
    expect(k('c', { ctrlKey: true })).toBe('\x03');
    expect(k('Shift')).toBeNull();
    expect(k('F1')).toBeNull();
    expect(k('x', { altKey: true })).toBeNull();
    expect(k('é')).toBeNull();
  });

  it('keyText works on its own, as the page gets it (its source is put into the webview)', () => {
    const fromSource = new Function(`return (${keyText.toString()})`)() as typeof keyText;
    expect(fromSource({ key: 'Tab', ctrlKey: false, altKey: false, metaKey: false })).toBe('\t');
  });
});
