// Runs the bundled extension against a stand-in `vscode` module (fake-vscode.ts): activation registers what
// package.json promises, the adapter starts as a separate process through bin/ringside.js, the configuration
// provider fills, checks and builds configurations (running the real nasm), and the views take custom events.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nasmInstalled } from './nasm-available';
import pkg from '../../package.json';
import * as fakeVscode from './fake-vscode';

const { recorded } = fakeVscode;
const root = join(__dirname, '..', '..');

const fakeLanguageClient = {
  TransportKind: { ipc: 1 },
  LanguageClient: class {
    constructor(public id: string, public name: string, public serverOptions: { run: { module: string } }) {}
    start() {
      return Promise.resolve();
    }
    stop() {
      return Promise.resolve();
    }
  },
};

interface Provider {
  resolveDebugConfiguration(folder: unknown, config: Record<string, unknown>): Promise<Record<string, unknown> | undefined>;
  resolveDebugConfigurationWithSubstitutedVariables(folder: unknown, config: Record<string, unknown>): Promise<Record<string, unknown> | undefined>;
  provideDebugConfigurations(): Record<string, unknown>[];
}

let provider: Provider;
let work: string;
const folder = () => ({ uri: { fsPath: work }, name: 'w', index: 0 });

beforeAll(async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'ringside-ext-')), 'extension.js');
  await build({ entryPoints: [join(root, 'extension/extension.ts')], outfile: out, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['vscode', 'vscode-languageclient/node'], logLevel: 'error' });
  // Hand the bundle our stand-ins when it asks for `vscode` and the language client.
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const originalLoad = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    if (request === 'vscode') return fakeVscode;
    if (request === 'vscode-languageclient/node') return fakeLanguageClient;
    return originalLoad.call(this, request, ...rest);
  };
  const extension = createRequire(__filename)(out) as { activate(context: unknown): void };
  extension.activate({ extensionPath: root, subscriptions: [], extension: { packageJSON: pkg } });
  provider = recorded.configurationProviders.get('ringside')![0] as Provider;
});

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'ringside-ws-'));
  recorded.errors.length = 0;
  recorded.settings.nasmPath = 'nasm';
  recorded.activeEditorPath = undefined;
});

describe('activation', () => {
  it('registers a handler for every contributed command, and no command that is not contributed', () => {
    const contributed = pkg.contributes.commands.map((c) => c.command).sort();
    expect([...recorded.commands.keys()].sort()).toEqual(contributed);
  });

  it('registers the debugger pieces and the Event Timeline view for the contributed ids', () => {
    expect([...recorded.adapterFactories.keys()]).toEqual(['ringside']);
    expect([...recorded.trackerFactories.keys()]).toEqual(['ringside']);
    expect(recorded.configurationProviders.get('ringside')).toHaveLength(1);
    const views = pkg.contributes.views.debug.map((v) => v.id);
    expect([...recorded.treeProviders.keys()]).toEqual(views);
  });

  it('starts the adapter as its own Node process running `bin/ringside.js dap`', () => {
    const descriptor = recorded.adapterFactories.get('ringside')!.createDebugAdapterDescriptor({ name: 's', workspaceFolder: undefined }) as fakeVscode.DebugAdapterExecutable;
    expect(descriptor).toBeInstanceOf(fakeVscode.DebugAdapterExecutable);
    expect(descriptor.command).toBe(process.execPath);
    expect(descriptor.args).toEqual([join(root, 'bin', 'ringside.js'), 'dap']);
    expect(existsSync(descriptor.args[0])).toBe(true);
    expect(descriptor.options?.env).toEqual({ ELECTRON_RUN_AS_NODE: '1', RINGSIDE_LOG_LEVEL: 'info' });
  });
});

