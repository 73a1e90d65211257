import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPauseImage, PAUSE_IMAGE } from '../../src/targets/images/pause-image.js';
import { pruneArchives } from '../../src/targets/images/prune-archives.js';
import { buildServiceImages } from '../../src/targets/images/service-images.js';
import { sharedLibraries } from '../../src/targets/images/shared-libraries.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-images-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const bundle = path.join(tmp, 'service.mjs');
writeFileSync(bundle, 'console.log(`service ${process.env.VERSION}`);\n');
const versions = ['4.4.0', '4.5.0-crashloop'];

const member = (archive: string, name: string) => execFileSync('tar', ['-xOf', archive, name], { maxBuffer: 256 << 20 });
const members = (archive: string) => execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).trim().split('\n');
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Follows an absolute path through the symlinks listed by `tar -tv`, as a path lookup in the image would. */
function resolveInLayer(listing: string, target: string): { type: string; path: string } | undefined {
  const entries = new Map<string, { type: string; link?: string }>();
  for (const line of listing.trim().split('\n')) {
    const name = line.split(/\s+/).slice(5).join(' ');
    const [entry, link] = name.split(' -> ');
    entries.set(entry!.replace(/\/$/, ''), { type: line[0] === 'l' ? 'symlink' : line[0] === 'd' ? 'dir' : 'file', link });
  }
  let parts = target.split('/').filter(Boolean);
  for (let hops = 0, i = 0; i < parts.length && hops < 40; ) {
    const at = parts.slice(0, i + 1).join('/');
    const entry = entries.get(at);
    if (!entry) return undefined;
    if (entry.type === 'symlink') {
      const base = entry.link!.startsWith('/') ? [] : parts.slice(0, i);
      parts = path.posix.normalize([...base, ...entry.link!.split('/'), ...parts.slice(i + 1)].join('/')).split('/').filter(Boolean);
      i = 0;
      hops++;
      continue;
    }
    if (i === parts.length - 1) return { type: entry.type, path: at };
    i++;
  }
  return undefined;
}

