import { DbMonitor, MONITOR_INTERVAL_MS } from '../../workload/db-monitor.js';
import { ProbeRunner } from '../../workload/probes/probe-runner.js';
import { ServiceMonitor } from '../../workload/service-monitor.js';
import { buildProbes } from '../build-probes.js';
import type { PhaseTask } from './phase-task.js';

/** What watches the system from baseline to verify. */
export interface Observers {
  /** The scenario's probes; started by the baseline phase, so the steady state is what they saw. */
  probes: ProbeRunner;
  /** The runbook's "Monitor replication lag" / "Monitor database connections", when the drill has a PostgreSQL. */
  database?: DbMonitor;
  /** The runbook's "Monitoring & Alerting During Recovery" for the application, when the drill has a service. */
  service?: ServiceMonitor;
}

/** Between provision and baseline: the probes are built (not started yet) and the monitors started. */
export const startObserving: PhaseTask = {
  title: 'start the probes and monitors',
  abortable: false,
  teardown: [
    { title: 'stop probes', run: (run) => run.observers?.probes.stop() },
    { title: 'stop database monitor', run: (run) => run.observers?.database?.stop() },
    { title: 'stop service monitor', run: (run) => run.observers?.service?.stop() },
  ],
  async run(run) {
    const { clock, journal, recorder } = run;
    const ctx = run.context;
    const observers: Observers = { probes: new ProbeRunner(buildProbes(run.scenario, ctx), clock, (s) => recorder.probe(s), ctx.probeGate) };
    run.observers = observers;
    if (ctx.has('pg')) {
      observers.database = new DbMonitor({ router: ctx.router, deployment: ctx.pg, clock, intervalMs: MONITOR_INTERVAL_MS, record: (m) => (journal.monitoring ??= []).push(m) });
      observers.database.start();
    }
    // Response times, error rates and error log lines of the service.
    if (ctx.has('service')) {
      observers.service = new ServiceMonitor({ service: ctx.service, clock, intervalMs: MONITOR_INTERVAL_MS, record: (m) => (journal.serviceMonitoring ??= []).push(m) });
      observers.service.start();
    }
  },
};

/** Between verify and judge: the last samples are in before the journal is judged. */
export const stopObserving: PhaseTask = {
  title: 'stop the probes and monitors',
  abortable: false,
  async run(run) {
    await run.observers?.probes.stop();
    await run.observers?.database?.stop();
    await run.observers?.service?.stop();
  },
};
