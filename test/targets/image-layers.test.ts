import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostFile } from '../../src/targets/images/host-file.js';
import { mirrorHostPath } from '../../src/targets/images/host-path.js';
import { checkImageTag } from '../../src/targets/images/image-config.js';
import { imageCacheDir } from '../../src/targets/images/image-cache.js';
import { layerSpec, type LayerEntry } from '../../src/targets/images/layer-spec.js';
import { buildLayer } from '../../src/targets/images/layer-store.js';
import { parseLdd } from '../../src/targets/images/shared-libraries.js';
import { tarHeader } from '../../src/targets/images/tar-header.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-layers-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** GNU tar's verbose listing: an independent reader of what we write. */
const tarList = (file: string) => execFileSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });

function sourceTree(): string {
  const dir = mkdtempSync(path.join(tmp, 'src-'));
  writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
  return dir;
}

async function sampleEntries(dir: string, overrides: Partial<{ toolMode: number }> = {}): Promise<LayerEntry[]> {
  const tool = await hostFile(path.join(dir, 'tool'));
  const long = `deep/${'d'.repeat(90)}/${'f'.repeat(60)}.txt`;
  return [
    { type: 'file', path: '/usr/bin/tool', mode: overrides.toolMode ?? tool.mode, source: tool.source },
    { type: 'file', path: '/etc/motd', mode: 0o644, source: { kind: 'bytes', data: Buffer.from('hello\n') } },
    { type: 'directory', path: '/tmp', mode: 0o1777 },
    { type: 'directory', path: '/home/app', mode: 0o750, uid: 10001, gid: 10001 },
    { type: 'symlink', path: '/lib', target: 'usr/lib' },
    { type: 'file', path: `/${long}`, mode: 0o600, source: { kind: 'bytes', data: Buffer.from('long path\n') } },
  ];
}

