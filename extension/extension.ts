// The extension's entry (bundled to dist/extension.js). Wires the pieces together; each lives in its own file.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { RingsideAdapterFactory } from './adapter-factory';
import { RingsideTrackerFactory } from './adapter-tracker';
import { RingsideConfigurationProvider } from './configuration-provider';
import { EventTimeline } from './event-timeline';
import { startNasmLanguageClient } from './language-client';
import { RingsideLog } from './log-channel';
import { SegmentMapPanel } from './segment-map-panel';
import { ScreenPanel } from './screen-panel';
import { SerialTerminals } from './serial-terminal';

let client: LanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = new RingsideLog();
  const tracker = new RingsideTrackerFactory(log);
  const provider = new RingsideConfigurationProvider(log);
  context.subscriptions.push(
    log,
    tracker,
    vscode.debug.registerDebugAdapterDescriptorFactory('ringside', new RingsideAdapterFactory(context.extensionPath, log)),
    vscode.debug.registerDebugAdapterTrackerFactory('ringside', tracker),
    vscode.debug.registerDebugConfigurationProvider('ringside', provider),
    new SegmentMapPanel(tracker.onDidStop, log),
    new ScreenPanel(tracker.onDidStop, log),
    new EventTimeline(tracker.onDidStop),
    new SerialTerminals(log),
    vscode.commands.registerCommand('ringside.showLog', () => log.show()),
  );
  client = startNasmLanguageClient(context);
  log.write('info', `Ringside ${String(context.extension.packageJSON.version)} activated`);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
