// Draws the Segment map: for each segment register, its hidden cache as a bar over the linear address space and,
// under it, the descriptor its selector names now (and, under the monitor, the virtual GDT's entry), with the
// fields that differ highlighted; then the GDT beside the virtual GDT. Pure string building from the
// `ringside/segmentMap` response, so the view is tested without a webview. Colours are VS Code theme variables.
import type { DescriptorTableEntryView, SegmentFields, SegmentMapResponseBody, SegmentRegisterView } from '../debug-adapter/protocol-types';
import { coveredRange, decodeSelector, hex, typeName } from './server/descriptor-text';

const ONE_MIB = 0x10_0000;
const FOUR_GIB = 0x1_0000_0000;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The smallest power of two (at least 1 MiB, at most 4 GiB) that holds every drawn segment. */
export function addressSpaceEnd(segments: SegmentFields[]): number {
  let highest = 0;
  for (const f of segments) highest = Math.max(highest, coveredRange(f).end + 1);
  let end = ONE_MIB;
  while (end < highest && end < FOUR_GIB) end *= 2;
  return end;
}

function sizeText(bytes: number): string {
  if (bytes >= 0x4000_0000) return `${bytes / 0x4000_0000} GiB`;
  if (bytes >= ONE_MIB) return `${bytes / ONE_MIB} MiB`;
  return `${bytes / 1024} KiB`;
}

function bar(label: string, f: SegmentFields | null | undefined, end: number, cls: string): string {
  if (!f) return `<div class="bar-row"><span class="bar-label">${label}</span><div class="track"><span class="none">none</span></div><span class="range"></span></div>`;
  const { start, end: last } = coveredRange(f);
  const left = Math.min(100, (start / end) * 100);
  const width = Math.max(0.4, Math.min(100 - left, ((Math.min(last, end - 1) - start + 1) / end) * 100));
  const state = !f.usable ? ' unusable' : !f.p ? ' not-present' : '';
  const title = `${label}: ${hex(start)}–${hex(Math.min(last, 0xffff_ffff))} (${typeName(f.s, f.type)})`;
  return (
    `<div class="bar-row"><span class="bar-label">${label}</span><div class="track">` +
    `<div class="bar ${cls}${state}" style="left:${left.toFixed(3)}%;width:${width.toFixed(3)}%" title="${escapeHtml(title)}"></div>` +
    `</div><span class="range">${hex(start)}–${hex(Math.min(last, 0xffff_ffff))}</span></div>`
  );
}

const FIELD_ORDER: (keyof SegmentFields)[] = ['base', 'limit', 'type', 's', 'dpl', 'p', 'db', 'g', 'avl', 'usable'];

