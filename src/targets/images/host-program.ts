import { mirrorHostPath } from './host-path.js';
import type { LayerEntry } from './layer-spec.js';
import { sharedLibraries } from './shared-libraries.js';

/**
 * The layer entries for the shared libraries `ldd` lists for each of `binaries` (programs or
 * libraries they load, such as PostgreSQL's modules), each library once, at its own path with the
 * symlinks leading there.
 */
export async function sharedLibraryEntries(binaries: string[]): Promise<LayerEntry[]> {
  const libraries = new Set<string>();
  // A few ldd at a time: each is a short process, and a PostgreSQL install has a hundred binaries.
  for (let i = 0; i < binaries.length; i += 8) {
    for (const list of await Promise.all(binaries.slice(i, i + 8).map((b) => sharedLibraries(b)))) for (const l of list) libraries.add(l);
  }
  const entries: LayerEntry[] = [];
  for (const library of [...libraries].sort()) entries.push(...(await mirrorHostPath(library)));
  return entries;
}

/** Host programs (e.g. /bin/sh, /usr/bin/ps) at their own paths, with the libraries they load. */
export async function hostProgramEntries(programs: string[]): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  for (const program of programs) entries.push(...(await mirrorHostPath(program)));
  entries.push(...(await sharedLibraryEntries(programs)));
  return entries;
}
