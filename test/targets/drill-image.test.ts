import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDrillImage } from '../../src/targets/images/drill-image.js';
import { hostTreeEntries } from '../../src/targets/images/host-tree.js';
import { ignoreMatcher } from '../../src/targets/images/ignore-file.js';
import { postgresLayer } from '../../src/targets/images/postgres-layer.js';
import { findPostgresBinaries } from '../../src/targets/postgres/binaries.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-image-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const member = (archive: string, name: string) => execFileSync('tar', ['-xOf', archive, name], { maxBuffer: 64 << 20 });

interface Manifest {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

describe('host trees as layer entries', () => {
  it('copies a directory as it is (modes, relative symlinks), moved to `at`, without what is excluded, owned by root', async () => {
    const root = path.join(tmp, 'tree');
    mkdirSync(path.join(root, 'bin'), { recursive: true });
    mkdirSync(path.join(root, 'man', 'man1'), { recursive: true });
    writeFileSync(path.join(root, 'bin', 'tool'), '#!/bin/sh\n');
    chmodSync(path.join(root, 'bin', 'tool'), 0o750);
    writeFileSync(path.join(root, 'man', 'man1', 'tool.1'), 'page');
    symlinkSync('bin/tool', path.join(root, 'tool'));
    const entries = await hostTreeEntries(root, { at: '/opt/x', exclude: (p) => p === 'man' });
    expect(entries.map((e) => [e.type, e.path, 'mode' in e ? (e.mode & 0o7777).toString(8) : ('target' in e ? e.target : '')])).toEqual([
      ['directory', '/opt/x', '755'],
      ['directory', '/opt/x/bin', '755'],
      ['file', '/opt/x/bin/tool', '750'],
      ['symlink', '/opt/x/tool', 'bin/tool'],
    ]);
    expect(entries.every((e) => e.type === 'symlink' || (e.uid === 0 && e.gid === 0))).toBe(true);
  });
});

describe('the package ignore file', () => {
  it('reads .dockerignore/.gitignore patterns: a bare name at any depth, a slashed pattern from the root, `*` within a segment, `!` takes back', () => {
    const ignored = ignoreMatcher(['# comment', 'node_modules', '*.key', 'reports/*', '!reports/README.md', 'scratch/', 'sut/*/dist', '']);
    for (const p of ['node_modules', 'sut/a/node_modules', 'drill-evidence.key', 'src/deep/x.key', 'reports/run-1', 'scratch', 'scratch/a', 'sut/truststream/dist', 'sut/truststream/dist/x.js']) {
      expect(ignored(p), p).toBe(true);
    }
    for (const p of ['reports', 'reports/README.md', 'src/key.ts', 'src/x.keys', 'sut/dist', 'sut/truststream/src/dist.ts', 'drills/scratchpad.yaml']) expect(ignored(p), p).toBe(false);
  });
});

describe('the drill image (the Dockerfile without an engine)', () => {
  // The machine's image cache: the production node_modules layer is an `npm ci` and 20 000 files
  // to hash the first time, then cached by the lock file.
  it('runs the CLI under tini as 10001, and holds PostgreSQL, the programs it runs, node_modules and the package', async () => {
    const image = await buildDrillImage();
    expect(image.tag).toMatch(/^drill\.local\/drill:\d+\.\d+\.\d+/);
    const [manifest] = JSON.parse(member(image.path, 'manifest.json').toString()) as Manifest[];
    expect(manifest!.RepoTags).toEqual([image.tag]);
    const config = JSON.parse(member(image.path, manifest!.Config).toString()) as { config: Record<string, unknown> };
    expect(config.config).toMatchObject({
      User: '10001:10001',
      Entrypoint: ['/usr/bin/tini', '--', '/usr/bin/node', '/opt/drill/bin/drill.mjs'],
      Cmd: ['--help'],
      WorkingDir: '/home/app',
    });
    expect(config.config.Env).toEqual(expect.arrayContaining(['HOME=/home/app', 'NODE_ENV=production']));

    // The layers unpacked as a runtime would, and programs started from them as the image's user.
    const rootfs = path.join(tmp, 'rootfs');
    mkdirSync(rootfs);
    for (const layer of manifest!.Layers) execFileSync('sh', ['-c', `tar -xOf "$1" "$2" | tar -xpf - -C "$3"`, 'sh', image.path, layer, rootfs]);
    mkdirSync(path.join(rootfs, 'proc'));
    mkdirSync(path.join(rootfs, 'dev'));
    // /proc and /dev as a runtime gives them, in a mount and PID namespace that end with the command.
    const enter = 'mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev" && exec chroot --userspec=10001:10001 "$0" "$@"';
    const run = (...args: string[]) =>
      execFileSync('unshare', ['--mount', '--pid', '--fork', '--propagation', 'private', 'sh', '-c', enter, rootfs, ...args], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/home/app' } });
    // This machine's PostgreSQL, whatever its major (the layer copies it from here).
    const pg = findPostgresBinaries();
    const pgConfig = (flag: string) => execFileSync(pg.path('pg_config'), [flag], { encoding: 'utf8' }).trim();
    const [pkglibdir, sharedir] = [pgConfig('--pkglibdir'), pgConfig('--sharedir')];
    expect(run(pg.path('postgres'), '--version')).toMatch(new RegExp(`PostgreSQL\\) ${pg.major}\\.`));
    expect(run('/bin/sh', '-c', 'id -u && ps -o pid= -p $$ >/dev/null && echo ok')).toBe('10001\nok\n');
    // initdb's input, the time zone data it was built to use, the writable vite directories.
    expect(run('/bin/sh', '-c', `test ! -e ${pkglibdir}/llvmjit.so && test -f ${sharedir}/postgres.bki && test -f /usr/share/zoneinfo/UTC && test -w /opt/drill/node_modules/.vite-temp && test ! -w /opt/drill/src && echo ok`)).toBe('ok\n');
    // timeline.png's font, as fonts-dejavu-core installs it, when this machine has it.
    if (existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf')) {
      const draw = `const { rasterizeSvg } = await import('/opt/drill/src/report/timeline-png.ts'); const r = await rasterizeSvg('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'); console.log('png' in r ? 'drawn' : r.reason);`;
      expect(run('/bin/sh', '-c', 'cd /opt/drill && exec /usr/bin/node --import tsx --input-type=module -e "$0"', draw)).toBe('drawn\n');
    }
    expect(run('/usr/bin/node', '/opt/drill/bin/drill.mjs', '--version').trim()).toMatch(/^\d+\.\d+\.\d+/);
    const initdb = run(pg.path('initdb'), '-D', '/tmp/data', '--locale=C', '-E', 'UTF8', '-U', 'postgres', '--no-sync', '--auth=trust');
    expect(initdb).toContain('Success');
  }, 300_000);

  it('a second build with nothing changed reads every layer and the archive from the cache', async () => {
    const first = await buildDrillImage();
    // What makes it fast is asserted, not how fast it was (a time limit flakes on a loaded CI machine).
    const second = await buildDrillImage();
    expect(second.layers.map((l) => l.cached)).toEqual(second.layers.map(() => true));
    expect(second.cached).toBe(true);
    expect(second.path).toBe(first.path);
  }, 300_000);

  it("leaves out of the package layer what the package's .dockerignore keeps out (a key, a log, built output), and keeps the rest", async () => {
    const repo = path.resolve(import.meta.dirname, '../..');
    const root = path.join(tmp, 'package');
    for (const dir of ['bin', 'src', 'sut', 'drills', 'schema']) {
      cpSync(path.join(repo, dir), path.join(root, dir), { recursive: true, filter: (p) => !p.split(path.sep).includes('node_modules') && !p.split(path.sep).includes('dist') });
    }
    // The same manifests as this checkout: the node_modules layer comes from the cache.
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'vitest.drill.config.ts', '.dockerignore']) copyFileSync(path.join(repo, file), path.join(root, file));
    writeFileSync(path.join(root, 'src', 'x.key'), '-----BEGIN PRIVATE KEY-----\n');
    writeFileSync(path.join(root, 'drills', 'a.log'), 'a log\n');
    mkdirSync(path.join(root, 'sut', 'truststream', 'dist'), { recursive: true });
    writeFileSync(path.join(root, 'sut', 'truststream', 'dist', 'built.js'), '');
    writeFileSync(path.join(root, 'drills', 'kept.yaml'), 'kept: true\n');
    const image = await buildDrillImage({ packageRoot: root });
    const appLayer = image.layers.at(-1)!;
    expect(appLayer.description).toContain('/opt/drill');
    const names = execFileSync('tar', ['-tf', appLayer.path], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n');
    expect(names).toContain('opt/drill/drills/kept.yaml');
    expect(names).toContain('opt/drill/src/cli/package-root.ts');
    expect(names.filter((n) => /\.key$|\.log$|\/dist(\/|$)/.test(n))).toEqual([]);
  }, 300_000);

  it('refuses a bad tag before building anything (exit 2 from npm run image:build), and names the package of a missing program (exit 3)', async () => {
    const cacheDir = path.join(tmp, 'never-used');
    await expect(buildDrillImage({ tag: 'Drill:latest', cacheDir })).rejects.toMatchObject({ code: 'BAD_IMAGE_TAG', kind: 'input' });
    expect(existsSync(cacheDir)).toBe(false);
    await expect(postgresLayer(['/usr/bin/cp', '/nonexistent/tini'])).rejects.toMatchObject({
      code: 'IMAGE_PROGRAM_MISSING',
      kind: 'environment',
      message: expect.stringContaining('apt-get install tini'),
    });
    const tool = spawnSync(process.execPath, ['--import', 'tsx', path.resolve(import.meta.dirname, '../../tools/build-drill-image.ts'), '--tag', 'Drill:latest'], { encoding: 'utf8' });
    expect(tool.status, tool.stderr).toBe(2);
    expect(tool.stderr).toContain('BAD_IMAGE_TAG');
    // --out into a directory that does not exist: exit 2 naming the option, before building.
    const missing = path.join(tmp, 'no-such-dir', 'drill-image.tar');
    const out = spawnSync(process.execPath, ['--import', 'tsx', path.resolve(import.meta.dirname, '../../tools/build-drill-image.ts'), '--out', missing], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(2);
    expect(out.stderr).toMatch(/^--out .*no-such-dir.* does not exist; create it/);
    expect(out.stderr).not.toContain('    at ');
  });
});
