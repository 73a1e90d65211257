import type { V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { chooseRollback, rollbackPatch, rolloutHistory, sameTemplate } from '../../src/targets/kubernetes/rollout-history.js';

const UID = 'dep-uid';
const template = (image: string, hash?: string): V1PodTemplateSpec => ({
  metadata: { labels: { app: 'api', ...(hash ? { 'pod-template-hash': hash } : {}) } },
  spec: { containers: [{ name: 'api', image }] },
});
const rs = (revision: number, image: string, extra: Partial<{ owner: string; changeCause: string; ready: number }> = {}): V1ReplicaSet => ({
  metadata: {
    name: `api-${revision}`,
    annotations: {
      'deployment.kubernetes.io/revision': String(revision),
      'deployment.kubernetes.io/desired-replicas': '3',
      ...(extra.changeCause ? { 'kubernetes.io/change-cause': extra.changeCause } : {}),
    },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', uid: extra.owner ?? UID, controller: true }],
  },
  spec: { selector: { matchLabels: { app: 'api' } }, template: template(image, `h${revision}`) },
  status: { replicas: 3, readyReplicas: extra.ready ?? 0 },
});
const deployment = (image: string, annotations: Record<string, string> = {}): V1Deployment => ({
  metadata: { name: 'api', uid: UID, annotations: { 'deployment.kubernetes.io/revision': '3', ...annotations } },
  spec: { selector: { matchLabels: { app: 'api' } }, template: template(image) },
});

describe('rollout history (kubectl rollout history)', () => {
  it('is the owned ReplicaSets ordered by revision, ignoring other owners and unnumbered ones', () => {
    const unnumbered = rs(9, 'x');
    delete unnumbered.metadata!.annotations!['deployment.kubernetes.io/revision'];
    const history = rolloutHistory(deployment('v3'), [rs(3, 'v3'), rs(1, 'v1', { changeCause: 'TrustStram 4.4.0' }), rs(2, 'v2'), rs(4, 'other', { owner: 'x' }), unnumbered]);
    expect(history.map((r) => r.revision)).toEqual([1, 2, 3]);
    expect(history[0]).toMatchObject({ replicaSet: 'api-1', changeCause: 'TrustStram 4.4.0', images: ['v1'] });
    // Bookkeeping annotations are not the revision's own.
    expect(history[0]!.annotations).toEqual({ 'kubernetes.io/change-cause': 'TrustStram 4.4.0' });
  });
});

describe('chooseRollback (kubectl rollout undo)', () => {
  const history = rolloutHistory(deployment('v3'), [rs(1, 'v1'), rs(2, 'v2'), rs(3, 'v3')]);

  it('goes to the highest revision below the current one by default', () => {
    const choice = chooseRollback(deployment('v3'), history);
    expect(choice).toMatchObject({ kind: 'rollback', from: 3, to: { revision: 2, images: ['v2'] } });
  });

  it('goes to the named revision with toRevision', () => {
    expect(chooseRollback(deployment('v3'), history, 1)).toMatchObject({ kind: 'rollback', from: 3, to: { revision: 1 } });
  });

  it('after an undo (revision 2 renumbered 4) the previous revision is 3, as kubectl has it', () => {
    const renumbered = rolloutHistory(deployment('v2'), [rs(1, 'v1'), rs(3, 'v3'), rs(4, 'v2')]);
    expect(chooseRollback(deployment('v2'), renumbered)).toMatchObject({ kind: 'rollback', from: 4, to: { revision: 3 } });
  });

  it('skips when the Deployment already runs that template (the hash label does not count)', () => {
    expect(chooseRollback(deployment('v1'), history, 1)).toMatchObject({ kind: 'already-there', revision: { revision: 1 } });
  });

  it('refuses a revision that does not exist, naming the ones kept', () => {
    const choice = chooseRollback(deployment('v3'), history, 7);
    expect(choice).toEqual({ kind: 'no-history', message: 'deployment "api" has no revision 7 (revisions kept: 1, 2, 3)' });
  });

  it('refuses when there is only one revision', () => {
    const choice = chooseRollback(deployment('v1'), rolloutHistory(deployment('v1'), [rs(1, 'v1')]));
    expect(choice).toMatchObject({ kind: 'no-history', message: expect.stringMatching(/only revision 1/) });
  });
});

describe('rollbackPatch', () => {
  it('replaces the template (hash label removed) and the annotations as kubectl does', () => {
    const d = deployment('v3', { 'kubernetes.io/change-cause': 'TrustStram 4.4.2', team: 'payments' });
    const target = rolloutHistory(d, [rs(1, 'v1', { changeCause: 'TrustStram 4.4.0' }), rs(3, 'v3')])[0]!;
    const patch = rollbackPatch(d, target);
    expect(patch[0]).toEqual({ op: 'replace', path: '/spec/template', value: template('v1') });
    // Bookkeeping kept from the Deployment, everything else from the revision (team is dropped, as kubectl drops it).
    expect(patch[1]).toEqual({
      op: 'replace',
      path: '/metadata/annotations',
      value: { 'deployment.kubernetes.io/revision': '3', 'kubernetes.io/change-cause': 'TrustStram 4.4.0' },
    });
  });
});

describe('sameTemplate', () => {
  it('ignores the hash label and empty fields, and sees a different image', () => {
    const a = template('v1', 'abc');
    const b = { ...template('v1'), spec: { ...template('v1').spec!, volumes: undefined } };
    expect(sameTemplate(a, b)).toBe(true);
    expect(sameTemplate(a, template('v2'))).toBe(false);
    expect(sameTemplate(a, undefined)).toBe(false);
  });
});