function fieldText(key: keyof SegmentFields, f: SegmentFields): string {
  const v = f[key];
  if (key === 'base' || key === 'limit') return hex(v as number);
  if (key === 'type') return `${v} <span class="type-name">${escapeHtml(typeName(f.s, f.type))}</span>`;
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

function fieldTable(reg: SegmentRegisterView): string {
  const rows: [string, SegmentFields | null | undefined][] = [
    ['cache', reg.cache],
    ['table entry', reg.tableEntry],
  ];
  if (reg.virtualEntry !== undefined) rows.push(['virtual entry', reg.virtualEntry]);
  const differs = new Set(reg.differs);
  const head = `<tr><th></th>${FIELD_ORDER.map((key) => `<th${differs.has(key) ? ' class="differs"' : ''}>${key}</th>`).join('')}</tr>`;
  const body = rows.map(([name, f]) => {
    const cells = f
      ? FIELD_ORDER.map((key) => `<td${differs.has(key) ? ' class="differs"' : ''}>${fieldText(key, f)}</td>`).join('')
      : `<td colspan="${FIELD_ORDER.length}" class="none">${name === 'table entry' ? 'no descriptor (null selector, past the table limit, or real mode)' : 'none'}</td>`;
    return `<tr><th>${name}</th>${cells}</tr>`;
  });
  return `<table class="fields">${head}${body.join('')}</table>`;
}

function selectorText(reg: SegmentRegisterView, mode: SegmentMapResponseBody['mode']): string {
  if (mode !== 'protected' && reg.name !== 'LDTR' && reg.name !== 'TR') return `${mode} mode: base = ${hex(reg.selector, 4)} × 16`;
  const sel = decodeSelector(reg.selector);
  return `index ${sel.index} ${sel.ti ? 'LDT' : 'GDT'} RPL ${sel.rpl}`;
}

function registerSection(reg: SegmentRegisterView, end: number, mode: SegmentMapResponseBody['mode']): string {
  const status = reg.consistent
    ? '<span class="badge ok">consistent</span>'
    : `<span class="badge bad">inconsistent: ${escapeHtml(reg.differs.join(', ') || 'entry missing')}</span>`;
  const bars =
    bar('cache', reg.cache, end, 'cache') +
    bar('table', reg.tableEntry, end, 'entry') +
    (reg.virtualEntry !== undefined ? bar('virtual', reg.virtualEntry, end, 'virtual') : '');
  return (
    `<section class="register${reg.consistent ? '' : ' inconsistent'}" data-register="${reg.name}">` +
    `<h2>${reg.name} <code>${hex(reg.selector, 4)}</code> <span class="sel">${selectorText(reg, mode)}</span> ${status}</h2>` +
    `<div class="bars">${bars}</div>${fieldTable(reg)}</section>`
  );
}

/**
 * The linear-address axis: labels at 0, ¼, ½, ¾ and the end, in hex without leading zeros. The ends are anchored
 * inside the axis (the first left-aligned, the last right-aligned) and the others centred; which of the inner ones
 * are shown depends on the axis' own width (container queries in SEGMENT_MAP_CSS), so labels never run together.
 */
function axis(end: number): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => {
    const cls = t === 0 ? 'first' : t === 1 ? 'last' : t === 0.5 ? 'half' : 'quarter';
    return `<span class="tick ${cls}" style="left:${t * 100}%">0x${Math.min(end * t, 0xffff_ffff).toString(16)}</span>`;
  });
  return `<div class="bar-row axis-row"><span class="bar-label">linear</span><div class="axis">${ticks.join('')}</div><span class="range"></span></div>`;
}

function tableRows(gdt: DescriptorTableEntryView[], virtualGdt: DescriptorTableEntryView[] | undefined, inUse: Set<number>): string {
  const virtualByIndex = new Map((virtualGdt ?? []).map((e) => [e.index, e]));
  const describe = (e: DescriptorTableEntryView | undefined) =>
    e
      ? `<td><code>${hex(e.raw[1])}${hex(e.raw[0]).slice(2)}</code></td><td>${hex(e.fields.base)}</td><td>${hex(e.fields.limit)}</td><td>${e.raw[0] === 0 && e.raw[1] === 0 ? 'null' : escapeHtml(typeName(e.fields.s, e.fields.type))}</td><td>${e.fields.dpl}</td><td>${e.fields.p ? 1 : 0}</td>`
      : '<td colspan="6">—</td>';
  return gdt
    .map((e) => {
      const v = virtualByIndex.get(e.index);
      const used = inUse.has(e.index) ? ' in-use' : '';
      const differs = v && (v.raw[0] !== e.raw[0] || v.raw[1] !== e.raw[1]) ? ' virtualized' : '';
      return `<tr class="gdt-row${used}${differs}"><td>${e.index}</td><td>${hex(e.index * 8, 4)}</td>${describe(e)}${virtualGdt ? describe(v) : ''}</tr>`;
    })
    .join('');
}

/** The view's body for one stop. */
export function renderSegmentMap(map: SegmentMapResponseBody): string {
  const drawn: SegmentFields[] = [];
  for (const r of map.registers) {
    drawn.push(r.cache);
    if (r.tableEntry) drawn.push(r.tableEntry);
    if (r.virtualEntry) drawn.push(r.virtualEntry);
  }
  const end = addressSpaceEnd(drawn.filter((f) => f.usable));
  const inconsistent = map.registers.filter((r) => !r.consistent).map((r) => r.name);
  const summary =
    `<p class="summary">Mode <b>${map.mode}</b>, CPL <b>${map.cpl}</b>, monitor <b>${map.monitor ? 'on' : 'off'}</b>, ` +
    `GDTR ${hex(map.gdtr.base)} limit ${hex(map.gdtr.limit, 4)}; linear space drawn up to ${sizeText(end)}. ` +
    (inconsistent.length ? `<span class="badge bad">inconsistent: ${inconsistent.join(', ')}</span>` : '<span class="badge ok">all caches consistent</span>') +
    `</p>`;
  const inUse = new Set(
    map.mode === 'protected' ? map.registers.filter((r) => !decodeSelector(r.selector).ti && r.name !== 'LDTR').map((r) => decodeSelector(r.selector).index) : [],
  );
  const columns = '<th>raw</th><th>base</th><th>limit</th><th>type</th><th>DPL</th><th>P</th>';
  const gdt =
    `<h2>${map.virtualGdt ? 'Guest GDT beside the monitor\'s virtual GDT' : 'GDT'}</h2>` +
    `<table class="gdt"><tr><th rowspan="2">#</th><th rowspan="2">selector</th><th colspan="6">guest GDT</th>${map.virtualGdt ? '<th colspan="6">virtual GDT</th>' : ''}</tr>` +
    `<tr>${columns}${map.virtualGdt ? columns : ''}</tr>${tableRows(map.gdt, map.virtualGdt, inUse)}</table>`;
  return summary + axis(end) + map.registers.map((r) => registerSection(r, end, map.mode)).join('') + gdt;
}

