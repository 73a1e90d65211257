import { createHash } from 'node:crypto';
import path from 'node:path';
import createDebug from 'debug';
import { InputError } from '../engine/errors.js';
import { readRegularFile } from '../scenario/read-source.js';
import { parseRunbook, type RunbookProblem } from './parse-runbook.js';
import type { Runbook } from './types.js';

const debug = createDebug('drill:runbook');

/** Runbooks are documents: 4 MiB is far past any real one and still bounded (a device or a log by mistake). */
export const MAX_RUNBOOK_BYTES = 4 * 1024 * 1024;

/** The default of `--runbook` for run, validate and coverage. */
export const RUNBOOK_ENV = 'DRILL_RUNBOOK';

export const RUNBOOK_HINT = 'give the runbook Markdown file (e.g. ../shared/runbook/truststream-rollback-dr-procedures.md)';

/** A runbook that cannot be used: exit 2, with every problem at its line. */
export class RunbookInvalidError extends InputError {
  constructor(
    readonly file: string,
    readonly problems: RunbookProblem[],
  ) {
    super('RUNBOOK_INVALID', [...problems.map((p) => `${p.line > 0 ? `${file}:${p.line}` : file}: ${p.message}`), `fix the runbook, or ${RUNBOOK_HINT}`].join('\n'));
    this.name = 'RunbookInvalidError';
  }
}

/** Reads and parses a runbook file; throws RunbookInvalidError (exit 2) when it cannot be used. */
export async function readRunbook(file: string): Promise<Runbook> {
  const read = await readRegularFile(path.resolve(file), MAX_RUNBOOK_BYTES);
  if (!read.ok) throw new RunbookInvalidError(file, [{ line: 0, message: read.missing ? `not found (working directory ${process.cwd()})` : read.message }]);
  const text = decodeText(read.bytes);
  if (text === undefined) throw new RunbookInvalidError(file, [{ line: 0, message: 'is not UTF-8 text (a binary file?): a runbook is a Markdown file' }]);
  const sha256 = createHash('sha256').update(read.bytes).digest('hex');
  const parsed = parseRunbook(text, file, sha256);
  if (!parsed.ok) throw new RunbookInvalidError(file, parsed.problems);
  debug('%s: %d sections, %d procedures', file, parsed.runbook.sections.length, parsed.runbook.procedures.length);
  return parsed.runbook;
}

function decodeText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return undefined;
  }
}
