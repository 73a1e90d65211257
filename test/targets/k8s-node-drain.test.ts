import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { drainPlan, podsToWaitFor } from '../../src/targets/kubernetes/node-drain.js';

const pod = (name: string, extra: { owner?: string; mirror?: boolean; emptyDir?: boolean; uid?: string; deletion?: Date } = {}): V1Pod => ({
  metadata: {
    name,
    namespace: 'ns',
    uid: extra.uid ?? name,
    ...(extra.deletion ? { deletionTimestamp: extra.deletion } : {}),
    ...(extra.mirror ? { annotations: { 'kubernetes.io/config.mirror': 'x' } } : {}),
    ...(extra.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: extra.owner, name: 'o', uid: 'o', controller: true }] } : {}),
  },
  spec: { containers: [], ...(extra.emptyDir ? { volumes: [{ name: 'scratch', emptyDir: {} }] } : {}) },
});

describe('drainPlan (kubectl drain --ignore-daemonsets --delete-emptydir-data --force)', () => {
  it('evicts managed, unmanaged and emptyDir pods; leaves DaemonSet and mirror pods; warns about what is lost', () => {
    const plan = drainPlan([
      pod('web', { owner: 'ReplicaSet' }),
      pod('agent', { owner: 'DaemonSet' }),
      pod('static', { mirror: true }),
      pod('bare'),
      pod('cache', { owner: 'ReplicaSet', emptyDir: true }),
    ]);
    expect(plan.evict.map((p) => p.metadata?.name)).toEqual(['web', 'bare', 'cache']);
    expect(plan.skipped).toEqual([
      { pod: 'ns/agent', why: 'DaemonSet-managed (--ignore-daemonsets)' },
      { pod: 'ns/static', why: 'mirror (static) pod' },
    ]);
    expect(plan.warnings).toEqual([
      'deleting ns/bare: not managed by a controller, it will not come back (--force)',
      'deleting ns/cache: its emptyDir data is lost (--delete-emptydir-data)',
    ]);
  });
});

describe('podsToWaitFor (--skip-wait-for-delete-timeout)', () => {
  const now = Date.parse('2026-01-01T00:01:00Z');
  const pods = [
    pod('a', { deletion: new Date('2026-01-01T00:00:50Z') }),
    pod('b', { deletion: new Date('2026-01-01T00:00:58Z') }),
    pod('c'),
    pod('other'),
  ];
  const evicted = new Set(['a', 'b', 'c']);

  it('waits for every evicted pod still there when the timeout is 0', () => {
    expect(podsToWaitFor(pods, evicted, 0, now).map((p) => p.metadata?.name)).toEqual(['a', 'b', 'c']);
  });

  it('stops waiting for pods whose deletionTimestamp is further past than the timeout', () => {
    expect(podsToWaitFor(pods, evicted, 5000, now).map((p) => p.metadata?.name)).toEqual(['b', 'c']);
  });
});
