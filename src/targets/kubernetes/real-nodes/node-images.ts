import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { buildTruststreamBundle } from '../../../../sut/truststream/bundle.js';
import { knownVersions } from '../../../../sut/truststream/src/releases.js';
import { imageCacheDir } from '../../images/image-cache.js';
import { pauseBinary } from '../../images/pause-binary.js';
import { buildPauseImage, PAUSE_IMAGE } from '../../images/pause-image.js';
import { buildServiceImages } from '../../images/service-images.js';

const debug = createDebug('drill:k8s');

/** What a real node needs besides kubelet: its init, and the images it runs without a registry. */
export interface NodeImages {
  /** The static pause binary, also PID 1 of each node's PID namespace. */
  initBinary: string;
  /** containerd's sandbox image (the pause image's tag in the archives). */
  sandboxImage: string;
  /** docker-archive tarballs imported into every node (pause, the system under drill). */
  archives: string[];
}

/** Where the built-in system under drill's images come from: `drill.local/truststream:<version>`. */
export const TRUSTSTREAM_REPOSITORY = 'drill.local/truststream';

export function realNodeName(index: number): string {
  return `drill-node-${index + 1}`;
}

/**
 * The images every real node imports: the pause image, and TrustStram built from this checkout
 * (bundled, one tag per release of its catalogue, so a manifest picks a release by its image tag
 * the way a deployment does). Cached by content: after the first build only the bundle is redone.
 */
export async function buildNodeImages(cacheDir: string = imageCacheDir()): Promise<NodeImages> {
  const t0 = Date.now();
  const initBinary = await pauseBinary(cacheDir);
  const pause = await buildPauseImage({ cacheDir });
  // A bundle of its own per build: drills building at the same time never read each other's half-written file.
  const scratch = path.join(cacheDir, 'bundles', `${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(scratch, { recursive: true });
  try {
    const bundle = await buildTruststreamBundle(path.join(scratch, 'truststream.mjs'));
    const service = await buildServiceImages({ bundle: bundle.file, versions: knownVersions(), repository: TRUSTSTREAM_REPOSITORY, cmd: ['api'], ports: [8080], cacheDir });
    debug('node images ready in %d ms: %s, %s', Date.now() - t0, pause.path, service.path);
    return { initBinary, sandboxImage: PAUSE_IMAGE, archives: [pause.path, service.path] };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
