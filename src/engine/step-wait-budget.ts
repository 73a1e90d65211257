/**
 * A recovery step that waits gives up a little before the engine's own step timeout, so it can
 * fail with what it saw (the last rollout message, the last health check) rather than a bare
 * STEP_TIMEOUT. The scenario rules use the same budget to refuse waits that could never fit.
 */
export function waitBudgetMs(stepTimeoutMs: number): number {
  return Math.max(1000, stepTimeoutMs - Math.min(5000, stepTimeoutMs / 10));
}
