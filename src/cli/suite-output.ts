import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../engine/errors.js';
import { junitXml } from '../report/junit.js';
import type { SuiteSummary } from '../report/suite-summary.js';

/** `<reports dir>/summary.json`: the last `drill run` into that directory (not inside any run dir: evidence covers those). */
export const SUMMARY_FILE = 'summary.json';

/**
 * `--junit FILE` checked before any drill starts: its directory is created, and a directory in
 * the file's place is refused (exit 2) rather than found after an hour of drills.
 */
export async function prepareJunitFile(file: string): Promise<string> {
  const absolute = path.resolve(file);
  const existing = await stat(absolute).catch(() => undefined);
  if (existing?.isDirectory()) throw new InputError('JUNIT_FILE_INVALID', `--junit ${file}: is a directory; give a file path (e.g. reports/junit.xml). Nothing was started.`);
  try {
    await mkdir(path.dirname(absolute), { recursive: true });
  } catch (error) {
    throw new InputError('JUNIT_FILE_INVALID', `--junit ${file}: cannot create its directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a path you can write to. Nothing was started.`);
  }
  return absolute;
}

export async function writeSuiteOutputs(summary: SuiteSummary, reportsDir: string, junitFile: string | undefined): Promise<string[]> {
  const written = [await writeAtomically(path.join(reportsDir, SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`)];
  if (junitFile) written.push(await writeAtomically(junitFile, junitXml(summary)));
  return written;
}

/** A CI job reading the file never sees half of it. */
async function writeAtomically(file: string, content: string): Promise<string> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, file);
  return file;
}
