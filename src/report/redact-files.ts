import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Redactor } from './redactor.js';

/**
 * Files other programs wrote into the run directory (the service's own logs) pass through the
 * run's Redactor once those programs have stopped, like everything the drill writes itself: the
 * service never logs its DATABASE_URL or a token, and this makes sure no slip of it reaches the
 * evidence. A file is rewritten only when redaction changed it. Returns the files rewritten.
 */
export function redactFilesUnder(dir: string, redactor: Redactor): string[] {
  const rewritten: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return rewritten;
  }
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      rewritten.push(...redactFilesUnder(file, redactor));
      continue;
    }
    if (!entry.isFile()) continue;
    const text = readFileSync(file, 'utf8');
    const safe = redactor.redact(text);
    if (safe !== text) {
      writeFileSync(file, safe);
      rewritten.push(file);
    }
  }
  return rewritten;
}
