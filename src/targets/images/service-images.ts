import path from 'node:path';
import { InputError } from '../../engine/errors.js';
import { hostFile } from './host-file.js';
import { imageCacheDir } from './image-cache.js';
import { checkImageTag } from './image-config.js';
import { writeDockerArchive, type ImageArchive } from './docker-archive.js';
import { layerSpec } from './layer-spec.js';
import { buildLayer, type BuiltLayer } from './layer-store.js';
import { APP_USER, nodeRuntimeLayer } from './node-runtime-layer.js';

export const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ServiceImagesOptions {
  /** The service as one JavaScript file node runs by itself (e.g. the TrustStram bundle). */
  bundle: string;
  /** One image per version, tagged `<repository>:<version>`; each gets `VERSION=<version>`. */
  versions: string[];
  /** Default `drill.local/truststream`. */
  repository?: string;
  /** The bundle's name under /app; default the repository's last component + `.mjs`. */
  bundleName?: string;
  /** Environment every version shares, after PATH and before VERSION. */
  env?: Record<string, string>;
  /** Default arguments after the entrypoint (e.g. the service's mode, `["api"]`). */
  cmd?: string[];
  /** Ports the service listens on (ExposedPorts). */
  ports?: number[];
  /** The node binary to base the images on; default the one running. */
  node?: string;
  cacheDir?: string;
}

export interface ServiceImages extends ImageArchive {
  /** version → tag */
  tags: Record<string, string>;
  runtime: BuiltLayer;
  app: BuiltLayer;
}

/**
 * One archive with an image per version of a service: the node runtime layer and the app layer
 * (the bundle at /app) are shared, and the versions' configs differ only in `VERSION`, the way a
 * release pipeline tags the same build for several releases. Entrypoint `node /app/<bundle>`,
 * user `app` given by number (10001:10001) so Kubernetes can check `runAsNonRoot` without
 * reading the image's /etc/passwd.
 */
export async function buildServiceImages(options: ServiceImagesOptions): Promise<ServiceImages> {
  const repository = options.repository ?? 'drill.local/truststream';
  if (options.versions.length === 0) throw new InputError('NO_IMAGE_VERSIONS', `no version to build for ${repository}; give at least one (e.g. 4.4.0)`);
  const duplicate = options.versions.find((v, i) => options.versions.indexOf(v) !== i);
  if (duplicate !== undefined) throw new InputError('DUPLICATE_IMAGE_TAG', `version ${duplicate} is given twice for ${repository}; give each version once`);
  const tags = Object.fromEntries(options.versions.map((v) => [v, checkImageTag(`${repository}:${v}`)]));
  const bundleName = options.bundleName ?? `${repository.split('/').pop()}.mjs`;
  if (bundleName.includes('/') || bundleName.startsWith('.')) {
    throw new InputError('BAD_BUNDLE_NAME', `bundle name "${bundleName}" must be a plain file name (it goes to /app/${bundleName})`);
  }
  const shared = sharedEnv(options.env ?? {});
  const cacheDir = options.cacheDir ?? imageCacheDir();

  const { source } = await hostFile(path.resolve(options.bundle));
  const runtime = await buildLayer(await nodeRuntimeLayer(options.node), cacheDir);
  const app = await buildLayer(layerSpec(`app /app/${bundleName}`, [{ type: 'file', path: `/app/${bundleName}`, mode: 0o644, source }]), cacheDir);

  const archive = await writeDockerArchive(
    repository.split('/').pop()!,
    options.versions.map((version) => ({
      tags: [tags[version]!],
      layers: [runtime, app],
      settings: {
        env: [PATH_ENV, ...shared, `VERSION=${version}`],
        entrypoint: ['node', `/app/${bundleName}`],
        cmd: options.cmd,
        workingDir: '/app',
        user: `${APP_USER.uid}:${APP_USER.gid}`,
        exposedPorts: options.ports,
        labels: { 'org.opencontainers.image.title': repository.split('/').pop()! },
      },
    })),
    cacheDir,
  );
  return { ...archive, tags, runtime, app };
}

function sharedEnv(env: Record<string, string>): string[] {
  return Object.entries(env).map(([key, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || key === 'VERSION' || key === 'PATH') {
      throw new InputError('BAD_IMAGE_ENV', `image environment key "${key}" is not allowed: use a name of letters, digits and _ other than VERSION and PATH (set per version by the builder)`);
    }
    return `${key}=${value}`;
  });
}
