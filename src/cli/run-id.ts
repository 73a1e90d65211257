import { existsSync } from 'node:fs';
import path from 'node:path';

/** `20261127T081500Z-db-corruption-pitr`: sorts by time, says what ran, unique in its folder. */
export function newRunId(reportsDir: string, scenarioName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = `${stamp}-${scenarioName}`;
  let id = base;
  for (let n = 2; existsSync(path.join(reportsDir, id)); n++) id = `${base}-${n}`;
  return id;
}
