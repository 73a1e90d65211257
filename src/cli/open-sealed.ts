import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DrillError, EnvironmentError, InputError } from '../engine/errors.js';
import type { ForensicArtifact, Journal } from '../engine/journal-types.js';
import { openSealed } from '../recovery/forensics/sealed-file.js';

export interface OpenSealedOptions {
  out: string;
  key?: string;
}

/** A sealed forensic file that does not match what the run recorded: exit 1, nothing written. */
class SealedMismatch extends DrillError {
  constructor(message: string) {
    super('SEALED_MISMATCH', message, 'check');
  }
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function readRunJournal(runDir: string): Journal {
  const file = path.join(runDir, 'journal.json');
  if (!existsSync(file)) throw new InputError('NOT_A_RUN_DIR', `${runDir} has no journal.json: give a run directory (reports/<run-id>)`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Journal;
  } catch (error) {
    throw new InputError('JOURNAL_UNREADABLE', `${file} is not a readable journal (${(error as Error).message})`);
  }
}

function sealedArtifact(journal: Journal, runDir: string, file: string): ForensicArtifact & { sealed: NonNullable<ForensicArtifact['sealed']> } {
  const artifacts = journal.forensics?.artifacts ?? [];
  const wanted = path.normalize(file);
  const artifact = artifacts.find((a) => path.normalize(a.path) === wanted || path.basename(a.path) === wanted);
  const sealedOnes = artifacts.filter((a) => a.sealed).map((a) => a.path);
  if (!artifact) {
    throw new InputError(
      'NO_SUCH_FORENSIC_FILE',
      `run ${runDir} recorded no forensic file ${file}; its sealed files: ${sealedOnes.length > 0 ? sealedOnes.join(', ') : 'none'}`,
    );
  }
  if (!artifact.sealed) throw new InputError('NOT_SEALED', `${artifact.path} is not sealed: read it as it is (it was redacted when written)`);
  return artifact as ForensicArtifact & { sealed: NonNullable<ForensicArtifact['sealed']> };
}

/**
 * `drill open-sealed <run-dir> <file> --out <file> [--key <file>]`: an investigator's tool for the
 * evidence preserve-forensics sealed (memory dumps, the physical database copy). The sealed file is
 * checked against the hash the run recorded, opened with the run's key (AES-GCM: a changed byte
 * fails), and the evidence checked against its recorded hash before it is written. The output holds
 * secrets by nature, so it is written 0600, never over an existing file, and never into the run
 * directory (whose files must stay free of secrets in clear). 0 opened, 1 the file does not match the
 * run's record, 2 bad input, 3 the write failed.
 */
export function openSealedCommand(runDir: string, file: string, options: OpenSealedOptions): number {
  if (!options.out) throw new InputError('OUT_REQUIRED', 'give --out <file>: the opened evidence holds secrets, so it goes to a file you choose (mode 0600), never to the terminal');
  const journal = readRunJournal(runDir);
  const artifact = sealedArtifact(journal, runDir, file);
  const sealedPath = path.join(runDir, artifact.path);
  if (!existsSync(sealedPath)) throw new SealedMismatch(`${artifact.path} is gone from ${runDir}; the run recorded it (sha256 ${artifact.sha256})`);
  const out = path.resolve(options.out);
  const runReal = realpathSync(runDir);
  const outParent = existsSync(path.dirname(out)) ? realpathSync(path.dirname(out)) : path.dirname(out);
  if (outParent === runReal || outParent.startsWith(`${runReal}${path.sep}`)) {
    throw new InputError('OUT_INSIDE_RUN_DIR', `--out ${options.out} is inside the run directory, whose files must hold no secret in clear: write it elsewhere`);
  }
  if (existsSync(out)) throw new InputError('OUT_EXISTS', `--out ${options.out} exists: choose a new file (opened evidence never overwrites anything)`);
  const keyFile = options.key ?? artifact.sealed.keyFile;
  if (!existsSync(keyFile) || !statSync(keyFile).isFile()) {
    throw new InputError('SEAL_KEY_MISSING', `the run's key ${keyFile} is not here: give the key file of run ${journal.runId} with --key (whoever holds the evidence key has it)`);
  }
  const sealedBytes = readFileSync(sealedPath);
  if (sha256(sealedBytes) !== artifact.sha256) {
    throw new SealedMismatch(`${artifact.path} does not match the run's record (sha256 ${sha256(sealedBytes)}, recorded ${artifact.sha256}): it was changed after the run`);
  }
  let plain: Buffer;
  try {
    plain = openSealed(sealedPath, keyFile);
  } catch (error) {
    throw new SealedMismatch(`${artifact.path} does not open with ${keyFile} (${(error as Error).message || 'authentication failed'}): the wrong key, or the file was changed`);
  }
  if (sha256(plain) !== artifact.sealed.plaintextSha256 || plain.length !== artifact.sealed.plaintextBytes) {
    throw new SealedMismatch(`${artifact.path} opened, but to evidence that differs from the run's record (sha256 ${sha256(plain)}, recorded ${artifact.sealed.plaintextSha256})`);
  }
  try {
    writeFileSync(out, plain, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new EnvironmentError('OUT_WRITE_FAILED', `could not write ${options.out}: ${(error as Error).message}`);
  }
  console.log(`opened ${artifact.path} (${artifact.kind}): ${plain.length} bytes, sha256 ${artifact.sealed.plaintextSha256} as run ${journal.runId} recorded`);
  console.log(`written to ${options.out} (mode 0600); it holds secrets (passwords, tokens): delete it when done`);
  return 0;
}

export function registerOpenSealedCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('open-sealed')
    .description("open a sealed forensic file (memory dump, database copy) of a run, checked against the run's record; exit 0 opened, 1 it does not match, 2 invalid input, 3 the write failed")
    .argument('<run-dir>', 'reports/<run-id>')
    .argument('<file>', 'the sealed file, as the journal names it (forensics/…) or its file name')
    .option('--out <file>', 'where the evidence goes (mode 0600; never an existing file, never inside the run directory)')
    .option('--key <file>', "the run's key file (default: the path the run recorded, under ~/.cache/drill/forensic-keys)")
    .action((runDir: string, file: string, opts: OpenSealedOptions) => {
      setExitCode(openSealedCommand(runDir, file, opts));
    });
}
