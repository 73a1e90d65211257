import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/**
 * Reads a scenario file as bytes so the hash is of exactly what is on disk (evidence bundles cite
 * it), and turns file-system errors into sentences a user can act on.
 */
export type SourceResult = { ok: true; source: string; sha256: string } | { ok: false; message: string };

export async function readSource(absolute: string): Promise<SourceResult> {
  try {
    const bytes = await readFile(absolute);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // A BOM is invisible in editors; dropping it keeps column numbers as the user sees them.
    const source = bytes.toString('utf8').replace(/^\uFEFF/, '');
    return { ok: true, source, sha256 };
  } catch (error) {
    return { ok: false, message: explain(error, absolute) };
  }
}

function explain(error: unknown, absolute: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `file not found (looked for ${absolute}; working directory ${process.cwd()})`;
    case 'EISDIR':
      return 'is a directory; give a scenario .yaml file (`npx drill list` shows them)';
    case 'EACCES':
    case 'EPERM':
      return 'cannot read the file: permission denied';
    default:
      return `cannot read the file: ${(error as Error).message ?? String(error)}`;
  }
}
