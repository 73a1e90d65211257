import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

/**
 * JSON lines, one per event. The level is written as an upper-case word (`"level":"ERROR"`) so the
 * runbook's `kubectl logs ... | grep ERROR` finds exactly the failures; no transport (worker
 * threads would not survive the single-file bundle), synchronous writes so a line logged just
 * before exit is not lost. Values that must never appear (tokens, connection strings) are never
 * passed to the logger; `redact` is the second line of defence.
 */
export function createLogger(level: LogLevel, base: Record<string, string>, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'truststream', ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label.toUpperCase() }) },
      redact: { paths: ['token', 'authorization', 'headers.authorization', 'databaseUrl', 'password'], censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
