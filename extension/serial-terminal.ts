// COM1 in an integrated terminal for sessions launched with `serial: "terminal"`: the adapter sends the guest's
// COM1 output as `ringside/serial` events, and keys typed in the terminal go back as `ringside/serialInput`
// requests. The terminal stays open after the session so its output can still be read.
import * as vscode from 'vscode';
import { SERIAL_EVENT, SERIAL_INPUT_REQUEST, type SerialEventBody } from '../debug-adapter/protocol-types';
import type { RingsideLog } from './log-channel';
import { SerialLineEndings } from './serial-text';

class SerialPseudoterminal implements vscode.Pseudoterminal {
  private readonly writer = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.writer.event;
  private opened = false;
  private backlog: string[] = [];
  private readonly lineEndings = new SerialLineEndings();
  private inputRefused = '';

  constructor(
    private session: vscode.DebugSession | undefined,
    private readonly log: RingsideLog,
  ) {}

  open(): void {
    this.opened = true;
    for (const text of this.backlog) this.writer.fire(text);
    this.backlog = [];
  }

  close(): void {
    this.session = undefined;
  }

  output(data: string): void {
    const text = this.lineEndings.translate(data);
    if (this.opened) this.writer.fire(text);
    else this.backlog.push(text);
  }

  ended(): void {
    this.output('\r\n[Ringside: the debug session has ended]\r\n');
    this.session = undefined;
  }

  handleInput(data: string): void {
    const session = this.session;
    if (!session) return;
    // A terminal sends text as UTF-8 bytes; the request carries bytes as char codes 0–255.
    const bytes = Buffer.from(data, 'utf8').toString('latin1');
    session.customRequest(SERIAL_INPUT_REQUEST, { data: bytes }).then(undefined, (e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      this.log.write('warn', `COM1 input was not accepted: ${message}`);
      // Said once per kind of refusal, so a guest that does not read its input does not flood the terminal.
      if (this.inputRefused !== message) this.output(`\r\n[Ringside: COM1 input refused: ${message}]\r\n`);
      this.inputRefused = message;
    });
  }
}

export class SerialTerminals implements vscode.Disposable {
  private readonly terminals = new Map<string, SerialPseudoterminal>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly log: RingsideLog) {
    this.disposables.push(
      vscode.debug.onDidStartDebugSession((session) => {
        if (session.type !== 'ringside' || session.configuration.serial !== 'terminal') return;
        const pty = new SerialPseudoterminal(session, log);
        this.terminals.set(session.id, pty);
        vscode.window.createTerminal({ name: `COM1: ${session.name}`, pty, iconPath: new vscode.ThemeIcon('plug') }).show(true);
      }),
      vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
        if (e.event !== SERIAL_EVENT) return;
        const body = e.body as Partial<SerialEventBody> | undefined;
        if (typeof body?.data === 'string') this.terminals.get(e.session.id)?.output(body.data);
      }),
      vscode.debug.onDidTerminateDebugSession((session) => {
        this.terminals.get(session.id)?.ended();
        this.terminals.delete(session.id);
      }),
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
