import type { PathIssue } from './issues.js';
import type { KeyPath } from './yaml-locate.js';

/**
 * `${VAR}` in string values, filled from the environment at load time so scenarios can name
 * connection URLs and credentials without containing them. `$${VAR}` stays a literal `${VAR}`.
 * Messages name the variable and the key, never a value: values are often secrets.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export interface Interpolated {
  data: unknown;
  issues: PathIssue[];
  /** Paths whose value now holds text from the environment. */
  filled: KeyPath[];
  /** The variables filled in, with their values: what a run of the scenario needs from its environment. */
  used: Record<string, string>;
}

const REFERENCE = /\$(\$?)\{([^}]*)\}?/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function interpolateEnv(data: unknown, env: Env, options: { requireEnv: boolean }): Interpolated {
  const issues: PathIssue[] = [];
  const filled: KeyPath[] = [];
  const used: Record<string, string> = {};

  // The loader refuses cyclic YAML before this runs; the guard keeps any other caller from
  // recursing until the stack overflows.
  const ancestors = new Set<object>();
  const visit = (value: unknown, path: KeyPath): unknown => {
    if (typeof value === 'string') return fill(value, path);
    if (!value || typeof value !== 'object') return value;
    if (ancestors.has(value)) {
      issues.push({ path, anchor: 'value', message: 'this value contains itself (a cyclic alias); copy the values instead' });
      return undefined;
    }
    ancestors.add(value);
    try {
      if (Array.isArray(value)) return value.map((item, index) => visit(item, [...path, index]));
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, visit(item, [...path, key])]));
    } finally {
      ancestors.delete(value);
    }
  };

  const fill = (text: string, path: KeyPath): string => {
    if (!text.includes('${')) return text;
    const unset: string[] = [];
    let malformed = false;
    let filledHere = false;
    const result = text.replace(REFERENCE, (whole, escaped: string, name: string) => {
      if (escaped) return whole.slice(1);
      if (!whole.endsWith('}') || !NAME.test(name)) {
        malformed = true;
        return whole;
      }
      const found = env[name];
      if (found === undefined) {
        unset.push(name);
        return whole;
      }
      filledHere = true;
      used[name] = found;
      return found;
    });
    if (filledHere) filled.push(path);
    if (options.requireEnv && unset.length) {
      const names = unset.join(', ');
      const verb = unset.length === 1 ? 'is' : 'are';
      issues.push({ path, anchor: 'value', message: `environment variable ${names} ${verb} not set (export it, or write $\${...} for a literal)` });
    }
    if (options.requireEnv && malformed) {
      issues.push({ path, anchor: 'value', message: 'malformed ${...}: write ${NAME} with letters, digits and underscores' });
    }
    return result;
  };

  return { data: visit(data, []), issues, filled, used };
}
