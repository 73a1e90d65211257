import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { findPostgresBinaries } from '../../targets/postgres/binaries.js';
import { PgPassFile } from '../../targets/postgres/pgpass-file.js';
import { runCommand } from '../../targets/process/run-command.js';
import type { CollectedFile, ForensicCollector, SealedCollectedFile } from './collected-file.js';
import { createRecordedTempDir } from '../../engine/recorded-temp-dir.js';

/**
 * Runbook "Create forensic snapshots", physically: a pg_basebackup (tar format, WAL streamed in,
 * SHA-256 backup manifest) of the instance the application uses, taken before anything is revoked,
 * and verified with pg_verifybackup against its manifest before it is kept. A physical copy holds
 * everything in the cluster: the token table's hashes, the roles' SCRAM verifiers (not passwords,
 * but what an offline guess is checked against), the server log where it is inside the data
 * directory. So its tars are sealed (sealed-file.ts); the manifest (file names, sizes, checksums)
 * is written in clear, for an auditor to read without the key.
 *
 * The backup is taken into a 0700 temp directory of its own (in the ledger until removed), so
 * pg_verifybackup, which reads only a plain directory in PostgreSQL 15, can check an extracted copy;
 * the password reaches the tools through a pgpass file there, never an argument or the environment.
 * The tars are streamed from there into their sealed files; the step removes the directory then
 * (`cleanup`), on failure this collector does.
 */
export const databaseBasebackup: ForensicCollector = {
  kind: 'database-basebackup',
  unavailable: (ctx) => {
    if (!ctx.has('pg')) return 'the scenario has no PostgreSQL (targets.postgres)';
    const binaries = findPostgresBinaries();
    const missing = ['pg_basebackup', 'pg_verifybackup'].filter((tool) => !binaries.has(tool));
    return missing.length > 0 ? `${missing.join(' and ')} not installed beside the PostgreSQL binaries` : undefined;
  },
  async collect(ctx) {
    const binaries = findPostgresBinaries();
    const instance = ctx.router.current;
    const { host, port, user, password } = instance.connection;
    // In the ledger before it exists: it will hold the pgpass file and a copy of the database.
    const dir = createRecordedTempDir(ctx.ledger, 'drill-basebackup-');
    const backup = path.join(dir, 'backup');
    const plain = path.join(dir, 'plain');
    const passfile = new PgPassFile(path.join(dir, 'pgpass'), undefined);
    if (password !== undefined) passfile.add({ host, port, user, password });
    const env = { ...passfile.env, PGCONNECT_TIMEOUT: '15' };
    const tool = (name: string, args: string[]) => runCommand(binaries.path(name), args, { env, signal: ctx.signal, timeoutMs: 300_000 });
    const cleanup = () => rm(dir, { recursive: true, force: true });
    try {
      await tool('pg_basebackup', ['-h', host, '-p', String(port), '-U', user, '--no-password', '-D', backup, '-F', 't', '-X', 'stream', '-c', 'fast', '--manifest-checksums=SHA256', '-l', `drill forensics ${ctx.runId}`]);
      const tars = (await readdir(backup)).filter((f) => f.endsWith('.tar')).sort();
      if (!tars.includes('base.tar')) throw new Error(`pg_basebackup wrote no base.tar into its directory (found: ${tars.join(', ') || 'nothing'})`);
      // pg_verifybackup (15) checks a plain directory: base.tar extracted, the WAL in its pg_wal.
      await mkdir(path.join(plain, 'pg_wal'), { recursive: true, mode: 0o700 });
      await runCommand('tar', ['-xf', path.join(backup, 'base.tar'), '-C', plain], { signal: ctx.signal, timeoutMs: 300_000 });
      if (tars.includes('pg_wal.tar')) await runCommand('tar', ['-xf', path.join(backup, 'pg_wal.tar'), '-C', path.join(plain, 'pg_wal')], { signal: ctx.signal, timeoutMs: 300_000 });
      const manifest = await readFile(path.join(backup, 'backup_manifest'), 'utf8');
      const verified = await tool('pg_verifybackup', ['-m', path.join(backup, 'backup_manifest'), plain]).catch((error: unknown) => {
        throw new Error(`pg_verifybackup rejected the base backup of ${instance.name}: ${error instanceof Error ? error.message : String(error)}`);
      });
      // The extracted copy has served; only the tars are kept (sealed) until the step has written them.
      await rm(plain, { recursive: true, force: true });
      const verification = `${(await runCommand(binaries.path('pg_verifybackup'), ['--version'])).stdout.trim()}: ${verified.stdout.trim() || 'backup successfully verified'}`;
      const version = (await runCommand(binaries.path('pg_basebackup'), ['--version'])).stdout.trim();
      const files: Array<CollectedFile | SealedCollectedFile> = tars.map((tar) => ({
        name: `database-basebackup/${tar}.sealed`,
        sealed: true,
        read: () => createReadStream(path.join(backup, tar)),
        how: `${version} -F t -X stream --manifest-checksums=SHA256 of PostgreSQL instance ${instance.name} on ${host}:${port}: ${tar}`,
        details: () => ({ instance: instance.name, verification }),
        // The temp dir stays until the step has sealed every tar, then goes (the step calls this, written or not).
        cleanup,
      }));
      files.push({ name: 'database-basebackup/backup_manifest', text: manifest, json: false, how: `the backup manifest pg_basebackup wrote with the backup of ${instance.name}; ${verification}` });
      return files;
    } catch (error) {
      await cleanup();
      throw error;
    }
  },
};