describe('configuration provider', () => {
  it('offers an initial configuration that matches the contributed one', () => {
    expect(provider.provideDebugConfigurations()).toEqual(pkg.contributes.debuggers[0].initialConfigurations);
  });

  it('fills a configuration from an open image when there is no launch.json', async () => {
    const image = join(work, 'disk.img');
    writeFileSync(image, Buffer.alloc(512));
    recorded.activeEditorPath = image;
    const config = await provider.resolveDebugConfiguration(folder(), {});
    expect(config).toEqual({ type: 'ringside', request: 'launch', name: 'Ringside: disk.img', program: image, format: 'boot', stopOnEntry: true });
    expect(await provider.resolveDebugConfigurationWithSubstitutedVariables(folder(), config!)).toMatchObject({ program: image });
  });

  it('says what to open when F5 finds neither an image nor a NASM source', async () => {
    recorded.activeEditorPath = join(work, 'notes.txt');
    expect(await provider.resolveDebugConfiguration(folder(), {})).toBeUndefined();
    expect(recorded.errors[0]).toMatch(/open a guest image \(\.bin, \.img, \.elf, \.rom\) or a NASM source/);
    recorded.activeEditorPath = join(work, 'defs.inc');
    expect(await provider.resolveDebugConfiguration(folder(), {})).toBeUndefined();
    expect(recorded.errors[1]).toMatch(/^Ringside: defs\.inc is an include file, assembled as part of another source; open a guest image/);
  });

  it('refuses an ill-typed configuration with a message instead of starting', async () => {
    const config = { type: 'ringside', request: 'launch', name: 'bad', program: 'x.bin', format: 'exe', monitor: 'yes' };
    expect(await provider.resolveDebugConfigurationWithSubstitutedVariables(folder(), config)).toBeUndefined();
    expect(recorded.errors).toHaveLength(1);
    expect(recorded.errors[0]).toContain('Ringside cannot start "bad"');
    expect(recorded.errors[0]).toContain('"format" must be one of "bin", "elf", "multiboot", "rom", "boot", "linux", not the string "exe".');
    expect(recorded.errors[0]).toContain('"monitor" must be true or false');
  });

  it('refuses a missing image, naming the resolved path', async () => {
    const config = { type: 'ringside', request: 'launch', name: 'gone', program: 'build/gone.bin' };
    expect(await provider.resolveDebugConfigurationWithSubstitutedVariables(folder(), config)).toBeUndefined();
    expect(recorded.errors[0]).toBe(`Ringside cannot start "gone": "program" names ${join(work, 'build/gone.bin')}, which does not exist.`);
  });

  it.skipIf(!nasmInstalled)('assembles a NASM source whose image is missing, then again only when the source is newer', async () => {
    const source = join(work, 'boot.asm');
    copyFileSync(join(__dirname, 'fixtures', 'gdt.asm'), source);
    recorded.activeEditorPath = source;
    recorded.activeEditorText = readFileSync(source, 'utf8');
    const filled = await provider.resolveDebugConfiguration(folder(), {});
    expect(filled).toMatchObject({ program: join(work, 'boot.bin'), format: 'boot', __ringsideBuildFrom: source });
    const tasksBefore = recorded.executedTasks.length;
    const resolved = await provider.resolveDebugConfigurationWithSubstitutedVariables(folder(), filled!);
    expect(recorded.errors).toEqual([]);
    expect(resolved).toEqual({ type: 'ringside', request: 'launch', name: 'Ringside: boot.asm', program: join(work, 'boot.bin'), format: 'boot', stopOnEntry: true });
    expect(statSync(join(work, 'boot.bin')).size).toBe(512);
    const task = recorded.executedTasks[tasksBefore];
    expect(task.execution.args).toEqual(['-f', 'bin', source, '-o', join(work, 'boot.bin'), '-l', join(work, 'boot.lst')]);
    expect(statSync(join(work, 'boot.lst')).size).toBeGreaterThan(0);
    expect(task.problemMatchers).toBe('$nasm');
    // Fresh image: no second build.
    await provider.resolveDebugConfigurationWithSubstitutedVariables(folder(), filled!);
    expect(recorded.executedTasks.length).toBe(tasksBefore + 1);
    // Source edited after the build: built again.
    const later = new Date(Date.now() + 60_000);
    utimesSync(source, later, later);
    await provider.resolveDebugConfigurationWithSubstitutedVariables(folder(), filled!);
    expect(recorded.executedTasks.length).toBe(tasksBefore + 2);
  });

  it('says clearly that nasm is not installed when a build is needed', async () => {
    const source = join(work, 'a.asm');
    writeFileSync(source, 'hlt\n');
    recorded.settings.nasmPath = join(work, 'no-such-nasm');
    recorded.activeEditorPath = source;
    recorded.activeEditorText = 'hlt\n';
    const filled = await provider.resolveDebugConfiguration(folder(), {});
    expect(await provider.resolveDebugConfigurationWithSubstitutedVariables(folder(), filled!)).toBeUndefined();
    expect(recorded.errors[0]).toMatch(/a\.bin or its listing is missing and must be assembled from a\.asm, but nasm is not installed/);
  });

  it.skipIf(!nasmInstalled)('reports a nasm error without starting', async () => {
    const source = join(work, 'broken.asm');
    writeFileSync(source, 'mov ax, \n');
    recorded.activeEditorPath = source;
    recorded.activeEditorText = 'mov ax, \n';
    const filled = await provider.resolveDebugConfiguration(folder(), {});
    expect(await provider.resolveDebugConfigurationWithSubstitutedVariables(folder(), filled!)).toBeUndefined();
    expect(recorded.errors[0]).toMatch(/nasm could not assemble broken\.asm \(exit code 1\); its messages are in the Problems view/);
  });
});

