import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installProductionModules } from '../../src/targets/images/production-modules-layer.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-modules-install-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// A one-dependency package (ms, which drill's own lock file pins, so npm's cache usually has it):
// a real `npm ci`, small enough to run twice at once.
function tinyPackage(): string {
  const root = path.join(tmp, 'package');
  mkdirSync(root, { recursive: true });
  const manifest = { name: 'tiny', version: '1.0.0', dependencies: { ms: '2.1.3' } };
  writeFileSync(path.join(root, 'package.json'), JSON.stringify(manifest));
  const lock = {
    name: 'tiny',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': manifest,
      'node_modules/ms': {
        version: '2.1.3',
        resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz',
        integrity: 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==',
        license: 'MIT',
      },
    },
  };
  writeFileSync(path.join(root, 'package-lock.json'), JSON.stringify(lock));
  return root;
}

describe('the production node_modules install in the shared cache', () => {
  it('two builds installing the same lock file at once both succeed and leave one complete directory, no temp directory', async () => {
    const root = tinyPackage();
    const cache = path.join(tmp, 'cache', 'node-modules');
    const installDir = path.join(cache, 'digest');
    await Promise.all([installProductionModules(root, installDir), installProductionModules(root, installDir)]);
    expect(existsSync(path.join(installDir, 'node_modules', '.package-lock.json'))).toBe(true);
    expect(existsSync(path.join(installDir, 'node_modules', 'ms', 'index.js'))).toBe(true);
    expect(readdirSync(cache)).toEqual(['digest']);
  }, 180_000);

  it('an install left incomplete in place (the old in-place npm ci, killed) is replaced by a complete one', async () => {
    const root = tinyPackage();
    const installDir = path.join(tmp, 'cache2', 'digest');
    mkdirSync(path.join(installDir, 'node_modules', 'ms'), { recursive: true });
    await installProductionModules(root, installDir);
    expect(existsSync(path.join(installDir, 'node_modules', 'ms', 'index.js'))).toBe(true);
    expect(readdirSync(path.dirname(installDir))).toEqual(['digest']);
  }, 180_000);
});
