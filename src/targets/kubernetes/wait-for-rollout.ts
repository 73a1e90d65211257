import type { V1Deployment } from '@kubernetes/client-node';
import { sleep } from '../../engine/clock.js';
import type { KubeApi } from './kube-api.js';
import { rolloutState, type RolloutState } from './rollout-state.js';

export interface RolloutWaitResult {
  deployment: string;
  state: RolloutState;
  waitedMs: number;
}

/**
 * `kubectl rollout status --timeout`: polls one Deployment until it has rolled out, its progress
 * deadline is exceeded, or `timeoutMs` passes. Returns the last reading; the caller decides
 * whether not done is a failure.
 */
export async function waitForRollout(
  api: KubeApi,
  namespace: string,
  name: string,
  options: { timeoutMs: number; signal?: AbortSignal; pollMs?: number },
): Promise<RolloutWaitResult> {
  const started = Date.now();
  for (;;) {
    options.signal?.throwIfAborted();
    const deployment: V1Deployment = await api.apps.readNamespacedDeployment({ name, namespace });
    const state = rolloutState(deployment);
    const waitedMs = Date.now() - started;
    if (state.done || state.failed || waitedMs >= options.timeoutMs) return { deployment: name, state, waitedMs };
    await sleep(Math.min(options.pollMs ?? 250, Math.max(1, options.timeoutMs - waitedMs)), options.signal);
  }
}
