// Starts the debug adapter as its own Node process (`bin/ringside.js dap`), never inline in the extension host:
// a guest that runs away or an engine bug then cannot stall VS Code, and VS Code talks to the very same entry
// point every other DAP client uses.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LOG_LEVEL_ENV } from '../debug-adapter/protocol-types';
import type { RingsideLog } from './log-channel';

export class RingsideAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(
    private readonly extensionPath: string,
    private readonly log: RingsideLog,
  ) {}

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
    const entry = path.join(this.extensionPath, 'bin', 'ringside.js');
    this.log.write('info', `starting adapter for "${session.name}": ${process.execPath} ${entry} dap`);
    // In desktop VS Code process.execPath is the Electron binary; ELECTRON_RUN_AS_NODE makes it a plain Node.
    return new vscode.DebugAdapterExecutable(process.execPath, [entry, 'dap'], {
      env: { ELECTRON_RUN_AS_NODE: '1', [LOG_LEVEL_ENV]: this.log.currentLevel },
      cwd: session.workspaceFolder?.uri.fsPath,
    });
  }
}
