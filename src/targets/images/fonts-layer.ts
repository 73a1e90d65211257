import { existsSync } from 'node:fs';
import { hostTreeEntries } from './host-tree.js';
import { layerSpec, type LayerSpec } from './layer-spec.js';

/** Where Debian's fonts-dejavu-core puts its fonts (the package the Dockerfile installs). */
export const DEJAVU_DIR = '/usr/share/fonts/truetype/dejavu';
/** fonts-dejavu-core's files: the other DejaVu faces (fonts-dejavu-extra) are not needed. */
const CORE_FONTS = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf', 'DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf'];

// resvg's font loader finds no font without a fontconfig file (its fallback to the known font
// directories did not load /usr/share/fonts in the image): the one line it needs, not the host's /etc/fonts.
const FONTS_CONF = `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>/usr/share/fonts</dir>
</fontconfig>
`;

/**
 * DejaVu Sans for timeline.png's text (resvg loads the system's fonts as /etc/fonts/fonts.conf
 * lists them): without it the pod's report has a gap where the picture goes. Taken from this
 * machine when fonts-dejavu-core is installed (`npm run setup` installs it); undefined when not.
 */
export async function fontsLayer(dir = DEJAVU_DIR): Promise<LayerSpec | undefined> {
  if (!existsSync(dir)) return undefined;
  const entries = await hostTreeEntries(dir, { exclude: (p) => !CORE_FONTS.includes(p) });
  if (entries.length <= 1) return undefined;
  entries.push({ type: 'file', path: '/etc/fonts/fonts.conf', mode: 0o644, source: { kind: 'bytes', data: Buffer.from(FONTS_CONF) } });
  return layerSpec(`fonts-dejavu-core (${dir})`, entries);
}
