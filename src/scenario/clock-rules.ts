import { parseClockOffset } from './clock-offset.js';
import { parseDuration } from './duration.js';
import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

/**
 * Cross-key rules of the clock vocabulary (clock-schema.ts; see rules.ts for why they are not zod
 * refinements): a skewed service answers every request as before, so only a probe that reads its
 * clock sees the fault. A clock-skew fault needs a service http probe with `maxClockSkew`, and that
 * tolerance below the offset (a probe tolerating the skew would never fail: detection and RTO could
 * not be judged).
 */
export function clockIssues(data: unknown): PathIssue[] {
  if (!isRecord(data) || !Array.isArray(data.faults)) return [];
  const probes = isRecord(data.workload) && Array.isArray(data.workload.probes) ? data.workload.probes : [];
  const tolerances = probes
    .filter((p): p is Record<string, unknown> => isRecord(p) && p.type === 'http' && p.target === 'service' && p.service !== false && typeof p.maxClockSkew === 'string')
    .map((p) => parseDuration(p.maxClockSkew as string))
    .filter((ms): ms is number => ms !== undefined);
  const issues: PathIssue[] = [];
  data.faults.forEach((fault, i) => {
    if (!isRecord(fault) || fault.type !== 'clock-skew') return;
    if (tolerances.length === 0) {
      issues.push({
        path: ['faults', i, 'type'],
        anchor: 'value',
        message:
          'a skewed service answers as before: only a probe that reads its clock sees it; add maxClockSkew to an http probe with target: service (e.g. maxClockSkew: 5s)',
      });
      return;
    }
    const offset = typeof fault.offset === 'string' ? parseClockOffset(fault.offset) : undefined;
    if (offset !== undefined && tolerances.every((t) => t >= Math.abs(offset))) {
      issues.push({
        path: ['faults', i, 'offset'],
        anchor: 'value',
        message: `every clock probe tolerates this skew (maxClockSkew ${Math.min(...tolerances) / 1000}s or more): make maxClockSkew smaller than the offset, or the offset larger`,
      });
    }
  });
  return issues;
}
