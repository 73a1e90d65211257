import type { z } from 'zod';
import { closestMatch } from './did-you-mean.js';
import { suggestDuration } from './duration-suggest.js';
import type { PathIssue } from './issues.js';
import { discriminatorOf, isDuration, isRecord, keysOf, literalValues, objectOptions, schemaAt } from './schema-walk.js';
import { scenarioSchema } from './schema.js';
import type { KeyPath } from './yaml-locate.js';

/**
 * Turns zod issues into messages written for someone editing YAML: "mapping" and "list" instead of
 * object and array, the allowed values, and the likely intended key or value.
 */
type Issue = z.core.$ZodIssue;

interface Context {
  data: unknown;
  /** True where the value came from an environment variable: never echo it, it may be a secret. */
  isSecret: (path: KeyPath) => boolean;
}

export function describeZodIssues(issues: readonly Issue[], context: Context): PathIssue[] {
  return issues.flatMap((issue) => describe(issue, [], context));
}

function describe(issue: Issue, prefix: KeyPath, context: Context): PathIssue[] {
  const path = [...prefix, ...issue.path];
  const value = valueAt(context.data, path);
  const secret = context.isSecret(path);
  const shown = secret ? 'the value (from an environment variable)' : quote(value);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => unknownKey([...path, key], context));
    case 'invalid_union':
      if (issue.discriminator !== undefined) return [badDiscriminator(issue, path, value, shown, secret)];
      return badUnion(issue, path, value, context);
    case 'invalid_value': {
      const allowed = issue.values.map(String);
      if (value === undefined)
        return [{ path, anchor: 'container', message: `missing required key; one of: ${allowed.join(', ')}` }];
      return [{
        path,
        anchor: 'value',
        message: `${shown} is not allowed; allowed: ${allowed.join(', ')}`,
        suggestion: secret ? undefined : closestMatch(String(value), allowed),
      }];
    }
    case 'invalid_type':
      if (value === undefined) return [{ path, anchor: 'container', message: 'missing required key' }];
      return [wrongType(issue.expected, path, value, secret, context)];
    case 'invalid_format':
      if (isDuration(schemaAt(scenarioSchema, context.data, path)))
        return [{
          path,
          anchor: 'value',
          message: `${shown} is not a duration: write a number and a unit (ms, s, m, h), e.g. 500ms, 30s, 15m, 1m30s`,
          suggestion: secret || typeof value !== 'string' ? undefined : suggestDuration(value),
        }];
      return [{ path, anchor: 'value', message: `${shown} is not valid: ${formatName(issue)}` }];
    case 'too_small':
      return [{ path, anchor: 'value', message: bound(issue.origin, 'at least', issue.minimum, issue.inclusive) }];
    case 'too_big':
      return [{ path, anchor: 'value', message: bound(issue.origin, 'at most', issue.maximum, issue.inclusive) }];
    default:
      return [{ path, anchor: 'value', message: issue.message }];
  }
}

function wrongType(expected: string, path: KeyPath, value: unknown, secret: boolean, context: Context): PathIssue {
  const schema = schemaAt(scenarioSchema, context.data, path);
  if (isDuration(schema)) return { path, anchor: 'value', message: `expected a duration like 15m, got ${kindOf(value)}` };
  // `recovery: [stop-writes]` is a common first try; show the mapping form it needs.
  const selector = discriminatorOf(schema);
  if (selector && typeof value === 'string' && !secret) {
    const chosen = selector.values.includes(value) ? value : closestMatch(value, selector.values);
    return {
      path,
      anchor: 'value',
      message: `expected a mapping with "${selector.key}:" (one of: ${selector.values.join(', ')}), got text`,
      ...(chosen === undefined ? {} : { suggestion: `${selector.key}: ${chosen}` }),
    };
  }
  return { path, anchor: 'value', message: `expected ${typeName(expected)}, got ${kindOf(value)}` };
}

