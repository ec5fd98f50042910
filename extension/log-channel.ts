// The "Ringside" output channel: the extension's own messages and the adapter's log (custom `ringside/log`
// events), filtered by the `ringside.logLevel` setting, which is read again whenever it changes.
import * as vscode from 'vscode';
import type { LogLevel } from '../debug-adapter/protocol-types';
import { isLogged, parseLogLevel } from './log-level';

export class RingsideLog implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('Ringside');
  private level: LogLevel = 'info';
  private readonly watcher: vscode.Disposable;

  constructor() {
    this.readLevel();
    this.watcher = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('ringside.logLevel')) this.readLevel();
    });
  }

  get currentLevel(): LogLevel {
    return this.level;
  }

  write(level: Exclude<LogLevel, 'off'>, message: string, source = 'extension'): void {
    if (!isLogged(level, this.level)) return;
    this.channel.appendLine(`${new Date().toISOString().slice(11, 23)} [${source} ${level}] ${message}`);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.watcher.dispose();
    this.channel.dispose();
  }

  private readLevel(): void {
    this.level = parseLogLevel(vscode.workspace.getConfiguration('ringside').get('logLevel'));
  }
}
