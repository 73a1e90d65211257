/**
 * The runbook's rollback procedures, whose end is announced with notifications.on: rollback
 * (auto-rollback.sh calls send-rollback-success.sh / send-rollback-failure.sh; the circuit breaker
 * runs auto-rollback.sh when it trips). The scenario rules and the engine's notice read this one list.
 */
export const ROLLBACK_STEPS: ReadonlySet<string> = new Set(['k8s-rollout-undo', 'k8s-auto-rollback', 'k8s-circuit-breaker', 'migration-rollback']);
