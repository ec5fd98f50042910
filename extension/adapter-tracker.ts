// Watches the messages between VS Code and each Ringside adapter process: announces every stop (the views
// refresh then), copies the adapter's log events into the output channel, logs all traffic at level "trace",
// and turns an adapter that dies mid-session into a message instead of a silently vanished session.
import * as vscode from 'vscode';
import { LOG_EVENT, type LogEventBody } from '../debug-adapter/protocol-types';
import type { RingsideLog } from './log-channel';
import { parseLogLevel } from './log-level';

interface DapMessage {
  type?: string;
  event?: string;
  command?: string;
  body?: unknown;
}

const MAX_TRACED_MESSAGE = 2000;

export class RingsideTrackerFactory implements vscode.DebugAdapterTrackerFactory, vscode.Disposable {
  private readonly stopped = new vscode.EventEmitter<vscode.DebugSession>();
  /** Fires on each `stopped` event of a Ringside session, after VS Code has received it. */
  readonly onDidStop = this.stopped.event;

  constructor(private readonly log: RingsideLog) {}

  createDebugAdapterTracker(session: vscode.DebugSession): vscode.DebugAdapterTracker {
    const log = this.log;
    const stopped = this.stopped;
    let ended = false;
    const trace = (direction: string, message: unknown) => {
      if (log.currentLevel !== 'trace') return;
      const text = JSON.stringify(message);
      log.write('trace', `${direction} ${text.length > MAX_TRACED_MESSAGE ? text.slice(0, MAX_TRACED_MESSAGE) + '…' : text}`, 'dap');
    };
    return {
      onWillReceiveMessage: (message: unknown) => {
        trace('→', message);
        const m = message as DapMessage;
        if (m.type === 'request' && (m.command === 'disconnect' || m.command === 'terminate')) ended = true;
      },
      onDidSendMessage: (message: unknown) => {
        trace('←', message);
        const m = message as DapMessage;
        if (m.type !== 'event') return;
        if (m.event === 'stopped') stopped.fire(session);
        else if (m.event === 'terminated' || m.event === 'exited') ended = true;
        else if (m.event === LOG_EVENT) {
          const body = m.body as Partial<LogEventBody> | undefined;
          const level = parseLogLevel(body?.level, 'info');
          if (level !== 'off') log.write(level, String(body?.message ?? ''), 'adapter');
        }
      },
      onError: (error: Error) => {
        log.write('error', `adapter connection error: ${error.message}`);
      },
      onExit: (code: number | undefined, signal: string | undefined) => {
        log.write(code === 0 ? 'info' : 'error', `adapter process exited (code ${code ?? 'none'}${signal ? `, signal ${signal}` : ''})`);
        const unexpected = Boolean(signal) || (code !== undefined && code !== 0) || !ended;
        if (!unexpected) return;
        void vscode.window
          .showErrorMessage(
            `The Ringside debug adapter stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${code ?? 'unknown'}`}); the session "${session.name}" has ended.`,
            'Show Log',
          )
          .then((choice) => choice && log.show());
      },
    };
  }

  dispose(): void {
    this.stopped.dispose();
  }
}
