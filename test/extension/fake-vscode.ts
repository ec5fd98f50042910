// A stand-in for the parts of the `vscode` API the extension uses, recording what the extension registers and
// shows, so activation and the configuration provider run in a plain Node test. Tasks really run their process,
// so the nasm build path is exercised for real. Not a VS Code emulation: just enough to observe the extension.
import { spawn } from 'node:child_process';

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (listener: Listener<T>) => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Disposable {
  constructor(private readonly fn: () => void = () => {}) {}
  dispose(): void {
    this.fn();
  }
}

export class DebugAdapterExecutable {
  constructor(
    public command: string,
    public args: string[],
    public options?: { env?: Record<string, string>; cwd?: string },
  ) {}
}

export class ThemeIcon {
  constructor(public id: string, public color?: ThemeColor) {}
}
export class ThemeColor {
  constructor(public id: string) {}
}
export class MarkdownString {
  constructor(public value: string) {}
}
export enum TreeItemCollapsibleState {
  None = 0,
}
export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: unknown;
  iconPath?: unknown;
  contextValue?: string;
  command?: unknown;
  constructor(public label: string, public collapsibleState: TreeItemCollapsibleState) {}
}
export enum ViewColumn {
  Beside = -2,
}
export enum TaskRevealKind {
  Silent = 2,
}
export enum TaskScope {
  Workspace = 2,
}
export enum DebugConfigurationProviderTriggerKind {
  Initial = 1,
  Dynamic = 2,
}
export class ProcessExecution {
  constructor(public process: string, public args: string[], public options?: { cwd?: string }) {}
}
export class Task {
  presentationOptions?: unknown;
  constructor(
    public definition: unknown,
    public scope: unknown,
    public name: string,
    public source: string,
    public execution: ProcessExecution,
    public problemMatchers?: string | string[],
  ) {}
}

/** What the extension did, for the test to inspect. */
export const recorded = {
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  adapterFactories: new Map<string, { createDebugAdapterDescriptor(session: unknown): unknown }>(),
  trackerFactories: new Map<string, unknown>(),
  configurationProviders: new Map<string, unknown[]>(),
  treeProviders: new Map<string, unknown>(),
  errors: [] as string[],
  outputLines: [] as string[],
  executedTasks: [] as Task[],
  settings: { logLevel: 'info', nasmPath: 'nasm', 'eventTimeline.maxEntries': 2000 } as Record<string, unknown>,
  terminals: [] as { name: string; pty: { onDidWrite: (l: (s: string) => void) => void; open(dims?: unknown): void; handleInput?(data: string): void } }[],
  activeEditorPath: undefined as string | undefined,
  activeEditorText: '',
  openedDocuments: [] as { language?: string; content?: string }[],
  webviews: [] as FakeWebviewPanel[],
};

export class FakeWebviewPanel {
  readonly posted: unknown[] = [];
  private readonly received = new EventEmitter<unknown>();
  private readonly disposed = new EventEmitter<void>();
  readonly webview = {
    html: '',
    cspSource: 'vscode-webview:',
    postMessage: async (message: unknown) => {
      this.posted.push(message);
      return true;
    },
    onDidReceiveMessage: this.received.event,
  };
  constructor(public viewType: string, public title: string, public options: unknown) {}
  /** What the page's script would send. */
  sendFromPage(message: unknown): void {
    this.received.fire(message);
  }
  reveal(): void {}
  onDidDispose = this.disposed.event;
  dispose(): void {
    this.disposed.fire();
  }
}

const endTask = new EventEmitter<{ execution: unknown; exitCode: number | undefined }>();
export const customEvents = new EventEmitter<{ session: unknown; event: string; body: unknown }>();
export const sessionStarts = new EventEmitter<unknown>();
export const sessionEnds = new EventEmitter<unknown>();

export const window = {
  createOutputChannel: () => ({ appendLine: (line: string) => recorded.outputLines.push(line), show: () => {}, dispose: () => {} }),
  showErrorMessage: (message: string) => {
    recorded.errors.push(message);
    return Promise.resolve(undefined);
  },
  get activeTextEditor() {
    const path = recorded.activeEditorPath;
    return path
      ? { document: { uri: { scheme: 'file', fsPath: path }, isDirty: false, save: async () => true, getText: () => recorded.activeEditorText } }
      : undefined;
  },
  registerTreeDataProvider: (id: string, provider: unknown) => {
    recorded.treeProviders.set(id, provider);
    return new Disposable();
  },
  createTerminal: (options: { name: string; pty: (typeof recorded.terminals)[number]['pty'] }) => {
    recorded.terminals.push(options);
    return { show: () => options.pty.open() };
  },
  createWebviewPanel: (viewType: string, title: string, _column: unknown, options: unknown) => {
    const panel = new FakeWebviewPanel(viewType, title, options);
    recorded.webviews.push(panel);
    return panel;
  },
  setStatusBarMessage: () => new Disposable(),
  showTextDocument: async () => undefined,
};

export const workspace = {
  getConfiguration: () => ({ get: (key: string) => recorded.settings[key] }),
  onDidChangeConfiguration: () => new Disposable(),
  openTextDocument: async (options: { language?: string; content?: string }) => {
    recorded.openedDocuments.push(options);
    return {};
  },
};

export const debug = {
  activeDebugSession: undefined as unknown,
  registerDebugAdapterDescriptorFactory: (type: string, factory: { createDebugAdapterDescriptor(session: unknown): unknown }) => {
    recorded.adapterFactories.set(type, factory);
    return new Disposable();
  },
  registerDebugAdapterTrackerFactory: (type: string, factory: unknown) => {
    recorded.trackerFactories.set(type, factory);
    return new Disposable();
  },
  registerDebugConfigurationProvider: (type: string, provider: unknown) => {
    recorded.configurationProviders.set(type, [...(recorded.configurationProviders.get(type) ?? []), provider]);
    return new Disposable();
  },
  onDidReceiveDebugSessionCustomEvent: customEvents.event,
  onDidStartDebugSession: sessionStarts.event,
  onDidTerminateDebugSession: sessionEnds.event,
  onDidChangeActiveDebugSession: () => new Disposable(),
};

export const commands = {
  registerCommand: (id: string, handler: (...args: unknown[]) => unknown) => {
    recorded.commands.set(id, handler);
    return new Disposable();
  },
  executeCommand: async () => undefined,
};

export const tasks = {
  executeTask: async (task: Task) => {
    recorded.executedTasks.push(task);
    const execution = { task };
    const child = spawn(task.execution.process, task.execution.args, { cwd: task.execution.options?.cwd, stdio: 'ignore' });
    child.on('error', () => endTask.fire({ execution, exitCode: undefined }));
    child.on('exit', (code) => endTask.fire({ execution, exitCode: code ?? undefined }));
    return execution;
  },
  onDidEndTaskProcess: endTask.event,
};
