import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { asJournal, reportsDirReadError } from '../coverage/read-journals.js';
import type { Journal } from '../engine/journal-types.js';
import { runFiles } from '../engine/run-plan.js';
import { readRegularFile } from '../scenario/read-source.js';
import { historyRun } from './history-run.js';
import type { HistoryNote, HistoryRun } from './types.js';

const debug = createDebug('drill:history');

/** Same bound as `drill coverage`: a journal holds every probe sample, tens of MB for a long drill. */
const MAX_JOURNAL_BYTES = 512 * 1024 * 1024;

/** What drill itself writes into a reports dir beside the run dirs: not runs, and not worth a note. */
const DRILL_OUTPUTS = new Set(['allure-report']);

export interface ReadRuns {
  runs: Array<{ scenario: string; title: string; run: HistoryRun }>;
  notes: HistoryNote[];
}

/**
 * The runs under a reports directory, reduced to what history shows as each journal is read (a
 * year of journals need not fit in memory). A directory that is not a readable drill run is a note:
 * one broken or foreign directory must not hide the rest of the history. The reports directory
 * itself must exist (exit 2 otherwise): a typo must not read as "never drilled".
 */
export async function readRuns(reportsDir: string): Promise<ReadRuns> {
  let names: string[];
  try {
    names = (await readdir(path.resolve(reportsDir), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch (error) {
    throw reportsDirReadError(error, reportsDir);
  }
  const runs: ReadRuns['runs'] = [];
  const notes: HistoryNote[] = [];
  for (const name of names) {
    if (DRILL_OUTPUTS.has(name)) continue;
    const dir = path.join(reportsDir, name);
    const file = runFiles(dir).journal;
    const read = await readRegularFile(path.resolve(file), MAX_JOURNAL_BYTES);
    if (!read.ok) {
      if (read.missing) notes.push(await missingJournal(dir, name));
      else notes.push({ kind: 'unreadable-journal', runId: name, message: `${file}: ${read.message}; skipped` });
      continue;
    }
    const journal = asJournal(read.bytes.toString('utf8'));
    if (typeof journal === 'string') {
      notes.push({ kind: 'unreadable-journal', runId: name, message: `${file}: ${journal}; skipped` });
      continue;
    }
    runs.push(entry(journal));
  }
  debug('%s: %d runs, %d notes', reportsDir, runs.length, notes.length);
  return { runs, notes };
}

function entry(journal: Journal): ReadRuns['runs'][number] {
  const def = journal.scenario.definition;
  return { scenario: def.name, title: def.title, run: historyRun(journal) };
}

async function missingJournal(dir: string, name: string): Promise<HistoryNote> {
  const killed = await access(runFiles(dir).killed).then(
    () => true,
    () => false,
  );
  return killed
    ? { kind: 'killed-run', runId: name, message: `${dir}: killed before it wrote a journal (see killed.json): nothing was measured` }
    : { kind: 'not-a-run', runId: name, message: `${dir}: no journal.json: not a finished drill run (still running, or another tool's directory); skipped` };
}
