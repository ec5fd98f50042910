// Document symbols (sections, labels with their local `.labels` nested under them, constants, macros) and go to
// definition, from the parsed NASM document.
import { findSymbol, type NasmDocument, type SymbolDef } from './nasm-document';

export type OutlineKind = 'section' | 'code-label' | 'data-label' | 'constant' | 'macro';

export interface OutlineItem {
  name: string;
  kind: OutlineKind;
  line: number;
  start: number;
  end: number;
  /** The last line the item spans (up to the next item of its level). */
  lastLine: number;
  children: OutlineItem[];
}

function kindOf(doc: NasmDocument, symbol: SymbolDef): OutlineKind {
  if (symbol.kind === 'equ' || symbol.kind === 'define') return 'constant';
  if (symbol.kind === 'macro') return 'macro';
  // A label is data when the next statement with content after it defines data.
  const next = doc.statements.slice(symbol.line).find((s) => s.mnemonic || (s.label && s.label !== symbol && s.line > symbol.line));
  return next?.place ? 'data-label' : 'code-label';
}

export function documentOutline(doc: NasmDocument): OutlineItem[] {
  const lastLine = doc.statements.length - 1;
  const item = (s: SymbolDef): OutlineItem => ({ name: s.name, kind: kindOf(doc, s), line: s.line, start: s.start, end: s.end, lastLine: s.line, children: [] });
  const top: OutlineItem[] = doc.sections.map((s) => ({ name: s.name, kind: 'section' as const, line: s.line, start: s.start, end: s.end, lastLine: s.line, children: [] }));
  const topLevel: OutlineItem[] = [];
  let parent: OutlineItem | undefined;
  for (const symbol of doc.symbols) {
    const it = item(symbol);
    if (symbol.kind === 'local-label' && parent && symbol.parent === parent.name) parent.children.push(it);
    else {
      topLevel.push(it);
      if (symbol.kind === 'label') parent = it;
    }
  }
  // Labels go under the section they are in.
  const sections = [...top].sort((a, b) => a.line - b.line);
  const result: OutlineItem[] = [];
  for (const it of topLevel) {
    const section = sections.filter((s) => s.line <= it.line).pop();
    (section ? section.children : result).push(it);
  }
  result.push(...sections);
  const extend = (items: OutlineItem[], end: number) => {
    items.sort((a, b) => a.line - b.line);
    items.forEach((it, i) => {
      it.lastLine = Math.max(it.line, (items[i + 1]?.line ?? end + 1) - 1);
      extend(it.children, it.lastLine);
    });
  };
  extend(result, lastLine);
  return result;
}

export interface DefinitionTarget {
  line: number;
  start: number;
  end: number;
}

/** Where the identifier at a position is defined; a local `.label` resolves in the scope of its use. */
export function definitionAt(doc: NasmDocument, line: number, character: number): DefinitionTarget | undefined {
  const statement = doc.statements[line];
  const token = statement?.tokens.find((t) => t.kind === 'identifier' && character >= t.start && character <= t.end);
  if (!statement || !token) return undefined;
  const symbol = findSymbol(doc, token.text, statement.scope);
  return symbol ? { line: symbol.line, start: symbol.start, end: symbol.end } : undefined;
}