describe('image layers', () => {
  it('writes a tar GNU tar reads back: modes (sticky /tmp), owners, symlinks, parents first, a path over 100 bytes, fixed mtime', async () => {
    const layer = await buildLayer(layerSpec('sample', await sampleEntries(sourceTree())), path.join(tmp, 'cache-a'));
    const listing = tarList(layer.path);
    const lines = listing.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).slice(5).join(' '))).toEqual([
      'deep/',
      `deep/${'d'.repeat(90)}/`,
      `deep/${'d'.repeat(90)}/${'f'.repeat(60)}.txt`,
      'etc/',
      'etc/motd',
      'home/',
      'home/app/',
      'lib -> usr/lib',
      'tmp/',
      'usr/',
      'usr/bin/',
      'usr/bin/tool',
    ]);
    expect(listing).toMatch(/^drwxrwxrwt 0\/0 +0 1970-01-01 00:00 tmp\/$/m);
    expect(listing).toMatch(/^drwxr-x--- 10001\/10001 +0 1970-01-01 00:00 home\/app\/$/m);
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 +20 1970-01-01 00:00 usr\/bin\/tool$/m);
    const out = mkdtempSync(path.join(tmp, 'x-'));
    execFileSync('tar', ['-xf', layer.path, '-C', out]);
    expect(readFileSync(path.join(out, 'usr/bin/tool'), 'utf8')).toBe('#!/bin/sh\necho tool\n');
    expect(readFileSync(path.join(out, `deep/${'d'.repeat(90)}/${'f'.repeat(60)}.txt`), 'utf8')).toBe('long path\n');
    // The digest is the sha256 of the tar as written.
    expect(layer.diffId).toBe(`sha256:${execFileSync('sha256sum', [layer.path], { encoding: 'utf8' }).split(' ')[0]}`);
  });

  it('a header with a wrong checksum is refused by GNU tar (the listing above checks real headers)', () => {
    const header = tarHeader({ name: 'a', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0 });
    header[0] = 'b'.charCodeAt(0); // name changed after the checksum was computed
    const file = path.join(tmp, 'bad.tar');
    writeFileSync(file, Buffer.concat([header, Buffer.alloc(1024)]));
    expect(() => tarList(file)).toThrow();
  });

  it('the same description gives the same bytes in another cache; a changed mode or content gives another digest', async () => {
    const dir = sourceTree();
    const a = await buildLayer(layerSpec('sample', await sampleEntries(dir)), path.join(tmp, 'cache-b'));
    const b = await buildLayer(layerSpec('sample', await sampleEntries(dir)), path.join(tmp, 'cache-c'));
    expect(b.diffId).toBe(a.diffId);
    expect(readFileSync(b.path).equals(readFileSync(a.path))).toBe(true);
    // Negative controls: what the tar records must move the digest.
    const otherMode = await buildLayer(layerSpec('sample', await sampleEntries(dir, { toolMode: 0o700 })), path.join(tmp, 'cache-c'));
    expect(otherMode.diffId).not.toBe(a.diffId);
    writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\necho changed\n');
    const otherContent = await buildLayer(layerSpec('sample', await sampleEntries(dir)), path.join(tmp, 'cache-c'));
    expect(otherContent.diffId).not.toBe(a.diffId);
  });

  it('is cached by content: a second build of the same description reads the cache', async () => {
    const cache = path.join(tmp, 'cache-d');
    const spec = layerSpec('sample', await sampleEntries(sourceTree()));
    const first = await buildLayer(spec, cache);
    const second = await buildLayer(spec, cache);
    expect([first.cached, second.cached]).toEqual([false, true]);
    expect(second.diffId).toBe(first.diffId);
  });

  it('refuses a source file that changes between description and write', async () => {
    const dir = sourceTree();
    const spec = layerSpec('sample', await sampleEntries(dir));
    writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\necho TOOL\n'); // same size, other bytes
    await expect(buildLayer(spec, path.join(tmp, 'cache-e'))).rejects.toMatchObject({ code: 'IMAGE_SOURCE_CHANGED' });
  });

  it('refuses a path given twice with different content, and paths that leave the image', () => {
    const bytes = (s: string) => ({ kind: 'bytes' as const, data: Buffer.from(s) });
    expect(() =>
      layerSpec('x', [
        { type: 'file', path: '/a', mode: 0o644, source: bytes('1') },
        { type: 'file', path: '/a', mode: 0o644, source: bytes('2') },
      ]),
    ).toThrow(/given twice/);
    expect(() => layerSpec('x', [{ type: 'file', path: '/../etc/passwd', mode: 0o644, source: bytes('1') }])).toThrow(/not a plain absolute path/);
    expect(() =>
      layerSpec('x', [
        { type: 'symlink', path: '/lib', target: 'usr/lib' },
        { type: 'file', path: '/lib/x.so', mode: 0o644, source: bytes('1') },
      ]),
    ).toThrow(/is a symlink/);
  });

  it('mirrors a host path through its symlinks (relative and absolute) to the file it ends at', async () => {
    const root = mkdtempSync(path.join(tmp, 'mirror-'));
    mkdirSync(path.join(root, 'usr/lib/multi'), { recursive: true });
    writeFileSync(path.join(root, 'usr/lib/multi/libx.so.1.2'), 'ELF');
    symlinkSync('libx.so.1.2', path.join(root, 'usr/lib/multi/libx.so.1'));
    symlinkSync('usr/lib', path.join(root, 'lib'));
    mkdirSync(path.join(root, 'lib64dir'));
    symlinkSync(path.join(root, 'lib/multi/libx.so.1'), path.join(root, 'lib64dir/ld.so'));
    const entries = await mirrorHostPath(path.join(root, 'lib64dir/ld.so'));
    expect(entries.map((e) => (e.type === 'symlink' ? `${e.path} -> ${e.target}` : `${e.type} ${e.path}`))).toEqual([
      `${root}/lib64dir/ld.so -> ${root}/lib/multi/libx.so.1`,
      `${root}/lib -> usr/lib`,
      `${root}/usr/lib/multi/libx.so.1 -> libx.so.1.2`,
      `file ${root}/usr/lib/multi/libx.so.1.2`,
    ]);
  });

  it('reads ldd output: libraries and the loader, not the vDSO; a missing library is an error naming it', () => {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f1)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f3)',
    ].join('\n');
    expect(parseLdd(output, '/usr/bin/node')).toEqual(['/lib/x86_64-linux-gnu/libstdc++.so.6', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
    expect(() => parseLdd(`${output}\n\tlibicu.so.72 => not found`, '/usr/bin/node')).toThrow(/libicu\.so\.72/);
    expect(parseLdd('\tstatically linked', '/pause')).toEqual([]);
  });

  it('accepts tags with a registry part only', () => {
    for (const tag of ['drill.local/truststream:4.4.0', 'drill.local/truststream:4.5.0-crashloop', 'localhost:5000/a/b:v1', 'localhost/x:1']) {
      expect(checkImageTag(tag)).toBe(tag);
    }
    for (const tag of ['truststream:4.4.0', 'drill.local/TrustStram:1', 'drill.local/truststream', 'drill.local/truststream:-x', 'drill.local/truststream@sha256:00']) {
      expect(() => checkImageTag(tag), tag).toThrow(/not an image tag/);
    }
  });

  it('keeps its cache under DRILL_CACHE_DIR when set', () => {
    expect(imageCacheDir({ DRILL_CACHE_DIR: '/var/cache/x' })).toBe('/var/cache/x/images');
    expect(imageCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'drill', 'images'));
  });
});
