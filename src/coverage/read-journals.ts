import { readdir } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Journal } from '../engine/journal-types.js';
import { runFiles } from '../engine/run-plan.js';
import { readRegularFile } from '../scenario/read-source.js';
import type { CoverageNote } from './types.js';

const debug = createDebug('drill:coverage');

/** Journals hold every probe sample of a run: a long drill's is tens of MB; past this it is not a journal. */
const MAX_JOURNAL_BYTES = 512 * 1024 * 1024;

export interface ReadJournals {
  journals: Journal[];
  /** Journals that could not be read or are not drill journals: reported, not fatal. */
  notes: CoverageNote[];
}

/**
 * The journals of the runs under a reports directory (`<dir>/<run-id>/journal.json`). A run without
 * a journal (killed before it wrote one) has nothing to join and is passed over. The directory
 * itself must exist: a mistyped `--reports-dir` must not read as "nothing was ever drilled".
 */
export async function readJournals(reportsDir: string): Promise<ReadJournals> {
  let names: string[];
  try {
    names = (await readdir(path.resolve(reportsDir), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (error) {
    throw reportsDirReadError(error, reportsDir);
  }
  const journals: Journal[] = [];
  const notes: CoverageNote[] = [];
  for (const name of names) {
    const file = runFiles(path.join(reportsDir, name)).journal;
    const read = await readRegularFile(path.resolve(file), MAX_JOURNAL_BYTES);
    if (!read.ok) {
      if (!read.missing) notes.push({ kind: 'unreadable-journal', runId: name, message: `${file}: ${read.message}; skipped` });
      continue;
    }
    const journal = asJournal(read.bytes.toString('utf8'));
    if (typeof journal === 'string') {
      notes.push({ kind: 'unreadable-journal', runId: name, message: `${file}: ${journal}; skipped` });
      continue;
    }
    journals.push(journal);
  }
  debug('%s: %d journals, %d skipped', reportsDir, journals.length, notes.length);
  return { journals, notes };
}

/** The journal, or why this is not one the join can read (a torn write, another tool's file, a format from the future). */
export function asJournal(text: string): Journal | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  const j = value as Partial<Journal> | null;
  if (typeof j !== 'object' || j === null) return 'not a drill journal';
  if (j.journalVersion !== 1) return `journal version ${String(j.journalVersion)}, this drill reads version 1`;
  const d = j.scenario?.definition;
  const ok =
    typeof j.runId === 'string' &&
    typeof j.startedAt === 'string' &&
    Array.isArray(j.steps) &&
    Array.isArray(j.verdicts) &&
    typeof j.measurements === 'object' &&
    typeof d === 'object' &&
    typeof d.name === 'string' &&
    typeof d.runbook === 'string' &&
    Array.isArray(d.tags) &&
    Array.isArray(d.recovery) &&
    typeof d.expect === 'object' &&
    typeof d.targets === 'object';
  return ok ? (j as Journal) : 'not a drill journal (runId, scenario definition, steps or verdicts missing)';
}

export function reportsDirReadError(error: unknown, dir: string): InputError | EnvironmentError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const where = `--reports-dir ${dir}`;
  const fix = 'give the directory `drill run --reports-dir` wrote to (default: reports)';
  switch (code) {
    case 'ENOENT':
      return new InputError('REPORTS_DIR_NOT_FOUND', `${where}: does not exist (working directory ${process.cwd()}); ${fix}`);
    case 'ENOTDIR':
      return new InputError('REPORTS_DIR_INVALID', `${where}: is a file, not a directory; ${fix}`);
    case 'EACCES':
    case 'EPERM':
      return new InputError('REPORTS_DIR_INVALID', `${where}: permission denied; ${fix}`);
    default:
      return new EnvironmentError('REPORTS_DIR_UNREADABLE', `${where}: cannot read it (${code || (error as Error).message}); check the file system and run again`);
  }
}
