import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { rolloutState } from '../../src/targets/kubernetes/rollout-state.js';

const d = (status: NonNullable<V1Deployment['status']>, generation = 2, replicas = 3): V1Deployment => ({
  metadata: { name: 'api', generation },
  spec: { replicas, selector: {}, template: {} },
  status,
});

describe('rolloutState (kubectl rollout status)', () => {
  it('waits for the controller to observe the new generation first', () => {
    expect(rolloutState(d({ observedGeneration: 1, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }))).toEqual({
      done: false,
      failed: false,
      message: 'waiting for deployment "api" spec update to be observed',
    });
  });

  it('reports each stage of a rolling update with kubectl\'s words', () => {
    expect(rolloutState(d({ observedGeneration: 2, updatedReplicas: 1, replicas: 4, availableReplicas: 2 })).message).toBe(
      'waiting for deployment "api" rollout to finish: 1 out of 3 new replicas have been updated',
    );
    expect(rolloutState(d({ observedGeneration: 2, updatedReplicas: 3, replicas: 4, availableReplicas: 3 })).message).toBe(
      'waiting for deployment "api" rollout to finish: 1 old replicas are pending termination',
    );
    expect(rolloutState(d({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 2 })).message).toBe(
      'waiting for deployment "api" rollout to finish: 2 of 3 updated replicas are available',
    );
  });

  it('is done when every replica is updated and available and no old one is left', () => {
    expect(rolloutState(d({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }))).toEqual({
      done: true,
      message: 'deployment "api" successfully rolled out',
    });
  });

  it('fails at once when the progress deadline is exceeded', () => {
    const state = rolloutState(
      d({ observedGeneration: 2, updatedReplicas: 1, replicas: 4, availableReplicas: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }),
    );
    expect(state).toEqual({ done: false, failed: true, message: 'deployment "api" exceeded its progress deadline' });
  });
});