describe('views fed by custom events', () => {
  const session = { id: 's1', type: 'ringside', name: 'guest', configuration: { serial: 'terminal' }, customRequest: async () => ({}) };

  it('shows trace events in the Event Timeline once the guest stops, and as a trace document', async () => {
    const timeline = recorded.treeProviders.get('ringside.eventTimeline') as { getChildren(): { seq: number; event: { kind: string } }[]; getTreeItem(e: unknown): fakeVscode.TreeItem };
    fakeVscode.sessionStarts.fire({ ...session, configuration: {} });
    fakeVscode.customEvents.fire({ session, event: 'ringside/event', body: { kind: 'segment-load', summary: 'DS 0x0010 -> 0x0018', cs: 8, eip: 0x1234, detail: {} } });
    fakeVscode.customEvents.fire({ session, event: 'ringside/event', body: { kind: 'nonsense' } });
    const tracker = (recorded.trackerFactories.get('ringside') as { createDebugAdapterTracker(s: unknown): { onDidSendMessage(m: unknown): void } }).createDebugAdapterTracker(session);
    tracker.onDidSendMessage({ type: 'event', event: 'stopped', body: { reason: 'step' } });
    const children = timeline.getChildren();
    expect(children.map((c) => c.event.kind)).toEqual(['segment-load']);
    const item = timeline.getTreeItem(children[0]);
    expect(item.label).toBe('segment-load  DS 0x0010 -> 0x0018');
    expect(item.description).toBe('#1 at 0008:00001234');
    expect(item.command).toMatchObject({ command: 'ringside.showEventDetails' });
    await recorded.commands.get('ringside.openEventTimelineAsTrace')!();
    expect(recorded.openedDocuments.at(-1)).toEqual({ language: 'ringside-trace', content: 'segment-load DS 0x0010 -> 0x0018 at 0008:00001234\n' });
  });

  it('sends COM1 output to a terminal when serial is "terminal"', () => {
    const before = recorded.terminals.length;
    fakeVscode.sessionStarts.fire(session);
    expect(recorded.terminals.length).toBe(before + 1);
    const terminal = recorded.terminals[before];
    expect(terminal.name).toBe('COM1: guest');
    const written: string[] = [];
    terminal.pty.onDidWrite((s) => written.push(s));
    fakeVscode.customEvents.fire({ session, event: 'ringside/serial', body: { data: 'boot ok\n' } });
    fakeVscode.sessionEnds.fire(session);
    expect(written.join('')).toBe('boot ok\r\n\r\n[Ringside: the debug session has ended]\r\n');
  });

  it('sends keys typed in the COM1 terminal as UTF-8 bytes, and says once why input was refused', async () => {
    const sent: unknown[] = [];
    const keySession = {
      ...session,
      id: 's-keys',
      customRequest: async (command: string, args: { data: string }) => {
        sent.push([command, args.data]);
        if (args.data === 'x') throw new Error('accepted 0 of 1 bytes');
        return {};
      },
    };
    const before = recorded.terminals.length;
    fakeVscode.sessionStarts.fire(keySession);
    const terminal = recorded.terminals[before];
    const written: string[] = [];
    terminal.pty.onDidWrite((s) => written.push(s));
    terminal.pty.open(undefined);
    terminal.pty.handleInput!('é€');
    terminal.pty.handleInput!('x');
    terminal.pty.handleInput!('x');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sent[0]).toEqual(['ringside/serialInput', '\xc3\xa9\xe2\x82\xac']);
    expect(written.join('').match(/COM1 input refused: accepted 0 of 1 bytes/g)).toHaveLength(1);
    fakeVscode.sessionEnds.fire(keySession);
  });

  it('shows the segment map the adapter sends at each stop, in a page that runs only its own script', async () => {
    const flat = { base: 0, limit: 0xffffffff, type: 3, s: true, dpl: 0, p: true, db: true, g: true, avl: false, usable: true };
    const requests: string[] = [];
    const mapSession = {
      ...session,
      customRequest: async (command: string) => {
        requests.push(command);
        return { mode: 'protected', cpl: 0, monitor: false, gdtr: { base: 0, limit: 0x17 }, gdt: [], registers: [{ name: 'DS', selector: 0x10, cache: flat, tableEntry: flat, consistent: true, differs: [] }] };
      },
    };
    fakeVscode.debug.activeDebugSession = mapSession;
    await recorded.commands.get('ringside.showSegmentMap')!();
    const panel = recorded.webviews.at(-1)!;
    expect(panel.viewType).toBe('ringside.segmentMap');
    expect(panel.webview.html).toMatch(/Content-Security-Policy" content="default-src 'none'; style-src vscode-webview: 'unsafe-inline'; script-src 'nonce-[^']+';"/);
    panel.sendFromPage({ ready: true });
    const tracker = (recorded.trackerFactories.get('ringside') as { createDebugAdapterTracker(s: unknown): { onDidSendMessage(m: unknown): void } }).createDebugAdapterTracker(mapSession);
    tracker.onDidSendMessage({ type: 'event', event: 'stopped', body: { reason: 'step' } });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(requests)).toEqual(new Set(['ringside/segmentMap']));
    const last = panel.posted.at(-1) as { html: string };
    expect(last.html).toContain('data-register="DS"');
    fakeVscode.sessionEnds.fire(mapSession);
    expect((panel.posted.at(-1) as { html: string }).html).toContain('The session &#34;guest&#34; has ended.');
    fakeVscode.debug.activeDebugSession = undefined;
  });

  it('shows the guest screen in a webview and sends the keys typed in it', async () => {
    const requests: [string, unknown][] = [];
    const screenSession = {
      ...session,
      customRequest: async (command: string, args?: unknown) => {
        requests.push([command, args]);
        return { kind: 'text', columns: 2, rows: 1, cells: [0x1f41, 0x1f42], cursor: { row: 0, column: 1 }, instructions: 5, running: true };
      },
    };
    fakeVscode.debug.activeDebugSession = screenSession;
    await recorded.commands.get('ringside.showScreen')!();
    const panel = recorded.webviews.at(-1)!;
    expect(panel.viewType).toBe('ringside.screen');
    expect(panel.title).toBe('Guest Screen');
    panel.sendFromPage({ ready: true });
    panel.sendFromPage({ keys: 'ls\n' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(requests).toContainEqual(['ringside/keys', { text: 'ls\n' }]);
    // The cells in their colours (attribute 1Fh: white on blue), the cursor on the second.
    expect((panel.posted.at(-1) as { html: string }).html).toContain('<span style="color:#ffffff;background:#0000aa">A</span><span class="cursor" style="color:#ffffff;background:#0000aa">B</span>');
    fakeVscode.debug.activeDebugSession = undefined;
  });

  it('turns an adapter that dies into a message', () => {
    const tracker = (recorded.trackerFactories.get('ringside') as { createDebugAdapterTracker(s: unknown): { onExit(code: number | undefined, signal: string | undefined): void } }).createDebugAdapterTracker(session);
    tracker.onExit(1, undefined);
    expect(recorded.errors.at(-1)).toBe('The Ringside debug adapter stopped unexpectedly (exit code 1); the session "guest" has ended.');
  });
});
