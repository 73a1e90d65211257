import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../cli/package-root.js';
import { fontsLayer } from './fonts-layer.js';
import { hostFile } from './host-file.js';
import { hostTreeEntries } from './host-tree.js';
import { imageCacheDir } from './image-cache.js';
import { packageIgnore } from './ignore-file.js';
import { checkImageTag } from './image-config.js';
import { writeDockerArchive, type ImageArchive } from './docker-archive.js';
import { layerSpec, type LayerEntry } from './layer-spec.js';
import { buildLayer, type BuiltLayer } from './layer-store.js';
import { APP_USER, nodeRuntimeLayer } from './node-runtime-layer.js';
import { postgresLayer } from './postgres-layer.js';
import { productionModulesLayer } from './production-modules-layer.js';
import { PATH_ENV } from './service-images.js';

/** Where the package goes in the image (the Dockerfile's WORKDIR). */
export const DRILL_IMAGE_ROOT = '/opt/drill';
/** The package's directories and files the CLI needs at run time (the Dockerfile's COPY lines). */
export const DRILL_PACKAGE_DIRS = ['bin', 'src', 'sut', 'drills', 'schema'];
export const DRILL_PACKAGE_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'vitest.drill.config.ts'];
/**
 * vite bundles vitest.drill.config.ts into .vite-temp, vitest caches in .vite and keeps the
 * transformed harness in .experimental-vitest-cache (vitest.drill.config.ts): the drill writes there.
 */
const WRITABLE_MODULE_DIRS = ['.vite', '.vite-temp', '.experimental-vitest-cache'];
/** The drill image's archive is ~430 MB and a new one comes with every source change: only the newest stays cached. */
const KEEP_DRILL_ARCHIVES = 1;

export interface DrillImageOptions {
  /** Default `drill.local/drill:<package version>`. */
  tag?: string;
  /** The drill package to put in the image; default this checkout. */
  packageRoot?: string;
  cacheDir?: string;
}

export interface DrillImage extends ImageArchive {
  tag: string;
  layers: BuiltLayer[];
}

/**
 * The image the Dockerfile describes, built without a container engine from this machine's files,
 * as drill builds its service images: the node runtime layer (node, its libraries, a minimal /etc),
 * the PostgreSQL server with the few programs the native provider runs (postgres-layer.ts), DejaVu
 * fonts when this machine has them (fonts-layer.ts), the production node_modules (`npm ci
 * --omit=dev`), and the package itself at /opt/drill (less what .dockerignore keeps out), top-most
 * because it changes most. Runs as 10001 (the runtime layer's `app`, numeric for runAsNonRoot)
 * under tini, entrypoint the CLI. Every layer is cached by content, so an unchanged rebuild only
 * hashes the package and the PostgreSQL files.
 *
 * Not the same contents as the Dockerfile's image: PostgreSQL is this machine's major (the
 * Dockerfile installs postgresql-15); no ca-certificates (node has its own CA bundle); user `app`
 * with HOME /home/app (the Dockerfile's `drill`, /home/drill), same uid 10001; entrypoint
 * `tini -- node /opt/drill/bin/drill.mjs` (the Dockerfile's `tini -- drill`, the same program);
 * no shell tools beyond the programs postgres-layer.ts copies; no fonts when this machine has none.
 */
export async function buildDrillImage(options: DrillImageOptions = {}): Promise<DrillImage> {
  const packageRoot = options.packageRoot ?? PACKAGE_ROOT;
  const cacheDir = options.cacheDir ?? imageCacheDir();
  const { version } = JSON.parse(await readFile(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  const tag = checkImageTag(options.tag ?? `drill.local/drill:${version}`);
  const user = { uid: APP_USER.uid, gid: APP_USER.gid };

  const runtime = await buildLayer(await nodeRuntimeLayer(), cacheDir);
  const postgres = await buildLayer(await postgresLayer(), cacheDir);
  const fontsSpec = await fontsLayer();
  const fonts = fontsSpec ? [await buildLayer(fontsSpec, cacheDir)] : [];
  const modules = await productionModulesLayer({ packageRoot, at: `${DRILL_IMAGE_ROOT}/node_modules`, writable: { names: WRITABLE_MODULE_DIRS, ...user }, cacheDir });
  const app = await buildLayer(layerSpec(`drill ${version} at ${DRILL_IMAGE_ROOT}`, await packageEntries(packageRoot)), cacheDir);
  const layers = [runtime, postgres, ...fonts, modules, app];

  const home = `/home/${APP_USER.name}`;
  const archive = await writeDockerArchive(
    'drill',
    [
      {
        tags: [tag],
        layers,
        settings: {
          env: [PATH_ENV, `HOME=${home}`, 'NODE_ENV=production'],
          entrypoint: ['/usr/bin/tini', '--', '/usr/bin/node', `${DRILL_IMAGE_ROOT}/bin/drill.mjs`],
          cmd: ['--help'],
          workingDir: home,
          user: `${user.uid}:${user.gid}`,
          labels: { 'org.opencontainers.image.title': 'drill', 'org.opencontainers.image.version': version },
        },
      },
    ],
    cacheDir,
    KEEP_DRILL_ARCHIVES,
  );
  return { ...archive, tag, layers };
}

async function packageEntries(packageRoot: string): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  // What the package's .dockerignore keeps out of a `docker build` stays out of this image too.
  const ignored = await packageIgnore(packageRoot);
  for (const dir of DRILL_PACKAGE_DIRS) {
    entries.push(...(await hostTreeEntries(path.join(packageRoot, dir), { at: `${DRILL_IMAGE_ROOT}/${dir}`, exclude: (p) => ignored(`${dir}/${p}`) })));
  }
  for (const file of DRILL_PACKAGE_FILES) {
    const { source, mode } = await hostFile(path.join(packageRoot, file));
    entries.push({ type: 'file', path: `${DRILL_IMAGE_ROOT}/${file}`, mode, source });
  }
  // `drill` on PATH, as the Dockerfile links it (bin/drill.mjs starts with #!/usr/bin/env node).
  entries.push({ type: 'symlink', path: '/usr/local/bin/drill', target: `${DRILL_IMAGE_ROOT}/bin/drill.mjs` });
  return entries;
}
