import { existsSync } from 'node:fs';
import { hostTreeEntries } from './host-tree.js';
import { layerSpec, type LayerSpec } from './layer-spec.js';

/** Where Debian's fonts-dejavu-core puts its fonts (the package the Dockerfile installs). */
export const DEJAVU_DIR = '/usr/share/fonts/truetype/dejavu';
/** fonts-dejavu-core's files: the other DejaVu faces (fonts-dejavu-extra) are not needed. */
const CORE_FONTS = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf', 'DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf'];

/**
 * DejaVu Sans for timeline.png's text (resvg loads the system's fonts from /usr/share/fonts):
 * without it the pod's report has a gap where the picture goes. Taken from this machine when
 * fonts-dejavu-core is installed (`npm run setup` installs it); undefined when it is not.
 */
export async function fontsLayer(dir = DEJAVU_DIR): Promise<LayerSpec | undefined> {
  if (!existsSync(dir)) return undefined;
  const entries = await hostTreeEntries(dir, { exclude: (p) => !CORE_FONTS.includes(p) });
  if (entries.length <= 1) return undefined;
  return layerSpec(`fonts-dejavu-core (${dir})`, entries);
}
