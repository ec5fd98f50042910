// The adapter's own log (what it decided and why), sent to the client as `ringside/log` events at or above the
// level the RINGSIDE_LOG_LEVEL environment variable names (the extension sets it from its setting; other clients
// get nothing unless they set it). Bugs are also written to stderr whatever the level.

import { LOG_LEVEL_ENV, LOG_LEVELS, type LogEventBody, type LogLevel } from './protocol-types';

export type LogMessageLevel = Exclude<LogLevel, 'off'>;

export class AdapterLog {
  readonly level: LogLevel;

  constructor(
    private readonly send: (body: LogEventBody) => void,
    env: Record<string, string | undefined> = process.env,
  ) {
    const v = env[LOG_LEVEL_ENV];
    this.level = (LOG_LEVELS as readonly string[]).includes(v ?? '') ? (v as LogLevel) : 'off';
  }

  enabled(level: LogMessageLevel): boolean {
    return this.level !== 'off' && LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(this.level);
  }

  write(level: LogMessageLevel, message: string): void {
    if (level === 'error') process.stderr.write(`ringside dap: ${message}\n`);
    if (this.enabled(level)) this.send({ level, message });
  }

  error(message: string): void {
    this.write('error', message);
  }
  warn(message: string): void {
    this.write('warn', message);
  }
  info(message: string): void {
    this.write('info', message);
  }
  debug(message: string): void {
    this.write('debug', message);
  }
}
