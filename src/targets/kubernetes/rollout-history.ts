import { isDeepStrictEqual } from 'node:util';
import type { V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';

/**
 * A Deployment's rollout history, read the way kubectl reads it: each ReplicaSet the Deployment
 * owns is one revision (annotation deployment.kubernetes.io/revision) and holds that revision's
 * pod template. Pure functions, so the choice `rollout undo` makes can be tested on its own.
 */

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** Added by the ReplicaSet controller to each ReplicaSet's template; not part of what a user wrote. */
export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** Annotations a ReplicaSet carries that are bookkeeping, not the revision's (kubectl's annotationsToSkip). */
const ANNOTATIONS_NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

export interface Revision {
  revision: number;
  replicaSet: string;
  template: V1PodTemplateSpec;
  /** The ReplicaSet's annotations that `rollout undo` copies back onto the Deployment. */
  annotations: Record<string, string>;
  changeCause?: string;
  images: string[];
  replicas: number;
  readyReplicas: number;
}

export function revisionNumber(rs: V1ReplicaSet): number | undefined {
  const text = rs.metadata?.annotations?.[REVISION_ANNOTATION];
  const n = text === undefined ? NaN : Number(text);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The Deployment's revisions, oldest first; ReplicaSets it does not own (by uid) are ignored. */
export function rolloutHistory(deployment: V1Deployment, replicaSets: V1ReplicaSet[]): Revision[] {
  const uid = deployment.metadata?.uid;
  const owned = replicaSets.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.controller && o.uid === uid));
  const revisions: Revision[] = [];
  for (const rs of owned) {
    const revision = revisionNumber(rs);
    if (revision === undefined || !rs.spec?.template) continue;
    const annotations = Object.fromEntries(
      Object.entries(rs.metadata?.annotations ?? {}).filter(([k]) => !ANNOTATIONS_NOT_COPIED.has(k)),
    );
    revisions.push({
      revision,
      replicaSet: rs.metadata?.name ?? '',
      template: rs.spec.template,
      annotations,
      ...(annotations[CHANGE_CAUSE_ANNOTATION] ? { changeCause: annotations[CHANGE_CAUSE_ANNOTATION] } : {}),
      images: (rs.spec.template.spec?.containers ?? []).map((c) => c.image ?? ''),
      replicas: rs.status?.replicas ?? 0,
      readyReplicas: rs.status?.readyReplicas ?? 0,
    });
  }
  return revisions.sort((a, b) => a.revision - b.revision);
}

/** A pod template without the controller's pod-template-hash label: what the user wrote. */
export function withoutTemplateHash(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const copy = structuredClone(template);
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[POD_TEMPLATE_HASH];
  }
  return copy;
}

/** kubectl's equalIgnoreHash: the same template, whatever the pod-template-hash label says. */
export function sameTemplate(a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec | undefined): boolean {
  if (!a || !b) return false;
  return isDeepStrictEqual(normalise(withoutTemplateHash(a)), normalise(withoutTemplateHash(b)));
}

/** Drops undefined and empty-object fields so a template read back from the API compares equal to the one sent. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const n = normalise(v);
      if (n === undefined) continue;
      if (n && typeof n === 'object' && !Array.isArray(n) && Object.keys(n).length === 0) continue;
      out[k] = n;
    }
    return out;
  }
  return value;
}

export type RollbackChoice =
  | { kind: 'rollback'; from: number; to: Revision }
  | { kind: 'already-there'; revision: Revision }
  | { kind: 'no-history'; message: string };

/**
 * What `kubectl rollout undo [--to-revision=N]` rolls back to. Without a revision: the highest
 * revision below the current (highest) one. With one: that revision, which must exist. When the
 * Deployment already runs that template, kubectl skips the rollback and so does this.
 */
export function chooseRollback(deployment: V1Deployment, history: Revision[], toRevision?: number): RollbackChoice {
  const name = deployment.metadata?.name ?? '?';
  if (history.length === 0) return { kind: 'no-history', message: `deployment "${name}" has no rollout history (no ReplicaSet it owns carries a revision)` };
  const current = history[history.length - 1]!.revision;
  let target: Revision | undefined;
  if (toRevision === undefined) {
    target = history.length >= 2 ? history[history.length - 2] : undefined;
    if (!target) return { kind: 'no-history', message: `deployment "${name}" has only revision ${current}: there is no previous revision to roll back to` };
  } else {
    target = history.find((r) => r.revision === toRevision);
    if (!target) {
      return {
        kind: 'no-history',
        message: `deployment "${name}" has no revision ${toRevision} (revisions kept: ${history.map((r) => r.revision).join(', ')})`,
      };
    }
  }
  if (sameTemplate(deployment.spec?.template, target.template)) return { kind: 'already-there', revision: target };
  return { kind: 'rollback', from: current, to: target };
}

/**
 * The JSON Patch `rollout undo` sends: the revision's template (without its hash label), and as
 * annotations the Deployment's bookkeeping ones plus the revision's own (its change-cause), as
 * kubectl builds them.
 */
export function rollbackPatch(deployment: V1Deployment, target: Revision): Array<{ op: 'replace'; path: string; value: unknown }> {
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(deployment.metadata?.annotations ?? {})) if (ANNOTATIONS_NOT_COPIED.has(k)) annotations[k] = v;
  Object.assign(annotations, target.annotations);
  return [
    { op: 'replace', path: '/spec/template', value: withoutTemplateHash(target.template) },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ];
}
