// Starts the NASM language server (dist/server.js, its own Node process over IPC) for NASM files.
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

export function startNasmLanguageClient(context: vscode.ExtensionContext): LanguageClient {
  const module = path.join(context.extensionPath, 'dist', 'server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'nasm' },
      { scheme: 'untitled', language: 'nasm' },
    ],
  };
  const client = new LanguageClient('ringsideNasm', 'Ringside NASM language server', serverOptions, clientOptions);
  void client.start();
  return client;
}
