// The NASM language server (bundled to dist/server.js): hovers that decode descriptors and selectors, diagnostics
// for descriptors that would fault in the role the source gives them, document symbols and go to definition.
// Every request parses the document afresh (NASM sources are small; parsing takes well under a millisecond per
// hundred lines), so there is no cache to keep in step with edits.
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  createConnection,
  DiagnosticSeverity,
  DocumentSymbol,
  MarkupKind,
  ProposedFeatures,
  SymbolKind,
  TextDocuments,
  TextDocumentSyncKind,
  type Diagnostic,
} from 'vscode-languageserver/node';
import { descriptorDiagnostics } from './diagnostics';
import { hoverAt } from './hover';
import { parseNasm } from './nasm-document';
import { definitionAt, documentOutline, type OutlineItem, type OutlineKind } from './symbols';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

const SYMBOL_KINDS: Record<OutlineKind, SymbolKind> = {
  section: SymbolKind.Namespace,
  'code-label': SymbolKind.Function,
  'data-label': SymbolKind.Variable,
  constant: SymbolKind.Constant,
  macro: SymbolKind.Method,
};

connection.onInitialize(() => ({
  capabilities: {
    textDocumentSync: TextDocumentSyncKind.Incremental,
    hoverProvider: true,
    documentSymbolProvider: true,
    definitionProvider: true,
  },
  serverInfo: { name: 'ringside-nasm' },
}));

function parsed(uri: string) {
  const document = documents.get(uri);
  return document ? { document, doc: parseNasm(document.getText()) } : undefined;
}

connection.onHover(({ textDocument, position }) => {
  const p = parsed(textDocument.uri);
  const hover = p && hoverAt(p.doc, position.line, position.character);
  if (!hover) return null;
  return {
    contents: { kind: MarkupKind.Markdown, value: hover.markdown },
    range: { start: { line: hover.line, character: hover.start }, end: { line: hover.line, character: hover.end } },
  };
});

connection.onDefinition(({ textDocument, position }) => {
  const p = parsed(textDocument.uri);
  const target = p && definitionAt(p.doc, position.line, position.character);
  if (!target) return null;
  return { uri: textDocument.uri, range: { start: { line: target.line, character: target.start }, end: { line: target.line, character: target.end } } };
});

connection.onDocumentSymbol(({ textDocument }) => {
  const p = parsed(textDocument.uri);
  if (!p) return [];
  const toSymbol = (item: OutlineItem): DocumentSymbol => {
    const selectionRange = { start: { line: item.line, character: item.start }, end: { line: item.line, character: item.end } };
    const lastText = p.document.getText({ start: { line: item.lastLine, character: 0 }, end: { line: item.lastLine + 1, character: 0 } });
    const range = { start: { line: item.line, character: 0 }, end: { line: item.lastLine, character: lastText.replace(/\r?\n$/, '').length } };
    return DocumentSymbol.create(item.name, undefined, SYMBOL_KINDS[item.kind], range, selectionRange, item.children.map(toSymbol));
  };
  return documentOutline(p.doc).map(toSymbol);
});

documents.onDidChangeContent(({ document }: { document: TextDocument }) => {
  const diagnostics: Diagnostic[] = descriptorDiagnostics(parseNasm(document.getText())).map((d) => ({
    range: { start: { line: d.line, character: d.start }, end: { line: d.line, character: d.end } },
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: 'ringside',
    message: d.message,
    relatedInformation: d.related?.map((r) => ({
      location: { uri: document.uri, range: { start: { line: r.line, character: r.start }, end: { line: r.line, character: r.end } } },
      message: r.message,
    })),
  }));
  void connection.sendDiagnostics({ uri: document.uri, diagnostics });
});

documents.onDidClose(({ document }: { document: TextDocument }) => void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] }));

documents.listen(connection);
connection.listen();
