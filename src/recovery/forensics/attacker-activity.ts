import type { ForensicCollector } from './collected-file.js';

/**
 * The attacker-relevant part of the journal as it stood at the collection: the leaked credentials
 * (fingerprints, never values), every attacker attempt and every event inside the window, and the
 * runbook steps so far. The journal goes on changing after this; the extract is what the
 * responder saw when the evidence was taken.
 */
export const attackerActivity: ForensicCollector = {
  kind: 'attacker-activity',
  unavailable: () => undefined,
  collect(ctx, window) {
    const journal = ctx.recorder.journal;
    const inWindow = (t: number) => t >= window.from.t && t <= window.to.t;
    const extract = {
      runId: ctx.runId,
      window,
      credentials: journal.attacker?.credentials ?? [],
      attempts: (journal.attacker?.attempts ?? []).filter((a) => inWindow(a.t)),
      events: journal.events.filter((e) => inWindow(e.t)),
      steps: journal.steps.map((s) => ({ name: s.name, title: s.title, start: s.start, ...(s.end ? { end: s.end } : {}), status: s.status })),
      marks: journal.marks,
    };
    return Promise.resolve([
      { name: 'attacker-activity.json', text: JSON.stringify(extract, null, 2), json: true, how: 'extract of the run journal (leaked credentials, attacker attempts and events in the window)' },
    ]);
  },
};
