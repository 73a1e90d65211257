import { DrillError } from '../engine/errors.js';

/** The CLI's one place that prints errors: a code, the message, nothing twice; through `redact` when a scenario's secrets are known. */
export function printError(error: unknown, redact: (text: string) => string = (text) => text): void {
  if (error instanceof DrillError) {
    console.error(redact(`drill: ${error.message}`));
    console.error(`(${error.code})`);
  } else {
    console.error(redact(`drill: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
  }
}

export function exitCodeForError(error: unknown): number {
  if (!(error instanceof DrillError)) return 3;
  switch (error.kind) {
    case 'input':
      return 2;
    case 'environment':
      return 3;
    case 'check':
      return 1;
    case 'interrupted':
      return 130;
    default:
      return 3;
  }
}
