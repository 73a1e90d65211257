import { suggestProcedureId } from '../runbook/procedure-ids.js';
import { resolveSectionRef } from '../runbook/section-refs.js';
import type { Runbook } from '../runbook/types.js';
import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

/**
 * With a runbook at hand (`drill validate --runbook`, `drill run --runbook`): `runbook:` must name
 * its sections and every `covers:` id must be one of its procedures. Without one neither can be
 * checked (the schema checks the form of an id only); `drill coverage` then reports what does not
 * resolve against the runbook it is given.
 */
export function runbookIssues(data: unknown, runbook: Runbook | undefined): PathIssue[] {
  if (!runbook || !isRecord(data)) return [];
  const issues: PathIssue[] = [];
  if (typeof data.runbook === 'string') {
    const ref = resolveSectionRef(runbook, data.runbook);
    if (!ref.ok) issues.push({ path: ['runbook'], anchor: 'value', message: ref.message, ...(ref.suggestion ? { suggestion: ref.suggestion } : {}) });
  }
  if (Array.isArray(data.covers)) {
    const known = new Set(runbook.procedures.map((p) => p.id));
    data.covers.forEach((id, index) => {
      if (typeof id !== 'string' || known.has(id)) return;
      const suggestion = suggestProcedureId(runbook, id);
      issues.push({ path: ['covers', index], anchor: 'value', message: `no procedure "${id}" in ${runbook.file}`, ...(suggestion ? { suggestion } : {}) });
    });
  }
  return issues;
}
