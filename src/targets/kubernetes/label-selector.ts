/**
 * Label selectors as kubectl writes them (`app=api,tier!=cache,env in (a,b),!legacy`): parsed so
 * a scenario's selector is checked when the file is loaded, and matched locally in tests. The
 * apiserver gets the text itself.
 */

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

export class SelectorSyntaxError extends Error {}

/** Splits on commas that are not inside a `(...)` value set. */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out;
}

function checkKey(key: string, term: string): string {
  if (!KEY.test(key)) throw new SelectorSyntaxError(`"${key}" in "${term}" is not a valid label key`);
  return key;
}

function checkValue(value: string, term: string): string {
  if (!VALUE.test(value)) throw new SelectorSyntaxError(`"${value}" in "${term}" is not a valid label value`);
  return value;
}

export function parseSelector(text: string): Requirement[] {
  if (text.trim() === '') throw new SelectorSyntaxError('an empty selector selects everything; name at least one label, e.g. app=truststream-api');
  return terms(text).map((term): Requirement => {
    let m = /^(\S+?)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim(), term));
      return { key: checkKey(m[1]!, term), op: m[2] as 'in' | 'notin', values };
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (m) {
      return { key: checkKey(m[1]!, term), op: m[2] === '!=' ? 'notin' : 'in', values: [checkValue(m[3]!, term)] };
    }
    m = /^(!?)\s*([^=!\s()]+)$/.exec(term);
    if (m) return { key: checkKey(m[2]!, term), op: m[1] ? '!exists' : 'exists' };
    throw new SelectorSyntaxError(`cannot read "${term}": write key=value, key!=value, key in (a,b), key notin (a,b), key or !key`);
  });
}

export function matchesSelector(requirements: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
    }
  });
}

/** `{app: 'api', version: 'blue'}` as `app=api,version=blue` (keys sorted, so equal maps print equal). */
export function selectorFromLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}