/** Shown instead of a map when no Ringside session is stopped, or when the adapter could not answer. */
export function renderMessage(message: string): string {
  return `<p class="message">${escapeHtml(message)}</p>`;
}

export const SEGMENT_MAP_CSS = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); background: var(--vscode-editor-background); }
code, table { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
h2 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
.sel, .type-name, .message { color: var(--vscode-descriptionForeground); }
.badge { padding: 0 0.5em; border-radius: 3px; font-size: 0.85em; font-weight: normal; }
.badge.ok { background: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); color: var(--vscode-editor-background); }
.badge.bad { background: var(--vscode-inputValidation-errorBackground); border: 1px solid var(--vscode-inputValidation-errorBorder); }
section.register { border-left: 3px solid transparent; padding-left: 0.6em; }
section.register.inconsistent { border-left-color: var(--vscode-inputValidation-errorBorder, var(--vscode-charts-red)); }
.bar-row { display: flex; align-items: center; margin: 2px 0; }
.bar-label { width: 5em; flex: none; color: var(--vscode-descriptionForeground); }
.track, .axis { position: relative; flex: 1; height: 12px; background: var(--vscode-editorWidget-background); border: 1px solid var(--vscode-panel-border); }
.axis { background: none; border: none; height: 1.2em; container-type: inline-size; }
.tick { position: absolute; white-space: nowrap; transform: translateX(-50%); font-size: 0.8em; color: var(--vscode-descriptionForeground); }
.tick.first { transform: none; } .tick.last { transform: translateX(-100%); }
/* A label is at most about 4.5em wide ("0x80000000" at 0.8em): the quarters need a 34em axis, the half 18em, the end 8em. */
@container (max-width: 34em) { .tick.quarter { display: none; } }
@container (max-width: 18em) { .tick.half { display: none; } }
@container (max-width: 8em) { .tick.last { display: none; } }
.bar { position: absolute; top: 0; bottom: 0; }
.bar.cache { background: var(--vscode-charts-blue); }
.bar.entry { background: var(--vscode-charts-green); }
.bar.virtual { background: var(--vscode-charts-purple); }
.bar.unusable, .bar.not-present { opacity: 0.35; background-image: repeating-linear-gradient(45deg, transparent 0 3px, var(--vscode-editor-background) 3px 6px); }
.none { font-size: 0.8em; padding-left: 0.4em; color: var(--vscode-descriptionForeground); }
.range { width: 16em; flex: none; white-space: nowrap; padding-left: 0.6em; font-family: var(--vscode-editor-font-family); font-size: 0.85em; color: var(--vscode-descriptionForeground); }
.axis-row .range { visibility: hidden; }
.axis-row { padding-left: calc(0.6em + 3px); } /* as section.register's border and padding: the axis lines up with the bars */
/* A narrow view gives the bars the whole width and puts each range on the line below its bar. */
@media (max-width: 40em) {
  .bar-row { flex-wrap: wrap; }
  .range { width: auto; flex-basis: 100%; padding-left: 5em; }
  .axis-row .range { display: none; }
}
table { border-collapse: collapse; margin: 0.3em 0; }
th, td { text-align: left; padding: 1px 0.6em; border-bottom: 1px solid var(--vscode-panel-border); }
td.differs, th.differs { background: var(--vscode-diffEditor-removedTextBackground); color: var(--vscode-errorForeground); }
tr.in-use td { font-weight: bold; }
tr.virtualized td { background: var(--vscode-diffEditor-insertedTextBackground); }
`;
