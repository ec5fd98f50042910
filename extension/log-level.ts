// Log levels of the "Ringside" output channel, shared by the extension and the adapter (which reads its level
// from the RINGSIDE_LOG_LEVEL environment variable). Pure, so the ordering is tested without VS Code.
import { LOG_LEVELS, type LogLevel } from '../debug-adapter/protocol-types';

export function parseLogLevel(value: unknown, fallback: LogLevel = 'info'): LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value) ? (value as LogLevel) : fallback;
}

/** Whether a message at `messageLevel` is shown when the channel is set to `channelLevel`. */
export function isLogged(messageLevel: Exclude<LogLevel, 'off'>, channelLevel: LogLevel): boolean {
  return channelLevel !== 'off' && LOG_LEVELS.indexOf(messageLevel) <= LOG_LEVELS.indexOf(channelLevel);
}
