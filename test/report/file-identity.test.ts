import { createHash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { verifyEvidence, writeEvidence } from '../../src/report/evidence.js';
import { hashFileReusing, hashFileWithIdentity, SETTLED_MS } from '../../src/report/file-identity.js';
import { Redactor } from '../../src/report/redactor.js';
import { makeRunDir, passedJournal } from './fixtures.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempFile(content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'drill-identity-'));
  dirs.push(dir);
  const file = join(dir, 'dump.sealed');
  await writeFile(file, content);
  return file;
}
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
/** As if read a while after the file was last written: the identity is taken. */
const later = () => Date.now() + 2 * SETTLED_MS;
/** A digest that is not the file's: only reuse can return it. */
const WRONG = 'e'.repeat(64);
/**
 * `later` only pretends the file settled; a write in the same coarse clock tick as its creation
 * would keep its ctime (what SETTLED_MS guards against for real), so the test lets ticks pass.
 */
const settle = () => new Promise((r) => setTimeout(r, 2 * SETTLED_MS));

describe('file identity: a digest reused only while the file holds the bytes it was taken of', () => {
  it('a file written just now gets a digest but no identity (a write in the same clock tick would not show)', async () => {
    const file = await tempFile('memory');
    // Read as if right after the write (a loaded machine may really take longer than SETTLED_MS).
    const { ctimeMs } = await stat(file);
    const fresh = await hashFileWithIdentity(file, () => ctimeMs + SETTLED_MS / 2);
    expect(fresh).toEqual({ sha256: sha('memory'), size: 6 });
    const settled = await hashFileWithIdentity(file, later);
    expect(settled.sha256).toBe(sha('memory'));
    expect(settled.identity).toMatchObject({ size: 6 });
  });

  it('is reused while the identity is the same; any write, an mtime set back, or another file renamed over it reads the file again', async () => {
    const file = await tempFile('memory');
    const { identity } = await hashFileWithIdentity(file, later);
    const known = { sha256: WRONG, size: 6, identity: identity! };
    await settle();
    // Unchanged: the known digest is returned without reading the file (hence the wrong one here).
    expect(await hashFileReusing(file, known)).toEqual({ sha256: WRONG, size: 6, reused: true });

    // Same size, same mtime put back: ctime moved, so the file is read.
    const { mtime } = await stat(file);
    await writeFile(file, 'MEMORY');
    await utimes(file, mtime, mtime);
    expect(await hashFileReusing(file, known)).toEqual({ sha256: sha('MEMORY'), size: 6, reused: false });

    // Appended to.
    const appended = await tempFile('memory');
    const second = await hashFileWithIdentity(appended, later);
    await settle();
    await appendFile(appended, '!');
    expect(await hashFileReusing(appended, { sha256: WRONG, size: 6, identity: second.identity! })).toEqual({ sha256: sha('memory!'), size: 7, reused: false });

    // Replaced by another file (another inode) with the same content and size.
    const replaced = await tempFile('memory');
    const third = await hashFileWithIdentity(replaced, later);
    await settle();
    await writeFile(`${replaced}.new`, 'memory');
    await rename(`${replaced}.new`, replaced);
    expect((await hashFileReusing(replaced, { sha256: WRONG, size: 6, identity: third.identity! })).reused).toBe(false);

    // Gone: read, and the read fails as it would have.
    await rm(file);
    await expect(hashFileReusing(file, known)).rejects.toThrow(/ENOENT/);
  });

  it('the evidence manifest takes a forensic file digest from the recheck while the file holds still, and reads it when it changed', async () => {
    const journal = passedJournal();
    const runDir = await makeRunDir(journal);
    dirs.push(dirname(runDir));
    const rel = 'forensics/memory-api.sealed';
    await mkdir(join(runDir, 'forensics'));
    await writeFile(join(runDir, rel), 'sealed bytes');
    const recheck = await hashFileWithIdentity(join(runDir, rel), later);
    const withRecheck = (digest: string): Journal => ({
      ...journal,
      forensics: {
        start: journal.marks.tFault!,
        end: journal.marks.tFault!,
        window: { from: journal.marks.tFault!, to: journal.marks.tFault! },
        collector: { user: 'root', host: 'h', harness: 'drill' },
        requested: ['memory'],
        artifacts: [],
        gaps: [],
        recheck: { at: journal.marks.tFault!, files: [{ path: rel, sha256: digest, size: recheck.size, identity: recheck.identity! }] },
      },
    });
    const entryOf = async () => (JSON.parse(await readFile(join(runDir, 'evidence', 'manifest.json'), 'utf8')) as { entries: Array<{ path: string; sha256: string }> }).entries.find((e) => e.path === rel)!;

    // Through the Redactor, as the drill writes the journal: the digest and identity survive it.
    await writeFile(join(runDir, 'journal.json'), `${new Redactor().json(withRecheck(WRONG), 2)}\n`);
    await writeEvidence(runDir);
    // Reused (the wrong digest shows it was not read), and so the verifier, which reads every file, refuses it.
    expect((await entryOf()).sha256).toBe(WRONG);
    expect((await verifyEvidence(runDir)).ok).toBe(false);

    // The true digest: reused, and the bundle verifies.
    await writeFile(join(runDir, 'journal.json'), `${new Redactor().json(withRecheck(recheck.sha256), 2)}\n`);
    await writeEvidence(runDir);
    expect((await entryOf()).sha256).toBe(recheck.sha256);
    expect(await verifyEvidence(runDir)).toMatchObject({ ok: true });

    // Changed after the recheck: read again, so the manifest lists what is there.
    await settle();
    await appendFile(join(runDir, rel), ' edited');
    await writeEvidence(runDir);
    expect((await entryOf()).sha256).toBe(sha('sealed bytes edited'));
    expect(await verifyEvidence(runDir)).toMatchObject({ ok: true });
  });
});
