import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import createDebug from 'debug';
import { drillCacheDir } from '../../engine/cache-dir.js';
import { EnvironmentError } from '../../engine/errors.js';
import { childEnvironment, HARNESS_SETTINGS } from '../process/child-environment.js';

const debug = createDebug('drill:k8s');

/**
 * What the build script and the Go tool need: the harness's settings (versions, cache), Go's own
 * (GOPATH, GOCACHE, GOPROXY, GOFLAGS, ...), and proxies to download modules through.
 */
const BUILD_VARIABLES = [
  ...HARNESS_SETTINGS,
  'GO*',
  'CGO_*',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

export const CONTROL_PLANE_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
/** Built by the same script, needed only for real nodes: a control plane with fake nodes runs without it. */
export const NODE_BINARIES = ['kubelet'] as const;
export type ControlPlaneBinary = (typeof CONTROL_PLANE_BINARIES)[number] | (typeof NODE_BINARIES)[number];

export const BUILD_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../tools/build-control-plane.sh');

export interface ControlPlaneBinaries {
  dir: string;
  path(name: ControlPlaneBinary): string;
}

export interface ResolveBinariesOptions {
  /** Run tools/build-control-plane.sh when there is no complete build (a cold build takes about 12 minutes). */
  allowBuild?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Build progress lines (the script's stderr). */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

function binariesIn(dir: string): ControlPlaneBinaries {
  return { dir, path: (name) => path.join(dir, name) };
}

function missingIn(dir: string): string[] {
  return CONTROL_PLANE_BINARIES.filter((b) => {
    try {
      accessSync(path.join(dir, b), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

/**
 * The cache directory tools/build-control-plane.sh fills, and whether it holds a complete build of
 * the pinned versions. Mirrors the script's own `cache_ok` (same stamp header, same defaults), so
 * that a cache hit needs neither the script nor Go.
 */
export function controlPlaneCache(env: NodeJS.ProcessEnv = process.env): { binDir: string; complete: boolean } {
  const kube = env.DRILL_KUBE_VERSION || 'v1.37.2';
  const header = `kubernetes=${kube}\netcd=${env.DRILL_ETCD_VERSION || 'v3.6.16'}\nkwok=${env.DRILL_KWOK_VERSION || 'v0.8.0'}`;
  const root = drillCacheDir(env);
  const dest = path.join(root, 'control-plane', kube);
  const binDir = path.join(dest, 'bin');
  const stampFile = path.join(dest, 'build.stamp');
  if (!existsSync(stampFile)) return { binDir, complete: false };
  const stamp = readFileSync(stampFile, 'utf8');
  const lines = stamp.split('\n');
  const complete =
    env.DRILL_FORCE_REBUILD !== '1' &&
    lines.includes('status=complete') &&
    lines.slice(0, 3).join('\n') === header &&
    missingIn(binDir).length === 0;
  return { binDir, complete };
}

function notBuilt(binDir: string): EnvironmentError {
  return new EnvironmentError(
    'CONTROL_PLANE_NOT_BUILT',
    `the local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) is not built: ` +
      `no complete build in ${binDir}. Build it once (about 12 minutes on a cold Go cache, reused afterwards): ` +
      `\`${path.relative(process.cwd(), BUILD_SCRIPT) || BUILD_SCRIPT}\` (or \`npm run setup\`), or pass --build to build now, ` +
      'or set DRILL_CONTROL_PLANE_BIN to a directory holding the five binaries.',
  );
}

/** Runs the build script; its stdout is the bin directory, its stderr progress. */
function runBuildScript(options: ResolveBinariesOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], {
      env: childEnvironment({ pass: BUILD_VARIABLES, set: options.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
    });
    let stdout = '';
    let partial = '';
    let tail: string[] = [];
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        debug('build: %s', line);
        options.onProgress?.(line);
      }
      tail = [...tail, ...lines].slice(-20);
    });
    child.on('error', (error) =>
      reject(new EnvironmentError('CONTROL_PLANE_BUILD_FAILED', `could not run ${BUILD_SCRIPT}: ${error.message}`, { cause: error })),
    );
    child.on('close', (code) => {
      const dir = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && dir) return resolve(dir);
      reject(new EnvironmentError('CONTROL_PLANE_BUILD_FAILED', `${BUILD_SCRIPT} failed (exit ${code}): ${tail.join('\n')}`));
    });
  });
}

/**
 * The kubelet of a resolved set of binaries, for real nodes; a cache built before kubelet joined the
 * script lacks it: the error says how to add it (the script builds only what is missing).
 */
export function requireKubelet(binaries: ControlPlaneBinaries): string {
  const kubelet = binaries.path('kubelet');
  try {
    accessSync(kubelet, constants.X_OK);
    return kubelet;
  } catch {
    throw new EnvironmentError(
      'KUBELET_NOT_BUILT',
      `real Kubernetes nodes need kubelet, which is not in ${binaries.dir}. Build it once (about 1 minute with a warm Go cache, 6-7 cold): ` +
        `\`${path.relative(process.cwd(), BUILD_SCRIPT) || BUILD_SCRIPT}\` (or \`npm run setup:all\`), or ask for fake nodes only (targets.kubernetes.nodes: {fake: 3}).`,
    );
  }
}

/**
 * Where the control-plane binaries are, in order: DRILL_CONTROL_PLANE_BIN (no fallback when set),
 * a complete build in the cache, or a build now when `allowBuild`. Otherwise an EnvironmentError
 * (exit 3) that gives the build command, instead of silently starting a multi-minute build.
 */
export async function resolveControlPlaneBinaries(options: ResolveBinariesOptions = {}): Promise<ControlPlaneBinaries> {
  const env = { ...process.env, ...options.env };
  const explicit = env.DRILL_CONTROL_PLANE_BIN;
  if (explicit) {
    const missing = missingIn(explicit);
    if (missing.length > 0) {
      throw new EnvironmentError(
        'CONTROL_PLANE_BIN_INCOMPLETE',
        `DRILL_CONTROL_PLANE_BIN=${explicit} lacks executable ${missing.join(', ')}; point it at the bin directory ` +
          `that ${path.basename(BUILD_SCRIPT)} prints, or unset it to use the cache.`,
      );
    }
    return binariesIn(explicit);
  }
  const cache = controlPlaneCache(env);
  if (cache.complete) return binariesIn(cache.binDir);
  if (!options.allowBuild) throw notBuilt(cache.binDir);
  debug('no complete control-plane build in %s: running %s', cache.binDir, BUILD_SCRIPT);
  const dir = await runBuildScript(options);
  const missing = missingIn(dir);
  if (missing.length > 0) throw new EnvironmentError('CONTROL_PLANE_BUILD_FAILED', `${BUILD_SCRIPT} printed ${dir}, which lacks ${missing.join(', ')}`);
  return binariesIn(dir);
}
