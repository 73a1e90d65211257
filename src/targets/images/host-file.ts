import { stat } from 'node:fs/promises';
import { EnvironmentError } from '../../engine/errors.js';
import { hashFile } from '../../report/evidence-manifest.js';
import type { FileSource } from './layer-spec.js';

/** A host file as a layer file's source: its size and content digest, taken now. */
export async function hostFile(path: string): Promise<{ source: FileSource; mode: number }> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new EnvironmentError('IMAGE_SOURCE_MISSING', `cannot read ${path} for an image layer (${error.code ?? error.message}); check the path`, { cause: error });
  });
  if (!info.isFile()) throw new EnvironmentError('IMAGE_SOURCE_MISSING', `${path} is not a regular file; an image layer can only take a file from there`);
  const { size, sha256 } = await hashFile(path);
  return { source: { kind: 'file', path, size, sha256 }, mode: info.mode & 0o7777 };
}
