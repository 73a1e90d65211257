import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ForensicCollector } from './collected-file.js';

/** Every regular file under `dir`, relative to it, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) found.push(path.relative(dir, path.join(entry.parentPath, entry.name)));
  }
  return found.sort();
}

/**
 * The logs of the service's processes (plain processes write them into service-logs/ of the run
 * directory, one directory per launch): copied as they are at the collection, each whole. A
 * restart after this starts a new launch directory, so the copy keeps the compromised processes'
 * lines even when the originals go on growing.
 */
export const serviceLogs: ForensicCollector = {
  kind: 'service-logs',
  // The plain-process service logs into the run directory; on Kubernetes its logs are pod-logs.
  unavailable: (ctx) =>
    !ctx.has('service')
      ? 'the scenario has no service (targets.service)'
      : ctx.runDir === undefined || !existsSync(path.join(ctx.runDir, 'service-logs'))
        ? `${ctx.service.description} keeps no log files in the run directory (on Kubernetes: pod-logs)`
        : undefined,
  async collect(ctx) {
    const dir = path.join(ctx.runDir!, 'service-logs');
    const files = await filesUnder(dir);
    if (files.length === 0) throw new Error('service-logs/ of the run directory holds no log file');
    return Promise.all(
      files.map(async (file) => ({ name: path.join('service-logs', file), text: await readFile(path.join(dir, file), 'utf8'), json: false, how: `copy of the service log service-logs/${file}` })),
    );
  },
};
