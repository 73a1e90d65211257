import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Kept out of the drill image whatever the package's ignore file says: a private signing key
 * (`drill keygen` writes drill-evidence.key) must never ship, and node_modules comes from its own layer.
 */
export const ALWAYS_IGNORED = ['node_modules', '*.key'];

/**
 * A matcher for the package's `.dockerignore` (or `.gitignore` when it has none), so the image the
 * engine-less builder writes holds what `docker build` would send, not every file in the working
 * tree (logs, reports/, scratch/, built sut/ output, keys). Reads the pattern forms those files use:
 * `name` or `*.ext` (no slash) matches a file or directory of that name at any depth (the
 * .gitignore reading, stricter than Docker's root-only one: a key in src/ is kept out too),
 * `sut/NAME/dist` with `*` for NAME (a pattern with a slash) matches from the package root, a trailing `/` is dropped, `*` and `?`
 * stay within one path segment, `!pattern` takes a path back in (last match wins), `#` comments.
 * Everything under a matched directory is left out with it.
 */
export async function packageIgnore(packageRoot: string): Promise<(relative: string) => boolean> {
  const file = ['.dockerignore', '.gitignore'].map((f) => path.join(packageRoot, f)).find((f) => existsSync(f));
  const lines = file ? (await readFile(file, 'utf8')).split('\n') : [];
  return ignoreMatcher([...ALWAYS_IGNORED, ...lines]);
}

/** `relative` is a POSIX path from the package root; true when it is left out. */
export function ignoreMatcher(lines: string[]): (relative: string) => boolean {
  const rules = lines
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      const segments = pattern.split('/').map(segmentRegExp);
      return { negate, anchored: pattern.includes('/'), segments };
    });
  return (relative) => {
    const parts = relative.split('/').filter((p) => p !== '' && p !== '.');
    let ignored = false;
    for (const rule of rules) {
      const matches = rule.anchored
        ? rule.segments.length <= parts.length && rule.segments.every((re, i) => re.test(parts[i]!))
        : parts.some((part) => rule.segments[0]!.test(part));
      if (matches) ignored = !rule.negate;
    }
    return ignored;
  };
}

function segmentRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}
