import { hostFile } from './host-file.js';
import { imageCacheDir } from './image-cache.js';
import { writeDockerArchive, type ImageArchive } from './docker-archive.js';
import { layerSpec } from './layer-spec.js';
import { buildLayer } from './layer-store.js';
import { pauseBinary } from './pause-binary.js';

/** The tag containerd's `sandbox_image` names (the pause version Kubernetes 1.3x uses). */
export const PAUSE_IMAGE = 'drill.local/pause:3.10';

/**
 * The pod sandbox image: one layer with the static pause binary at /pause, run as 65535 (the
 * user the upstream pause image runs as).
 */
export async function buildPauseImage(options: { tag?: string; cacheDir?: string } = {}): Promise<ImageArchive> {
  const cacheDir = options.cacheDir ?? imageCacheDir();
  const { source } = await hostFile(await pauseBinary(cacheDir));
  const layer = await buildLayer(layerSpec('pause (tools/pause/pause.c, static)', [{ type: 'file', path: '/pause', mode: 0o755, source }]), cacheDir);
  return writeDockerArchive('pause', [{ tags: [options.tag ?? PAUSE_IMAGE], layers: [layer], settings: { env: [], entrypoint: ['/pause'], user: '65535:65535' } }], cacheDir);
}
