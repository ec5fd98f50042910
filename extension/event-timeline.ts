// The "Event Timeline" view in the Run and Debug side bar: segment loads, descriptor writes, inconsistencies,
// monitor traps and faults of the current Ringside session, newest last. Events arrive as `ringside/event` custom
// events while the guest runs; the tree is redrawn on each stop and at most once a second in between, so a guest
// that produces thousands of events does not keep the UI busy.
import * as vscode from 'vscode';
import { GOTO_REQUEST, MOMENT_EVENT, TRACE_EVENT } from '../debug-adapter/protocol-types';
import { describeEvent, EVENT_ICONS, eventOrdinal, formatAddress, summaryText, TimelineModel, toTraceLine, type TimelineEntry } from './timeline-model';

const REFRESH_WHILE_RUNNING_MS = 1000;

export class EventTimeline implements vscode.TreeDataProvider<TimelineEntry>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly model: TimelineModel;
  private readonly disposables: vscode.Disposable[] = [];
  private pendingRefresh: NodeJS.Timeout | undefined;

  constructor(onDidStop: vscode.Event<vscode.DebugSession>) {
    this.model = new TimelineModel(readMaxEntries());
    this.disposables.push(
      vscode.window.registerTreeDataProvider('ringside.eventTimeline', this),
      vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
        if (e.session.type !== 'ringside') return;
        if (e.event === TRACE_EVENT && this.model.add(e.body)) this.scheduleRefresh();
        if (e.event === MOMENT_EVENT && typeof e.body?.eventOrdinal === 'number') this.model.present = e.body.eventOrdinal;
      }),
      vscode.debug.onDidStartDebugSession((session) => {
        if (session.type === 'ringside') this.clear();
      }),
      onDidStop(() => this.refreshNow()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('ringside.eventTimeline.maxEntries')) {
          this.model.setMaxEntries(readMaxEntries());
          this.refreshNow();
        }
      }),
      vscode.commands.registerCommand('ringside.clearEventTimeline', () => this.clear()),
      vscode.commands.registerCommand('ringside.openEventTimelineAsTrace', () => this.openAsTrace()),
      vscode.commands.registerCommand('ringside.showEventDetails', (entry?: TimelineEntry) => entry && showDetails(entry)),
      vscode.commands.registerCommand('ringside.revealEventInDisassembly', (entry?: TimelineEntry) => entry && revealInDisassembly(entry)),
      vscode.commands.registerCommand('ringside.goToEventMoment', (entry?: TimelineEntry) => entry && goToMoment(entry)),
    );
  }

  getTreeItem(entry: TimelineEntry): vscode.TreeItem {
    const { event } = entry;
    const item = new vscode.TreeItem(`${event.kind}  ${summaryText(event)}`, vscode.TreeItemCollapsibleState.None);
    item.id = `ringside-event-${entry.seq}`;
    const later = this.model.isLater(entry);
    item.description = `${later ? 'later: ' : ''}#${entry.seq} at ${formatAddress(event.cs, event.eip)}`;
    item.tooltip = new vscode.MarkdownString(describeEvent(entry));
    const icon = EVENT_ICONS[event.kind];
    item.iconPath = new vscode.ThemeIcon(icon.icon, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
    // Events with an ordinal can be travelled to (reverse execution); the adapter gives every guest event one.
    item.contextValue = eventOrdinal(event) !== undefined ? 'ringside.event.travel' : 'ringside.event';
    item.command = { command: 'ringside.showEventDetails', title: 'Show Event Details', arguments: [entry] };
    return item;
  }

  getChildren(entry?: TimelineEntry): TimelineEntry[] {
    return entry ? [] : [...this.model.entries];
  }

  clear(): void {
    this.model.clear();
    this.refreshNow();
  }

  dispose(): void {
    if (this.pendingRefresh) clearTimeout(this.pendingRefresh);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }

  /** The timeline as trace lines in an editor, highlighted by the ringside-trace grammar, to search or save. */
  private async openAsTrace(): Promise<void> {
    const header = this.model.dropped > 0 ? [`# ${this.model.dropped} earlier events were dropped (ringside.eventTimeline.maxEntries)`] : [];
    const content = [...header, ...this.model.entries.map(toTraceLine)].join('\n') + '\n';
    const document = await vscode.workspace.openTextDocument({ language: 'ringside-trace', content });
    await vscode.window.showTextDocument(document, { preview: false });
  }

  private scheduleRefresh(): void {
    if (this.pendingRefresh) return;
    this.pendingRefresh = setTimeout(() => this.refreshNow(), REFRESH_WHILE_RUNNING_MS);
  }

  private refreshNow(): void {
    if (this.pendingRefresh) clearTimeout(this.pendingRefresh);
    this.pendingRefresh = undefined;
    void vscode.commands.executeCommand('setContext', 'ringside.timelineHasEvents', this.model.entries.length > 0);
    this.changed.fire();
  }
}

function readMaxEntries(): number {
  return vscode.workspace.getConfiguration('ringside').get<number>('eventTimeline.maxEntries') ?? 2000;
}

/** "Go to This Moment": reverse execution to just after the event (ringside/goto with its ordinal). */
async function goToMoment(entry: TimelineEntry): Promise<void> {
  const session = vscode.debug.activeDebugSession;
  const ordinal = eventOrdinal(entry.event);
  if (!session || session.type !== 'ringside' || ordinal === undefined) return;
  try {
    await session.customRequest(GOTO_REQUEST, { event: ordinal });
  } catch (e) {
    void vscode.window.showErrorMessage(`Ringside: ${(e as Error).message}`);
  }
}

async function showDetails(entry: TimelineEntry): Promise<void> {
  const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: describeEvent(entry) });
  await vscode.window.showTextDocument(document, { preview: true, preserveFocus: true, viewColumn: vscode.ViewColumn.Beside });
}

/**
 * VS Code has no API to open the Disassembly view at an arbitrary address, so this opens it (at the current
 * instruction) and names the event's address in the status bar, where the user can compare it.
 */
async function revealInDisassembly(entry: TimelineEntry): Promise<void> {
  await vscode.commands.executeCommand('debug.action.openDisassemblyView');
  vscode.window.setStatusBarMessage(`Ringside: ${entry.event.kind} #${entry.seq} happened at ${formatAddress(entry.event.cs, entry.event.eip)}`, 10_000);
}
