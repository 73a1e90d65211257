import { ARTIFACT_SOURCE, type ForensicArtifactKind } from './incident-schema.js';
import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

/** Which `targets` key provides each target part an artifact is collected from. */
const TARGET_OF = { service: 'service', pg: 'postgres', k8s: 'kubernetes' } as const;

/**
 * Cross-key rules of the incident-response steps (incident-schema.ts): each at most once (the
 * journal keeps one incident and one evidence record), and an artifact listed by name needs the
 * target it is collected from.
 */
export function incidentIssues(data: unknown): PathIssue[] {
  if (!isRecord(data) || !Array.isArray(data.recovery)) return [];
  const targets = isRecord(data.targets) ? data.targets : {};
  const issues: PathIssue[] = [];
  const seen = new Map<string, number>();
  data.recovery.forEach((s, i) => {
    if (!isRecord(s) || (s.step !== 'preserve-forensics' && s.step !== 'activate-incident-response')) return;
    const first = seen.get(s.step);
    if (first !== undefined) {
      issues.push({ path: ['recovery', i, 'step'], anchor: 'value', message: `${s.step} is already recovery[${first}]: a run keeps one ${s.step === 'preserve-forensics' ? 'evidence record' : 'incident'}; remove this one` });
    } else seen.set(s.step, i);
    if (s.step !== 'preserve-forensics' || !Array.isArray(s.artifacts)) return;
    s.artifacts.forEach((artifact, j) => {
      const source = ARTIFACT_SOURCE[artifact as ForensicArtifactKind] as keyof typeof TARGET_OF | undefined;
      if (source === undefined) return;
      const key = TARGET_OF[source];
      if (targets[key] === undefined) {
        issues.push({ path: ['recovery', i, 'artifacts', j], anchor: 'value', message: `${String(artifact)} is collected from targets.${key}, which the scenario does not have; remove it, or add the target` });
      }
    });
  });
  return issues;
}
