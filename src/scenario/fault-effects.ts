import type { Fault, Scenario } from './schema.js';

/**
 * Faults that take nothing down: with a leaked credential the service works as before (for the
 * attacker too), so no service probe fails and detection by probes does not apply. What such a
 * drill judges instead is how soon the credential stopped working (revocation) and that
 * legitimate users were not locked out with it (blast-radius). A network fault on the replication
 * link of asynchronous replicas is silent too: commits do not wait for them, so the application
 * sees nothing while they fall behind (with synchronous replication every commit would hang); a
 * region partition is that link, between regions.
 */
function silent(fault: Fault, targets: Partial<Scenario['targets']> | undefined): boolean {
  if (fault.type === 'credential-leak') return true;
  // A region partition cuts replication between the regions; both stay up and serve.
  if (fault.type === 'region-partition') return targets?.postgres?.replication !== 'sync';
  return 'link' in fault && fault.link === 'replication' && targets?.postgres?.replication !== 'sync';
}

/** Whether a fault of the scenario makes the service fail (so a service probe can detect it). */
export function causesOutage(scenario: Pick<Scenario, 'faults'> & { targets?: Partial<Scenario['targets']> }): boolean {
  return scenario.faults.some((fault) => !silent(fault, scenario.targets));
}

/** Whether the scenario leaks a credential (revocation and blast-radius are judged). */
export function leaksCredentials(scenario: Pick<Scenario, 'faults'>): boolean {
  return scenario.faults.some((fault) => fault.type === 'credential-leak');
}

/** Whether a fault of the scenario breaks WAL archiving (archiving is then judged after recovery). */
export function breaksArchiving(scenario: Pick<Scenario, 'faults'>): boolean {
  return scenario.faults.some((fault) => fault.type === 'wal-archive-stuck');
}
