import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { EnvironmentError, StepFailedError, asDrillError } from '../engine/errors.js';
import { HARNESS_VERSION } from '../engine/harness-version.js';
import type { ForensicArtifact, ForensicGap, ForensicsRecord } from '../engine/journal-types.js';
import { FORENSIC_ARTIFACTS } from '../scenario/incident-schema.js';
import type { RecoveryStep } from '../scenario/schema.js';
import type { CollectedFile, SealedCollectedFile } from './forensics/collected-file.js';
import { COLLECTORS } from './forensics/collectors.js';
import { sha256, sha256File } from './forensics/hash-files.js';
import { SEAL_CIPHER, sealInto, sealingKeyFile } from './forensics/sealed-file.js';

const debug = createDebug('drill:recover');

type PreserveForensics = Extract<RecoveryStep, { step: 'preserve-forensics' }>;

/** Where the preserved files go, relative to the run directory. */
export const FORENSICS_DIR = 'forensics';

/**
 * Runbook "Forensic Preservation" (preserve-audit-logs.sh --time-range, create-forensic-snapshots.sh):
 * before containment destroys it, the evidence of the breach is copied into forensics/ of the run
 * directory, each file through the run's Redactor (a leaked token or password is in none of them in
 * clear; what an investigator needs of it is its fingerprint, which the journal has) and hashed as
 * written; evidence that is secret by nature (a memory dump, a physical copy of the database) is
 * sealed instead (sealed-file.ts). The hashes go into the journal with who collected what, when
 * and how (the chain of custody); the evidence manifest the CLI writes at the end covers the files
 * like every file of the run, so the signature seals them.
 *
 * A requested artifact that cannot be collected is recorded as a gap and the step goes on: a
 * failed collection must not hold up the containment that follows (the forensics check fails on
 * the gap instead). Postcondition: every written file reads back with the hash recorded.
 */
export async function preserveForensics(ctx: DrillContext, step: PreserveForensics): Promise<Record<string, unknown>> {
  const { recorder, clock } = ctx;
  if (ctx.runDir === undefined) throw new EnvironmentError('NO_RUN_DIRECTORY', 'preserve-forensics writes into the run directory, and this drill keeps none; run it with `drill run`');
  if (recorder.journal.forensics) throw new StepFailedError('FORENSICS_TWICE', 'evidence was already preserved by an earlier preserve-forensics step in this run; keep one');
  const start = clock.stamp();
  const window = { from: { t: Math.max(0, start.t - step.timeRange), wall: clock.wallAt(Math.max(0, start.t - step.timeRange)) }, to: start };
  const explicit = step.artifacts !== undefined;
  const candidates = step.artifacts ?? FORENSIC_ARTIFACTS;
  const requested: string[] = [];
  const notApplicable: Array<{ kind: string; reason: string }> = [];
  const gaps: ForensicGap[] = [];
  const artifacts: ForensicArtifact[] = [];
  const dir = path.join(ctx.runDir, FORENSICS_DIR);
  await mkdir(dir, { recursive: true });
  for (const kind of candidates) {
    const collector = COLLECTORS[kind];
    const unavailable = collector.unavailable(ctx);
    // Asked for by name, a missing source is a gap; by default it is not asked for.
    if (unavailable !== undefined && !explicit) {
      notApplicable.push({ kind, reason: unavailable });
      continue;
    }
    requested.push(kind);
    if (unavailable !== undefined) {
      gaps.push({ kind, reason: unavailable });
      continue;
    }
    try {
      const files = await collector.collect(ctx, window);
      try {
        await writeCollected(ctx, dir, kind, files, artifacts);
      } finally {
        // What the sealed files streamed from (a base backup's temp dir) goes whether or not they were written.
        await Promise.all([...new Set(files.flatMap((f) => ('sealed' in f && f.cleanup ? [f.cleanup] : [])))].map((cleanup) => cleanup()));
      }
    } catch (error) {
      ctx.signal.throwIfAborted();
      gaps.push({ kind, reason: recorder.secrets.redact(asDrillError(error).message) });
    }
  }
  // What was written is what was hashed (a writer that changed a byte would show here, not at the audit).
  for (const artifact of artifacts) {
    const found = await sha256File(path.join(ctx.runDir, artifact.path));
    if (found !== artifact.sha256) throw new StepFailedError('FORENSICS_NOT_WRITTEN', `${artifact.path} reads back with sha256 ${found}, not ${artifact.sha256} as written`);
  }
  const record: ForensicsRecord = {
    start,
    end: clock.stamp(),
    window,
    collector: { user: collectingUser(), host: os.hostname(), harness: `drill ${HARNESS_VERSION}` },
    requested,
    artifacts,
    gaps,
  };
  recorder.journal.forensics = record;
  debug('preserved %d forensic files (%d gaps)', artifacts.length, gaps.length);
  recorder.event(
    'forensics-preserved',
    `${artifacts.length} file(s) preserved in ${FORENSICS_DIR}/ by ${record.collector.user}@${record.collector.host} (${record.collector.harness}), each sha256-hashed` +
      (gaps.length > 0 ? `; not collected: ${gaps.map((g) => `${g.kind} (${g.reason})`).join('; ')}` : ''),
    { artifacts: artifacts.map((a) => ({ path: a.path, sha256: a.sha256, how: a.how })), gaps },
  );
  return {
    window: { from: window.from.wall, to: window.to.wall },
    requested,
    artifacts: artifacts.map((a) => ({ kind: a.kind, path: a.path, bytes: a.bytes, sha256: a.sha256, ...(a.sealed ? { sealed: a.sealed } : {}), ...(a.details ? { details: a.details } : {}) })),
    gaps,
    ...(notApplicable.length > 0 ? { notApplicable } : {}),
  };
}

/**
 * Writes a collector's files under forensics/ (each recorded in `written` as soon as it is, so a
 * later failure of the same collector keeps the earlier files): text through the run's Redactor,
 * then hashed; evidence that is secret by nature and binary sealed instead, never redacted.
 */
async function writeCollected(ctx: DrillContext, dir: string, kind: string, files: Array<CollectedFile | SealedCollectedFile>, written: ForensicArtifact[]): Promise<void> {
  const { secrets } = ctx.recorder;
  for (const file of files) {
    const target = path.join(dir, file.name);
    await mkdir(path.dirname(target), { recursive: true });
    const base = { kind, path: path.join(FORENSICS_DIR, file.name), how: secrets.redact(file.how) };
    if ('sealed' in file) {
      const key = sealingKeyFile(ctx.runId);
      const sealed = await sealInto(target, key.key, file.read());
      written.push({
        ...base,
        bytes: sealed.bytes,
        sha256: sealed.sha256,
        sealed: { cipher: SEAL_CIPHER, keyFile: key.file, plaintextBytes: sealed.plaintextBytes, plaintextSha256: sealed.plaintextSha256 },
        ...(file.details ? { details: file.details() } : {}),
      });
      continue;
    }
    const bytes = Buffer.from(secrets.redactFileText(file.text, file.json), 'utf8');
    await writeFile(target, bytes, { flag: 'wx' });
    written.push({ ...base, bytes: bytes.length, sha256: sha256(bytes) });
  }
}

/** Who runs the drill, for the chain of custody (a uid without a passwd entry, as in some containers, by its number). */
function collectingUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}
