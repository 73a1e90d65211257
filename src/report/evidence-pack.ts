/**
 * `drill evidence-pack`: signed runs bundled for an auditor who has no drill. Every run is verified
 * first (files against the manifest, the manifest against its Ed25519 signature with the given
 * public key); one that fails refuses the whole pack, so a pack never holds a run it could not
 * vouch for. The pack is a tar.gz of `runs/<run-id>/` (every file the manifest lists, checked
 * against its sha256 again as it is read into the archive, plus the manifest and signature) and an
 * index (index.html, index.md, index.json) grouped by the scenarios' `compliance:` controls.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import createDebug from 'debug';
import { asJournal } from '../coverage/read-journals.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import { historyRun } from '../history/history-run.js';
import { TarWriter } from '../targets/images/tar-writer.js';
import { verifyEvidence, type EvidenceProblem } from './evidence.js';
import type { VerifyingKey } from './evidence-keys.js';
import { MANIFEST_PATH, SIGNATURE_PATH } from './evidence-manifest.js';
import { packIndex, renderPackHtml, renderPackMarkdown, type PackedRun, type PackIndex } from './evidence-pack-index.js';
import { TIMELINE_PNG_FILE } from './timeline-png.js';

const log = createDebug('drill:report');

export interface PackOptions {
  out: string;
  publicKey: VerifyingKey;
  now?: () => Date;
}

export type PackResult = { ok: true; out: string; index: PackIndex } | { ok: false; refused: Array<{ runDir: string; problems: EvidenceProblem[] }> };

export async function packEvidence(runDirs: string[], options: PackOptions): Promise<PackResult> {
  if (runDirs.length === 0) throw new InputError('PACK_NO_RUNS', 'name the run directories to pack: drill evidence-pack reports/<run-id>... --out pack.tar.gz --public-key signer.pub');
  const out = resolve(options.out);
  for (const dir of runDirs) {
    const isDir = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) throw new InputError('PACK_RUN_DIR_INVALID', `${dir}: not a directory; give run directories (reports/<run-id>) written by \`drill run\``);
    if (within(out, resolve(dir))) throw new InputError('PACK_INSIDE_RUN_DIR', `--out ${options.out} is inside the run dir ${dir}: its evidence covers every file there; write the pack elsewhere`);
  }
  const seen = new Set<string>();
  const refused: Array<{ runDir: string; problems: EvidenceProblem[] }> = [];
  const runs: Array<PackedRun & { source: string; entries: Array<{ path: string; size: number; sha256?: string }> }> = [];
  for (const dir of runDirs) {
    const verdict = await verifyEvidence(dir, { publicKey: options.publicKey });
    if (!verdict.ok || verdict.origin !== 'signed' || !verdict.manifest) {
      refused.push({ runDir: dir, problems: verdict.problems.length ? verdict.problems : [{ kind: 'unverifiable', message: 'not signed' }] });
      continue;
    }
    const m = verdict.manifest;
    if (seen.has(m.runId)) throw new InputError('PACK_DUPLICATE_RUN', `${dir}: run ${m.runId} is named twice; give each run once`);
    seen.add(m.runId);
    const journal = asJournal(await readFile(join(dir, 'journal.json'), 'utf8'));
    if (typeof journal === 'string') {
      refused.push({ runDir: dir, problems: [{ kind: 'unverifiable', message: `journal.json: ${journal}` }] });
      continue;
    }
    const def = journal.scenario.definition;
    const extras = [MANIFEST_PATH, SIGNATURE_PATH];
    const entries = [
      ...m.entries.map((e) => ({ path: e.path, size: e.size, sha256: e.sha256 })),
      // Not listed in the manifest (it cannot list itself); the signature check above covers the manifest's bytes.
      ...(await Promise.all(extras.map(async (p) => ({ path: p, size: (await stat(join(dir, p))).size })))),
    ];
    runs.push({
      run: historyRun(journal),
      scenario: def.name,
      title: def.title,
      controls: def.compliance ?? [],
      dir: `runs/${m.runId}`,
      root: m.root,
      signer: m.signer!.publicKeyFingerprint,
      files: m.entries.length + extras.length,
      png: m.entries.some((e) => e.path === TIMELINE_PNG_FILE),
      source: dir,
      entries,
    });
  }
  if (refused.length) return { ok: false, refused };

  const createdAt = (options.now ?? (() => new Date()))();
  const index = packIndex(runs, createdAt.toISOString(), options.publicKey.fingerprint);
  await writePack(out, index, runs, Math.floor(createdAt.getTime() / 1000));
  return { ok: true, out, index };
}

async function writePack(out: string, index: PackIndex, runs: Array<PackedRun & { source: string; entries: Array<{ path: string; size: number; sha256?: string }> }>, mtime: number): Promise<void> {
  const top = basename(out).replace(/\.(tar\.gz|tgz)$/, '') || 'evidence-pack';
  const tarFile = `${out}.${process.pid}.tar`;
  const gzFile = `${out}.${process.pid}.tmp`;
  let writer: TarWriter;
  try {
    writer = await TarWriter.create(tarFile);
  } catch (error) {
    throw outError(error, out);
  }
  const dirs = new Set<string>();
  const directory = (path: string) => {
    for (let d = path; d !== '.' && !dirs.has(d); d = posix.dirname(d)) dirs.add(d);
  };
  try {
    const files: Array<{ name: string; write: () => Promise<void> }> = [];
    const text = (name: string, data: string) => files.push({ name, write: () => writer.file({ name: `${top}/${name}`, mode: 0o644, uid: 0, gid: 0, mtime }, { kind: 'bytes', data: Buffer.from(data) }) });
    text('index.html', renderPackHtml(index));
    text('index.md', renderPackMarkdown(index));
    text('index.json', `${JSON.stringify(index, null, 2)}\n`);
    for (const run of runs) {
      for (const e of run.entries) {
        const name = `${run.dir}/${e.path}`;
        directory(posix.dirname(name));
        files.push({
          name,
          write: () =>
            writer.file({ name: `${top}/${name}`, mode: 0o644, uid: 0, gid: 0, mtime }, { kind: 'file', path: join(run.source, ...e.path.split('/')), size: e.size, ...(e.sha256 ? { sha256: e.sha256 } : {}) }).catch((error: unknown) => {
              throw new EnvironmentError('PACK_RUN_CHANGED', `${run.source}: ${e.path} changed after it was verified (while packing); pack again once nothing writes to the run dir`, { cause: error });
            }),
        });
      }
    }
    await writer.directory({ name: top, mode: 0o755, uid: 0, gid: 0, mtime });
    for (const d of [...dirs].sort()) await writer.directory({ name: `${top}/${d}`, mode: 0o755, uid: 0, gid: 0, mtime });
    for (const f of files) await f.write();
    await writer.finish();
    await pipeline(createReadStream(tarFile), createGzip(), createWriteStream(gzFile, { flags: 'wx' }));
    await rename(gzFile, out);
    log('packed %d runs into %s', runs.length, out);
  } catch (error) {
    await writer.abandon();
    await rm(gzFile, { force: true });
    if (error instanceof EnvironmentError || error instanceof InputError) throw error;
    throw outError(error, out);
  } finally {
    await rm(tarFile, { force: true });
  }
}

function outError(error: unknown, out: string): InputError | EnvironmentError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new InputError('PACK_OUT_INVALID', `--out ${out}: cannot write there (${code}); choose a file in a directory you may write to`, { cause: error });
  }
  return new EnvironmentError('PACK_WRITE_FAILED', `--out ${out}: writing the pack failed (${code || (error as Error).message}); check the disk and pack again`, { cause: error });
}

function within(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

