import { describe, expect, it } from 'vitest';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { EnvironmentError } from '../../src/engine/errors.js';
import { requireOwnControlPlane } from '../../src/recovery/rotate-signing-key.js';
import type { KubernetesCluster } from '../../src/targets/kubernetes/types.js';

// The guard alone, for the clusters a test cannot cheaply have for real (kind, no Kubernetes at
// all); test/kubernetes/k8s-signing-key-rotation.test.ts checks it on real control planes.
const ctxWith = (cluster: Partial<KubernetesCluster> | undefined, provider = 'local') =>
  ({ has: (part: string) => part === 'k8s' && cluster !== undefined, k8s: cluster ? { cluster, provider } : undefined }) as unknown as DrillContext;
const rotate = async () => ({}) as never;

describe('requireOwnControlPlane', () => {
  it('accepts only a local cluster with the rotation capability, on the local provider', () => {
    expect(typeof requireOwnControlPlane(ctxWith({ kind: 'local', name: 'local-x', rotateServiceAccountSigningKey: rotate }))).toBe('function');
  });

  it.each([
    ['kind', ctxWith({ kind: 'kind', name: 'drill-kind' }, 'kind'), /cluster "drill-kind" \(kind, provider kind\) was not started by this drill/],
    ['a running local cluster (DRILL_KUBECONFIG)', ctxWith({ kind: 'kubeconfig', name: 'drill-local' }), /cluster "drill-local" \(kubeconfig, provider local\) was not started/],
    ['a capability on the wrong provider', ctxWith({ kind: 'local', name: 'x', rotateServiceAccountSigningKey: rotate }, 'kubeconfig'), /provider kubeconfig\) was not started/],
    ['no Kubernetes', ctxWith(undefined), /the drill has no Kubernetes target whose signing key it could rotate\. Run the scenario/],
  ])('refuses %s: exit 3, SIGNING_KEY_NOT_OURS, saying nothing was touched', (_what, ctx, message) => {
    let error: unknown;
    try {
      requireOwnControlPlane(ctx);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error).toMatchObject({ code: 'SIGNING_KEY_NOT_OURS', kind: 'environment', message: expect.stringMatching(message) });
    expect((error as Error).message).toMatch(/Nothing was touched\.$/);
  });
});
