// Drives the NASM language server as an editor does: spawns the bundled server over stdio and speaks LSP to it.
// The server is bundled here with esbuild (the same options as scripts/build.mjs) so the test does not depend on
// the other bundles of the project being buildable at this moment.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';

const root = join(__dirname, '..', '..');
const fixture = join(__dirname, 'fixtures', 'gdt.asm');
const text = readFileSync(fixture, 'utf8');
const lines = text.split('\n');
const uri = pathToFileURL(fixture).toString();
const at = (needle: string, offset = 0) => {
  const line = lines.findIndex((l) => l.includes(needle));
  return { line, character: lines[line].indexOf(needle) + offset };
};

interface PublishedDiagnostics {
  uri: string;
  version?: number;
  diagnostics: { range: { start: { line: number; character: number } }; severity: number; message: string; source: string }[];
}

let server: ChildProcess;
let connection: MessageConnection;
const published: PublishedDiagnostics[] = [];
let stderr = '';

function nextDiagnostics(count: number): Promise<PublishedDiagnostics> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (published.length >= count) resolve(published[count - 1]);
      else if (Date.now() - started > 10_000) reject(new Error(`no diagnostics after 10 s; server stderr: ${stderr}`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

beforeAll(async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'ringside-lsp-')), 'server.js');
  await build({ entryPoints: [join(root, 'extension/server/server.ts')], outfile: out, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error' });
  server = spawn(process.execPath, [out, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  server.stderr!.on('data', (d) => (stderr += String(d)));
  connection = createMessageConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  connection.onNotification('textDocument/publishDiagnostics', (p: PublishedDiagnostics) => {
    published.push(p);
  });
  connection.listen();
  const init = (await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} })) as {
    capabilities: Record<string, unknown>;
  };
  expect(init.capabilities).toMatchObject({ hoverProvider: true, documentSymbolProvider: true, definitionProvider: true });
  await connection.sendNotification('initialized', {});
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'nasm', version: 1, text } });
});

afterAll(async () => {
  if (!connection) return;
  await connection.sendRequest('shutdown');
  await connection.sendNotification('exit');
  connection.dispose();
  await new Promise<void>((resolve) => {
    if (server.exitCode !== null) resolve();
    else server.on('exit', () => resolve());
    setTimeout(() => {
      server.kill();
      resolve();
    }, 3000);
  });
});

describe('NASM language server over LSP', () => {
  it('publishes diagnostics for the descriptor loaded into SS and the misnamed ones', async () => {
    const first = await nextDiagnostics(1);
    expect(first.uri).toBe(uri);
    const byLine = first.diagnostics.map((d) => [d.range.start.line, d.severity, d.source]);
    expect(byLine).toEqual(
      expect.arrayContaining([
        [at('mov ss, ax').line, 1, 'ringside'],
        [at('dw 0xFFFF, 0x0000').line, 1, 'ringside'],
        [at('0x00CF90000000FFFF').line, 2, 'ringside'],
        [at('0x0040120B8000FFFF').line, 2, 'ringside'],
      ]),
    );
    expect(first.diagnostics).toHaveLength(4);
    expect(first.diagnostics.find((d) => d.range.start.line === at('mov ss, ax').line)!.message).toContain('#GP(0x0018)');
  });

  it('answers a hover on a descriptor literal with its decoding', async () => {
    const hover = (await connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: at('0x00CF9A000000FFFF', 4) })) as {
      contents: { kind: string; value: string };
      range: { start: { line: number; character: number }; end: { character: number } };
    };
    expect(hover.contents.kind).toBe('markdown');
    expect(hover.contents.value).toContain('| type | 10 = code, execute/read |');
    expect(hover.range.start).toEqual(at('0x00CF9A000000FFFF'));
    expect(hover.range.end.character).toBe(at('0x00CF9A000000FFFF').character + '0x00CF9A000000FFFF'.length);
  });

  it('answers a hover on a selector constant and none on plain code', async () => {
    const hover = (await connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: at('CODE_SEL:', 2) })) as { contents: { value: string } };
    expect(hover.contents.value).toContain('index 1 in the GDT');
    expect(await connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: at('cli', 1) })).toBeNull();
  });

  it('lists document symbols with local labels nested', async () => {
    const symbols = (await connection.sendRequest('textDocument/documentSymbol', { textDocument: { uri } })) as { name: string; kind: number; children?: { name: string }[] }[];
    const start = symbols.find((s) => s.name === 'start')!;
    expect(start.kind).toBe(12); // Function
    expect(start.children!.map((c) => c.name)).toEqual(['.protected', '.halt']);
    expect(symbols.find((s) => s.name === 'CODE_SEL')!.kind).toBe(14); // Constant
    expect(symbols.find((s) => s.name === 'gdt_code')!.kind).toBe(13); // Variable
  });

  it('goes to the definition of a local label', async () => {
    const location = (await connection.sendRequest('textDocument/definition', { textDocument: { uri }, position: at('jmp .halt', 6) })) as {
      uri: string;
      range: { start: { line: number; character: number } };
    };
    expect(location.uri).toBe(uri);
    expect(location.range.start).toEqual({ line: at('.halt:').line, character: 0 });
  });

  it('updates diagnostics when the source is fixed', async () => {
    const fixed = text.replace('%define STACK_SEL 0x18', '%define STACK_SEL 0x10');
    await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: fixed }] });
    const second = await nextDiagnostics(2);
    expect(second.diagnostics.filter((d) => d.severity === 1)).toEqual([]);
    expect(second.diagnostics).toHaveLength(2);
  });
});
