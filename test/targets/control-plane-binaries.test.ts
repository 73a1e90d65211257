import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/output.js';
import { EnvironmentError } from '../../src/engine/errors.js';
import { CONTROL_PLANE_BINARIES, resolveControlPlaneBinaries } from '../../src/targets/kubernetes/control-plane-binaries.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-cp-bin-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A cache laid out like tools/build-control-plane.sh leaves it, with stub executables. */
function fakeCache(root: string, stamp: string, binaries: readonly string[] = CONTROL_PLANE_BINARIES): string {
  const bin = path.join(root, 'control-plane', 'v1.37.2', 'bin');
  mkdirSync(bin, { recursive: true });
  for (const b of binaries) {
    writeFileSync(path.join(bin, b), '#!/bin/sh\n');
    chmodSync(path.join(bin, b), 0o755);
  }
  writeFileSync(path.join(root, 'control-plane', 'v1.37.2', 'build.stamp'), stamp);
  return bin;
}

const complete = 'kubernetes=v1.37.2\netcd=v3.6.16\nkwok=v0.8.0\ngo=go1.26.8\nstatus=complete\n';
// Only the variables these tests mean; a developer's DRILL_CONTROL_PLANE_BIN must not leak in.
const env = (extra: Record<string, string>) => ({ DRILL_CONTROL_PLANE_BIN: '', DRILL_KUBE_VERSION: '', DRILL_ETCD_VERSION: '', DRILL_KWOK_VERSION: '', DRILL_FORCE_REBUILD: '', ...extra });

describe('control-plane binaries', () => {
  it('uses a complete build in the cache without running the build script', async () => {
    const root = path.join(tmp, 'complete');
    const bin = fakeCache(root, complete);
    const found = await resolveControlPlaneBinaries({ env: env({ DRILL_CACHE_DIR: root }) });
    expect(found.dir).toBe(bin);
    expect(found.path('kwok')).toBe(path.join(bin, 'kwok'));
  });

  it('without a build: exit 3 giving the build command, the --build flag and DRILL_CONTROL_PLANE_BIN, and builds nothing', async () => {
    const root = path.join(tmp, 'empty');
    const started = Date.now();
    const error = await resolveControlPlaneBinaries({ env: env({ DRILL_CACHE_DIR: root }) }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).code).toBe('CONTROL_PLANE_NOT_BUILT');
    expect(exitCodeForError(error)).toBe(3);
    expect((error as Error).message).toContain('tools/build-control-plane.sh');
    expect((error as Error).message).toContain('--build');
    expect((error as Error).message).toContain('DRILL_CONTROL_PLANE_BIN');
  });

  it('does not trust a build of other versions, an unfinished one, or one missing a binary', async () => {
    const cases = {
      'other etcd': complete.replace('etcd=v3.6.16', 'etcd=v3.7.3'),
      unfinished: complete.replace('status=complete\n', ''),
    };
    for (const [name, stamp] of Object.entries(cases)) {
      const root = path.join(tmp, name.replace(' ', '-'));
      fakeCache(root, stamp);
      const error = await resolveControlPlaneBinaries({ env: env({ DRILL_CACHE_DIR: root }) }).catch((e: unknown) => e);
      expect((error as EnvironmentError).code, name).toBe('CONTROL_PLANE_NOT_BUILT');
    }
    const root = path.join(tmp, 'no-kwok');
    fakeCache(root, complete, CONTROL_PLANE_BINARIES.filter((b) => b !== 'kwok'));
    const error = await resolveControlPlaneBinaries({ env: env({ DRILL_CACHE_DIR: root }) }).catch((e: unknown) => e);
    expect((error as EnvironmentError).code).toBe('CONTROL_PLANE_NOT_BUILT');
  });

  it('DRILL_CONTROL_PLANE_BIN wins, and must hold all five binaries (no fallback to the cache)', async () => {
    const root = path.join(tmp, 'explicit');
    const bin = fakeCache(root, complete);
    const found = await resolveControlPlaneBinaries({ env: env({ DRILL_CONTROL_PLANE_BIN: bin, DRILL_CACHE_DIR: path.join(tmp, 'nowhere') }) });
    expect(found.dir).toBe(bin);

    const partial = path.join(tmp, 'partial');
    fakeCache(partial, complete, ['etcd', 'kube-apiserver']);
    const error = await resolveControlPlaneBinaries({
      env: env({ DRILL_CONTROL_PLANE_BIN: path.join(partial, 'control-plane', 'v1.37.2', 'bin'), DRILL_CACHE_DIR: root }),
    }).catch((e: unknown) => e);
    expect((error as EnvironmentError).code).toBe('CONTROL_PLANE_BIN_INCOMPLETE');
    expect((error as Error).message).toContain('kube-controller-manager, kube-scheduler, kwok');
  });
});