interface Manifest {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

describe('service images (docker-archive without a registry)', () => {
  it('one archive, one tag per version, layers stored once, configs that differ only in VERSION', async () => {
    const built = await buildServiceImages({ bundle, versions, cacheDir: path.join(tmp, 'cache-1'), cmd: ['api'], ports: [8080] });
    expect(built.tags).toEqual({ '4.4.0': 'drill.local/truststream:4.4.0', '4.5.0-crashloop': 'drill.local/truststream:4.5.0-crashloop' });
    const manifest = JSON.parse(member(built.path, 'manifest.json').toString()) as Manifest[];
    expect(manifest.map((m) => m.RepoTags)).toEqual([['drill.local/truststream:4.4.0'], ['drill.local/truststream:4.5.0-crashloop']]);
    expect(manifest[0]!.Layers).toEqual(manifest[1]!.Layers);
    expect(members(built.path).filter((m) => m.endsWith('layer.tar'))).toHaveLength(2);

    const configs = manifest.map((m) => JSON.parse(member(built.path, m.Config).toString()) as { config: Record<string, unknown>; rootfs: { diff_ids: string[] } });
    // The config file is named by its digest, which is the image ID reported.
    expect(manifest.map((m) => `sha256:${createHash('sha256').update(member(built.path, m.Config)).digest('hex')}`)).toEqual(built.images.map((i) => i.id));
    expect(configs[0]!.rootfs.diff_ids).toEqual([built.runtime.diffId, built.app.diffId]);
    expect(configs[0]!.config).toMatchObject({
      Entrypoint: ['node', '/app/truststream.mjs'],
      Cmd: ['api'],
      WorkingDir: '/app',
      User: '10001:10001',
      ExposedPorts: { '8080/tcp': {} },
    });
    expect(configs.map((c) => (c.config.Env as string[]).find((e) => e.startsWith('VERSION=')))).toEqual(['VERSION=4.4.0', 'VERSION=4.5.0-crashloop']);
    const withoutEnv = configs.map((c) => JSON.stringify({ ...c, config: { ...c.config, Env: (c.config.Env as string[]).filter((e) => !e.startsWith('VERSION=')) } }));
    expect(withoutEnv[1]).toBe(withoutEnv[0]);
    // The app layer holds the bundle and nothing else.
    const app = member(built.path, `${built.app.diffId.slice(7)}/layer.tar`);
    const appTar = path.join(tmp, 'app.tar');
    writeFileSync(appTar, app);
    expect(members(appTar)).toEqual(['app/', 'app/truststream.mjs']);
  });

  it('the runtime layer is this node binary, the libraries ldd lists, a minimal /etc and a sticky /tmp', async () => {
    const built = await buildServiceImages({ bundle, versions: ['1.0.0'], cacheDir: path.join(tmp, 'cache-1') });
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', built.runtime.path], { encoding: 'utf8' });
    const node = realpathSync(process.execPath);
    expect(listing).toMatch(new RegExp(`^-rwxr-xr-x 0/0 +${statSync(node).size} .* usr/bin/node$`, 'm'));
    const libraries = await sharedLibraries(node);
    expect(libraries.length).toBeGreaterThan(0);
    for (const library of [...libraries, '/usr/bin/node']) {
      // As the loader inside the container resolves it: symlinks of the layer followed.
      expect(resolveInLayer(listing, library), library).toMatchObject({ type: 'file' });
    }
    // Negative control: a path the layer lacks does not resolve.
    expect(resolveInLayer(listing, '/lib/x86_64-linux-gnu/libcrypto.so.3')).toBeUndefined();
    expect(listing).toMatch(/^drwxrwxrwt 0\/0 .* tmp\/$/m);
    const passwd = execFileSync('tar', ['-xOf', built.runtime.path, 'etc/passwd'], { encoding: 'utf8' });
    expect(passwd).toContain('app:x:10001:10001:');
    // No shell, no package manager: node is the only program.
    expect(listing).not.toMatch(/ bin\/sh$/m);
  });

  it('the same input gives the same archive bytes and image IDs in another cache; another bundle changes only the app layer', async () => {
    const a = await buildServiceImages({ bundle, versions, cacheDir: path.join(tmp, 'cache-1') });
    const b = await buildServiceImages({ bundle, versions, cacheDir: path.join(tmp, 'cache-2') });
    expect(b.cached).toBe(false);
    expect(b.images).toEqual(a.images);
    expect(sha256(b.path)).toBe(sha256(a.path));

    const changed = path.join(tmp, 'changed.mjs');
    writeFileSync(changed, 'console.log(`changed ${process.env.VERSION}`);\n');
    const c = await buildServiceImages({ bundle: changed, versions, bundleName: 'truststream.mjs', cacheDir: path.join(tmp, 'cache-2') });
    expect(c.runtime.diffId).toBe(a.runtime.diffId);
    expect(c.runtime.cached).toBe(true);
    expect(c.app.diffId).not.toBe(a.app.diffId);
    expect(c.images.map((i) => i.id)).not.toEqual(a.images.map((i) => i.id));
  });

  it('a warm cache returns the archive without writing it again', async () => {
    const cacheDir = path.join(tmp, 'cache-1');
    await buildServiceImages({ bundle, versions, cacheDir });
    const before = statSync((await buildServiceImages({ bundle, versions, cacheDir })).path).ino;
    const warm = await buildServiceImages({ bundle, versions, cacheDir });
    expect([warm.cached, warm.runtime.cached, warm.app.cached]).toEqual([true, true, true]);
    expect(statSync(warm.path).ino).toBe(before);
  });

  it('a damaged cached layer is found while the archive is written, removed, and rebuilt on the next build', async () => {
    const cacheDir = path.join(tmp, 'cache-3');
    const first = await buildServiceImages({ bundle, versions: ['1.0.0'], cacheDir });
    const bytes = readFileSync(first.app.path);
    bytes[600] = bytes[600]! ^ 0xff;
    writeFileSync(first.app.path, bytes);
    // Another version list, so the archive is written (not taken from the cache) and layers are copied.
    await expect(buildServiceImages({ bundle, versions: ['1.0.1'], cacheDir })).rejects.toMatchObject({ code: 'IMAGE_CACHE_DAMAGED' });
    const again = await buildServiceImages({ bundle, versions: ['1.0.1'], cacheDir });
    expect(again.app.diffId).toBe(first.app.diffId);
  });

  it('refuses bad input with what to do, before building anything', async () => {
    const cacheDir = path.join(tmp, 'cache-never');
    await expect(buildServiceImages({ bundle, versions: [], cacheDir })).rejects.toMatchObject({ code: 'NO_IMAGE_VERSIONS' });
    await expect(buildServiceImages({ bundle, versions: ['4.4.0', '4.4.0'], cacheDir })).rejects.toMatchObject({ code: 'DUPLICATE_IMAGE_TAG' });
    await expect(buildServiceImages({ bundle, versions: ['4.4.0 beta'], cacheDir })).rejects.toMatchObject({ code: 'BAD_IMAGE_TAG' });
    await expect(buildServiceImages({ bundle, versions: ['1'], repository: 'truststream', cacheDir })).rejects.toMatchObject({ code: 'BAD_IMAGE_TAG' });
    await expect(buildServiceImages({ bundle, versions: ['1'], env: { VERSION: 'x' }, cacheDir })).rejects.toMatchObject({ code: 'BAD_IMAGE_ENV' });
    await expect(buildServiceImages({ bundle: path.join(tmp, 'missing.mjs'), versions: ['1'], cacheDir })).rejects.toMatchObject({
      code: 'IMAGE_SOURCE_MISSING',
      message: expect.stringContaining('missing.mjs'),
    });
    expect(() => statSync(cacheDir)).toThrow();
  });

  it('keeps the three most recently used archives of a name, and any used in the last ten minutes', async () => {
    const cacheDir = path.join(tmp, 'cache-prune');
    const dir = path.join(cacheDir, 'archives');
    mkdirSync(dir, { recursive: true });
    const now = Date.now();
    const minutesAgo = [60, 50, 40, 30, 5];
    const files = minutesAgo.map((m, i) => {
      const file = path.join(dir, `truststream-${String(i).repeat(32)}.tar`);
      writeFileSync(file, '');
      utimesSync(file, new Date(now - m * 60_000), new Date(now - m * 60_000));
      return file;
    });
    const other = path.join(dir, `pause-${'a'.repeat(32)}.tar`);
    writeFileSync(other, '');
    utimesSync(other, new Date(now - 3_600_000), new Date(now - 3_600_000));
    expect(await pruneArchives(cacheDir, 'truststream', 3, now)).toEqual([files[1], files[0]]);
    // Negative control: with all of them recent, nothing goes even past the limit.
    for (const f of files.slice(2)) utimesSync(f, new Date(now), new Date(now));
    expect(await pruneArchives(cacheDir, 'truststream', 1, now)).toEqual([]);
    expect(existsSync(other)).toBe(true);
  });

  it('the pause image: one layer with a static /pause, run as 65535', async () => {
    const built = await buildPauseImage({ cacheDir: path.join(tmp, 'cache-1') });
    expect(built.images[0]!.tags).toEqual([PAUSE_IMAGE]);
    const manifest = JSON.parse(member(built.path, 'manifest.json').toString()) as Manifest[];
    const config = JSON.parse(member(built.path, manifest[0]!.Config).toString()) as { config: Record<string, unknown> };
    expect(config.config).toMatchObject({ Entrypoint: ['/pause'], User: '65535:65535' });
    const layer = path.join(tmp, 'pause-layer.tar');
    writeFileSync(layer, member(built.path, manifest[0]!.Layers[0]!));
    expect(members(layer)).toEqual(['pause']);
    const again = await buildPauseImage({ cacheDir: path.join(tmp, 'cache-2') });
    expect(again.images).toEqual(built.images);
  });
});
