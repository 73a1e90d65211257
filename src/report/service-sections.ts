/**
 * The incident report's sections about the service under drill: the runbook's "Recovery
 * Validation" (smoke checks, load runs) and "Monitoring & Alerting During Recovery" (response
 * times, error rates, error log lines). Description only: verdicts come from journal.verdicts.
 */
import type { Journal, ServiceMonitorSample } from '../engine/journal-types.js';
import { cell, code, duration } from './markdown.js';

/** Undefined when the run has nothing of the kind (no service, nothing planned). */
export function recoveryValidation(journal: Journal): string | undefined {
  const smoke = journal.smoke ?? [];
  const load = journal.load ?? [];
  if (!smoke.length && !load.length) return undefined;
  const out: string[] = [];
  if (smoke.length) {
    out.push('Smoke tests (runbook "Post-Recovery Testing"), each check through the service as a user:');
    out.push('');
    out.push(
      table(
        ['Phase', 'Check', 'Result', 'Time', 'Detail'],
        smoke.flatMap((run) =>
          run.checks.map((c) => [run.phase, code(c.name), c.status === 'passed' ? 'PASS' : '**FAIL**', `${c.ms} ms`, c.error ?? c.title]),
        ),
      ),
    );
  }
  if (load.length) {
    if (out.length) out.push('');
    out.push('Load runs (runbook "Performance Validation"):');
    out.push('');
    out.push(
      table(
        ['Phase', 'Driver', 'Path', 'Responses', 'Time', 'Req/s', 'p50', 'p90', 'p99', 'Errors', 'Non-2xx', 'Stopped by'],
        load.map((r) => [
          r.phase,
          r.driver,
          code(r.path),
          `${r.responses} of ${r.settings.requests}`,
          duration(r.durationMs),
          String(r.requestsPerSecond),
          `${r.latencyMs.p50} ms`,
          `${r.latencyMs.p90} ms`,
          `${r.latencyMs.p99} ms`,
          String(r.errors),
          String(r.non2xx),
          r.stoppedBy,
        ]),
      ),
    );
  }
  return out.join('\n');
}

interface Window {
  label: string;
  from: number;
  to: number;
}

/**
 * Baseline, injecting (an injector may stop the server before the fault is in effect), outage
 * (T_fault to the restored instant, or to the end of recovery), after.
 */
function windows(journal: Journal): Window[] {
  const tFault = journal.marks.tFault?.t;
  if (tFault === undefined) return [{ label: 'whole run', from: -Infinity, to: Infinity }];
  const baselineEnd = Math.min(journal.phases.find((p) => p.name === 'baseline')?.end?.t ?? tFault, tFault);
  const restored = journal.measurements.rtoMs !== undefined ? tFault + journal.measurements.rtoMs : (journal.marks.tRecoveryEnd?.t ?? Infinity);
  return [
    { label: 'baseline', from: -Infinity, to: baselineEnd },
    { label: 'injecting the fault', from: baselineEnd, to: tFault },
    { label: 'fault to restored', from: tFault, to: restored },
    { label: 'after restored', from: restored, to: Infinity },
  ];
}

const max = (values: number[]) => (values.length ? Math.max(...values) : undefined);
const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined);
const fixed = (n: number | undefined, unit = '') => (n === undefined ? '—' : `${Math.round(n * 10) / 10}${unit}`);

export function serviceMonitoring(journal: Journal): string | undefined {
  const samples = journal.serviceMonitoring ?? [];
  if (!samples.length) return undefined;
  // Kubernetes reports container restarts (the runbook's "pod restarts"); plain processes do not.
  const hasRestarts = samples.some((s) => s.restarts !== undefined);
  const rows = windows(journal).flatMap(({ label, from, to }) => {
    const inWindow = samples.filter((s) => s.t >= from && s.t < to);
    if (inWindow.length === 0 && label === 'injecting the fault') return [];
    const pick = (f: (s: ServiceMonitorSample) => number | undefined) => inWindow.map(f).filter((v): v is number => v !== undefined);
    return [[
      label,
      String(inWindow.length),
      fixed(mean(pick((s) => s.requestsPerSecond))),
      fixed(max(pick((s) => s.p50Ms)), ' ms'),
      fixed(max(pick((s) => s.p99Ms)), ' ms'),
      fixed(max(pick((s) => s.serverErrorsPerSecond))),
      String(inWindow.reduce((n, s) => n + s.errorLogLines, 0)),
      fixed(max(pick((s) => s.errorLogLinesPerSecond))),
      String(max(pick((s) => s.unreachable)) ?? 0),
      ...(hasRestarts ? [String(inWindow.reduce((n, s) => n + (s.restarts ?? 0), 0))] : []),
    ]];
  });
  return [
    'Sampled once a second from every instance\'s `/metrics` (deltas of the request counters and the latency histogram) and its log (`"level":"ERROR"` lines), as `curl -w … /health` and `kubectl logs … | grep ERROR` would watch it:',
    '',
    table(['Window', 'Samples', 'Mean req/s', 'Max p50', 'Max p99', 'Max 5xx/s', 'ERROR lines', 'Max ERROR lines/s', 'Max instances unreachable', ...(hasRestarts ? ['Container restarts'] : [])], rows),
  ].join('\n');
}

function table(header: string[], rows: string[][]): string {
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}