function unknownKey(path: KeyPath, context: Context): PathIssue {
  const key = String(path.at(-1));
  const parent = path.slice(0, -1);
  const present = valueAt(context.data, parent);
  // Prefer keys not yet written (one already there is rarely what the typo meant), but fall back
  // to all of them so a key written twice under two spellings still gets the hint.
  const free = keysOf(schemaAt(scenarioSchema, context.data, parent)).filter(
    (k) => !(isRecord(present) && k in present),
  );
  const suggestion = closestMatch(key, free) ?? closestMatch(key, keysOf(schemaAt(scenarioSchema, context.data, parent)));
  const message = suggestion || !free.length ? 'unknown key' : `unknown key; valid here: ${free.join(', ')}`;
  return { path, anchor: 'key', message, suggestion };
}

function badDiscriminator(
  issue: Extract<Issue, { code: 'invalid_union' }>,
  path: KeyPath,
  value: unknown,
  shown: string,
  secret: boolean,
): PathIssue {
  const allowed = ('options' in issue ? (issue.options ?? []) : []).map(String);
  const key = issue.discriminator ?? String(path.at(-1));
  if (value === undefined)
    return { path, anchor: 'container', message: `missing key "${key}"; one of: ${allowed.join(', ')}` };
  return {
    path,
    anchor: 'value',
    message: `unknown ${key} ${shown}; allowed: ${allowed.join(', ')}`,
    suggestion: secret ? undefined : closestMatch(String(value), allowed),
  };
}

/**
 * A plain union (e.g. a recovery target) reports one error list per alternative. When the input's
 * shape clearly picks one alternative, its own errors are the useful ones; otherwise list the
 * alternatives.
 */
function badUnion(issue: Extract<Issue, { code: 'invalid_union' }>, path: KeyPath, value: unknown, context: Context) {
  const plausible = issue.errors.filter((branch) =>
    branch.every((inner) => !isShapeMismatch(inner, valueAt(value, inner.path))),
  );
  if (plausible.length === 1) return plausible[0]!.flatMap((inner) => describe(inner, path, context));

  if (value === undefined) return [{ path, anchor: 'container' as const, message: 'missing required key' }];
  const schema = schemaAt(scenarioSchema, context.data, path);
  const literals = literalValues(schema);
  const objects = objectOptions(schema);
  const parts = [...literals.map((l) => JSON.stringify(l)), ...objects.map((keys) => `{${keys.join(', ')}}`)];
  const expected = parts.length ? `expected one of ${parts.join(', ')}` : issue.message;
  const known = new Set(objects.flat());
  const stray = isRecord(value) ? Object.keys(value).find((k) => !known.has(k)) : undefined;
  if (stray !== undefined)
    return [{ path, anchor: 'value' as const, message: `unknown key "${stray}"; ${expected}`, suggestion: closestMatch(stray, known) }];
  const suggestion = !context.isSecret(path) && typeof value === 'string' ? closestMatch(value, literals) : undefined;
  return [{ path, anchor: 'value' as const, message: `${expected}; got ${kindOf(value)}`, suggestion }];
}

/** An alternative whose type, constant or required keys do not fit was not what the user meant. */
function isShapeMismatch(issue: Issue, value: unknown): boolean {
  if (issue.code === 'invalid_type' && value === undefined) return true;
  if (issue.path.length) return false;
  return issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'unrecognized_keys';
}

function bound(origin: string, word: string, limit: number | bigint, inclusive = true): string {
  const n = Number(limit) + (inclusive ? 0 : word === 'at least' ? 1 : -1);
  if (origin === 'array' || origin === 'set') return `needs ${word} ${n} item${n === 1 ? '' : 's'}`;
  if (origin === 'string') return `needs ${word} ${n} character${n === 1 ? '' : 's'}`;
  return `must be ${word} ${n}`;
}

function formatName(issue: Extract<Issue, { code: 'invalid_format' }>): string {
  // A regex's custom message says what is expected ("lower-case letters, digits and dashes").
  if (issue.format === 'regex') return issue.message;
  return issue.format === 'url' ? 'expected a URL like http://host:port/path' : `expected a ${issue.format}`;
}

function typeName(expected: string): string {
  const names: Record<string, string> = {
    object: 'a mapping', array: 'a list', string: 'text', number: 'a number', int: 'a whole number',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'boolean') return `${value}`;
  return typeof value === 'string' ? 'text' : `a ${typeof value}`;
}

function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

function valueAt(data: unknown, path: KeyPath): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}
