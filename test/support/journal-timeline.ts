import { formatTime } from '../../src/assertions/probes.js';
import type { Journal } from '../../src/engine/journal-types.js';

/**
 * What happened in a drill, in a few lines on the drill's clock relative to T_fault: the marks, the
 * runbook steps, the events after the fault, and each probe's samples folded into runs of passes
 * and failures. Printed when a catalogue drill's outcome disagrees with its tag, because the run
 * directory a CI machine kept is gone once the machine is: the log is all that is left to read.
 */
export function journalTimeline(journal: Journal): string {
  const tFault = journal.marks.tFault?.t;
  const zero = tFault ?? 0;
  // The judge's own notation (T_fault+2.1s), so the timeline reads like the verdicts beside it.
  const at = (t: number) => formatTime(t, tFault);
  const lines: string[] = [];
  lines.push(`marks: ${Object.entries(journal.marks).map(([name, stamp]) => `${name} ${at(stamp.t)}`).join(', ')}`);
  for (const step of journal.steps) {
    const end = step.end ? at(step.end.t) : 'unfinished';
    lines.push(`step ${step.name}: ${at(step.start.t)} .. ${end} ${step.status}${step.error ? ` (${step.error.code}: ${clip(step.error.message)})` : ''}`);
  }
  for (const event of journal.events) {
    if (event.t >= zero) lines.push(`event ${at(event.t)} ${event.kind}: ${clip(event.message)}`);
  }
  for (const name of [...new Set(journal.probes.map((p) => p.probe))]) {
    const samples = journal.probes.filter((p) => p.probe === name && p.t >= zero);
    lines.push(`probe ${name}: ${foldRuns(samples, at)}`);
  }
  return lines.join('\n');
}

function foldRuns(samples: Journal['probes'], at: (t: number) => string): string {
  const runs: string[] = [];
  let i = 0;
  while (i < samples.length) {
    let j = i;
    while (j + 1 < samples.length && samples[j + 1]!.ok === samples[i]!.ok) j += 1;
    const first = samples[i]!;
    const last = samples[j]!;
    const count = j - i + 1;
    runs.push(first.ok ? `ok ${at(first.t)}..${at(last.t)} (${count})` : `FAIL ${at(first.t)}..${at(last.t)} (${count}; last: ${clip(last.error ?? '', 80)})`);
    i = j + 1;
  }
  return runs.join(', ') || 'no samples after T_fault';
}

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
