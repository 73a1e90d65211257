import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { drillCacheDir } from '../../engine/cache-dir.js';
import { EnvironmentError } from '../../engine/errors.js';
import { childEnvironment } from '../process/child-environment.js';
import { runCommand, type RunAs } from '../process/run-command.js';
import type { PostgresBinaries } from './binaries.js';

const debug = createDebug('drill:pg');

/** Bumped when what a template holds changes: older ones are pruned. */
const TEMPLATE_FORMAT = 1;
const PRUNE_AFTER_MS = 7 * 24 * 3600_000;

/** `${DRILL_CACHE_DIR:-~/.cache/drill}/pg-templates`: one initialised data directory per binaries and initdb options. */
export function templatesDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(drillCacheDir(env), 'pg-templates');
}

export interface InitDataDirectory {
  binaries: PostgresBinaries;
  runAs: RunAs | undefined;
  dataDir: string;
  /** initdb's options beyond -D, -U and --pwfile (auth, locale, encoding, checksums). */
  initdbArgs: readonly string[];
  /** The `postgres` role's password for this data directory. */
  password: string;
  /** A directory of the drill's own (its temp root) for the password file initdb reads. */
  scratchDir: string;
}

/**
 * A new data directory with the `postgres` superuser's password set, as initdb would leave it.
 *
 * initdb takes half a second, which every drill paid before it could start PostgreSQL. It runs once
 * per binaries and options, with a throwaway password nobody keeps; its output, never started, is
 * the cached template. Each drill copies the template (`cp -a`: owner and modes kept) and sets its
 * own password in single-user mode, from stdin (never argv or the environment), before the server
 * ever listens. So the cache holds no drill's password, not even a hash of one. Data directories
 * copied from one template share its system identifier: nothing in a drill compares identifiers
 * across runs (each run's WAL archive and backups are its own).
 */
export async function initDataDirectory(options: InitDataDirectory): Promise<{ fromTemplate: boolean }> {
  const templates = templatesDir();
  const template = path.join(templates, templateKey(options));
  const fromTemplate = existsSync(path.join(template, 'PG_VERSION')) && (await copied(template, options.dataDir));
  if (!fromTemplate) {
    await initdb(options, randomBytes(24).toString('base64url'));
    await keepAsTemplate(options.dataDir, templates, template);
  }
  await setSuperuserPassword(options);
  debug('%s: data directory %s', options.dataDir, fromTemplate ? `copied from ${template}` : 'from initdb (template kept)');
  return { fromTemplate };
}

/** The template copied to the data directory; false (nothing left there) when that failed. */
async function copied(template: string, dataDir: string): Promise<boolean> {
  try {
    await runCommand('cp', ['-a', template, dataDir]);
    // Its last use, which pruning goes by.
    await utimes(template, new Date(), new Date()).catch(() => undefined);
    return true;
  } catch (error) {
    debug('could not copy the template %s (%s): initdb instead', template, (error as Error).message);
    await rm(dataDir, { recursive: true, force: true });
    return false;
  }
}

function templateKey(options: InitDataDirectory): string {
  const program = (tool: string) => {
    const s = statSync(options.binaries.path(tool));
    return { size: s.size, mtimeMs: s.mtimeMs };
  };
  const identity = {
    format: TEMPLATE_FORMAT,
    bindir: options.binaries.bindir,
    initdb: program('initdb'),
    postgres: program('postgres'),
    owner: options.runAs ? `${options.runAs.uid}:${options.runAs.gid}` : `${process.getuid?.()}`,
    args: options.initdbArgs,
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 32);
}

/** initdb with `password` for `postgres` from a 0600 file (never argv), removed once read; `extraArgs` after the options. */
export async function initdb(options: Omit<InitDataDirectory, 'password'>, password: string, extraArgs: readonly string[] = []): Promise<void> {
  const pwfile = path.join(options.scratchDir, `initdb-password-${randomBytes(4).toString('hex')}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (options.runAs) chownSync(pwfile, options.runAs.uid, options.runAs.gid);
  try {
    await runCommand(options.binaries.path('initdb'), ['-D', options.dataDir, '-U', 'postgres', `--pwfile=${pwfile}`, ...options.initdbArgs, ...extraArgs], {
      runAs: options.runAs,
      env: { LC_ALL: 'C' },
    });
  } finally {
    await rm(pwfile, { force: true });
  }
}

/**
 * The fresh data directory, copied into the cache under its key (written aside, then renamed: a
 * concurrent drill sees all or nothing). Templates of other keys (other binaries) unused for a
 * week go; a newer one may be another user's of this cache, copied from right now.
 */
async function keepAsTemplate(dataDir: string, templates: string, template: string): Promise<void> {
  try {
    await mkdir(templates, { recursive: true, mode: 0o700 });
    const partial = `${template}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    await runCommand('cp', ['-a', dataDir, partial]);
    await rename(partial, template).catch(async () => {
      // Another drill kept the same template first.
      await rm(partial, { recursive: true, force: true });
    });
    for (const entry of await readdir(templates)) {
      const other = path.join(templates, entry);
      if (other !== template && Date.now() - statSync(other).mtimeMs > PRUNE_AFTER_MS) await rm(other, { recursive: true, force: true });
    }
  } catch (error) {
    // The cache only saves time: this drill goes on with its own initdb's directory.
    debug('could not keep a data directory template in %s: %s', templates, (error as Error).message);
  }
}

/** `ALTER ROLE postgres PASSWORD ...` in single-user mode: the server never listens before the password is this drill's. */
async function setSuperuserPassword(options: InitDataDirectory): Promise<void> {
  const literal = `'${options.password.replace(/'/g, "''")}'`;
  const child = spawn(options.binaries.path('postgres'), ['--single', '-D', options.dataDir, '-c', 'log_statement=none', 'postgres'], {
    env: childEnvironment({ set: { LC_ALL: 'C' } }),
    uid: options.runAs?.uid,
    gid: options.runAs?.gid,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.end(`ALTER ROLE postgres PASSWORD ${literal};\n`);
  const code = await exited.catch((error: Error) => {
    throw new EnvironmentError('PG_PASSWORD_NOT_SET', `could not run postgres --single to set the superuser's password: ${error.message}`, { cause: error });
  });
  // An error in single-user mode is printed, not an exit code: both are checked.
  if (code !== 0 || /\b(ERROR|FATAL|PANIC):/.test(output)) {
    const shown = output.split(options.password).join('[REDACTED]').trim().slice(-1500);
    throw new EnvironmentError('PG_PASSWORD_NOT_SET', `postgres --single could not set the superuser's password in ${options.dataDir} (exit ${code}): ${shown}`);
  }
}
