// The Segment Map's linear-address axis, laid out by a real browser engine: at every width the view is used at,
// the tick labels that are shown do not overlap and stay inside the axis. Renders the view's HTML and CSS in
// Chromium (skipped, with a message, when /usr/bin/chromium is not there). RINGSIDE_SCREENSHOTS=dir saves a
// screenshot per width for a look.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import type { SegmentFields, SegmentMapResponseBody } from '../../debug-adapter/protocol-types';
import { renderSegmentMap, SEGMENT_MAP_CSS } from '../../extension/segment-map-html';

const CHROMIUM = '/usr/bin/chromium';
const flat: SegmentFields = { base: 0, limit: 0xffffffff, type: 3, s: true, dpl: 0, p: true, db: true, g: true, avl: false, usable: true };
const small: SegmentFields = { ...flat, base: 0x20000, limit: 0xffff, g: false };

function page(end: 'flat' | 'low'): string {
  const data = end === 'flat' ? flat : small;
  const map: SegmentMapResponseBody = {
    mode: 'protected',
    cpl: 0,
    monitor: false,
    gdtr: { base: 0x7c00, limit: 0x1f },
    registers: [
      { name: 'CS', selector: 0x08, cache: { ...data, type: 0xb }, tableEntry: { ...data, type: 0xb }, consistent: true, differs: [] },
      { name: 'DS', selector: 0x10, cache: small, tableEntry: data, consistent: false, differs: ['base', 'limit'] },
    ],
    gdt: [{ index: 1, raw: [0x0000ffff, 0x00cf9b00], fields: { ...flat, type: 0xb } }],
  };
  // VS Code's webview sets these variables; the values are those of the default dark theme.
  const vars = '--vscode-font-family: system-ui, sans-serif; --vscode-editor-font-family: monospace; --vscode-editor-font-size: 14px; --vscode-foreground: #ccc; --vscode-editor-background: #1e1e1e; --vscode-descriptionForeground: #9d9d9d; --vscode-charts-blue: #3794ff; --vscode-charts-green: #89d185; --vscode-panel-border: #444; font-size: 13px;';
  return `<!DOCTYPE html><html><head><style>body { ${vars} } ${SEGMENT_MAP_CSS}</style></head><body>${renderSegmentMap(map)}</body></html>`;
}

interface Box {
  text: string;
  left: number;
  right: number;
}

let browser: Browser | undefined;
beforeAll(async () => {
  if (existsSync(CHROMIUM)) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60000);
afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!existsSync(CHROMIUM))('Segment Map axis labels in Chromium', () => {
  const widths = [280, 360, 480, 640, 800, 1024, 1600];
  for (const end of ['flat', 'low'] as const) {
    it(`never overlap and stay inside the axis (${end === 'flat' ? '4 GiB' : '1 MiB'} drawn), at widths ${widths.join(', ')}`, async () => {
      const tab = await browser!.newPage();
      await tab.setContent(page(end));
      for (const width of widths) {
        await tab.setViewportSize({ width, height: 400 });
        const { ticks, axis } = await tab.evaluate(() => {
          const a = document.querySelector('.axis')!.getBoundingClientRect();
          const track = document.querySelector('.track')!.getBoundingClientRect();
          const shown = [...document.querySelectorAll('.tick')].filter((t) => getComputedStyle(t).display !== 'none');
          return {
            axis: { left: a.left, right: a.right, trackLeft: track.left, trackRight: track.right },
            ticks: shown.map((t) => {
              const r = t.getBoundingClientRect();
              return { text: t.textContent ?? '', left: r.left, right: r.right };
            }),
          };
        });
        if (process.env.RINGSIDE_SCREENSHOTS) await tab.screenshot({ path: join(process.env.RINGSIDE_SCREENSHOTS, `segment-map-${end}-${width}.png`), clip: { x: 0, y: 0, width, height: 140 } });
        const at = `${end} at ${width}px: ${ticks.map((t: Box) => `${t.text}@${Math.round(t.left)}-${Math.round(t.right)}`).join(' ')}`;
        // The axis spans the bars, so a label stands above the address it names.
        expect(Math.abs(axis.left - axis.trackLeft), at).toBeLessThan(2);
        expect(Math.abs(axis.right - axis.trackRight), at).toBeLessThan(2);
        // Both ends of the axis are always labelled.
        expect(ticks.length, at).toBeGreaterThanOrEqual(2);
        expect(ticks[0].text, at).toBe('0x0');
        for (const t of ticks) {
          expect(t.left, at).toBeGreaterThanOrEqual(axis.left - 0.5);
          expect(t.right, at).toBeLessThanOrEqual(axis.right + 0.5);
        }
        // At least a quarter of a label's width free between neighbours.
        for (let k = 1; k < ticks.length; k++) expect(ticks[k].left - ticks[k - 1].right, at).toBeGreaterThan(8);
      }
      // Wide views get the intermediate ticks too.
      await tab.setViewportSize({ width: 1600, height: 400 });
      expect(await tab.evaluate(() => [...document.querySelectorAll('.tick')].filter((t) => getComputedStyle(t).display !== 'none').length)).toBe(5);
      await tab.close();
    }, 60000);
  }
});

it.runIf(!existsSync(CHROMIUM))('Chromium is not installed: the axis layout test is skipped', () => {
  console.warn(`${CHROMIUM} not found: skipping the Segment Map axis layout test`);
});
