import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

/**
 * Rules that span several keys. They live here rather than as zod refinements so they run even
 * when other parts of the file are invalid (every problem in one pass) and keep the generated
 * JSON Schema plain.
 */
export function crossFieldIssues(data: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  const postgres = dig(data, 'targets', 'postgres');
  if (isRecord(postgres) && postgres.provider === 'external' && !postgres.url) {
    issues.push({
      path: ['targets', 'postgres', 'url'],
      at: ['targets', 'postgres', 'provider'],
      anchor: 'value',
      message: 'required when provider is "external" (a connection URL, e.g. url: ${DRILL_PG_URL})',
    });
  }
  return issues;
}

function dig(data: unknown, ...keys: string[]): unknown {
  let current = data;
  for (const key of keys) current = isRecord(current) ? current[key] : undefined;
  return current;
}
