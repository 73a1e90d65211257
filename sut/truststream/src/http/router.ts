import type { Route } from './types.js';

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[]; pattern: string }
  | { kind: 'not-found' };

interface Compiled {
  route: Route;
  regex: RegExp;
  names: string[];
}

/** Matches a method and path against `/a/:param` patterns; no framework for six routes. */
export function createRouter(routes: readonly Route[]): (method: string, path: string) => Match {
  const compiled: Compiled[] = routes.map((route) => {
    const names: string[] = [];
    const source = route.pattern
      .split('/')
      .map((part) => {
        if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(part.slice(1));
        return '([^/]+)';
      })
      .join('/');
    return { route, regex: new RegExp(`^${source}/?$`), names };
  });
  return (method, path) => {
    const matching = compiled
      .map((c) => ({ c, m: c.regex.exec(path) }))
      .filter((x): x is { c: Compiled; m: RegExpExecArray } => x.m !== null);
    if (matching.length === 0) return { kind: 'not-found' };
    const hit = matching.find((x) => x.c.route.method === method || (method === 'HEAD' && x.c.route.method === 'GET'));
    if (!hit) return { kind: 'method-not-allowed', allowed: matching.map((x) => x.c.route.method), pattern: matching[0]!.c.route.pattern };
    const params = Object.fromEntries(hit.c.names.map((name, i) => [name, decodeURIComponent(hit.m[i + 1]!)]));
    return { kind: 'found', route: hit.c.route, params };
  };
}
