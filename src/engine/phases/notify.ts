import { detectionAlert, resolutionMessage } from '../../notify/drill-messages.js';
import { verifiedRestoration } from '../../notify/journal-facts.js';
import { causesOutage } from '../../scenario/fault-effects.js';
import type { PhaseTask } from './phase-task.js';

/**
 * Between detect and recover: the automatic "Initial Alert" (notifications.on: detection). It is
 * started, not awaited: the runbook does not wait for the message to arrive.
 */
export const alertOnDetection: PhaseTask = {
  title: 'send the Initial Alert',
  abortable: false,
  teardown: [{ title: 'stop notifications', run: (run) => run.context.notifier.stop() }],
  async run(run) {
    const { journal, recorder } = run;
    const notifier = run.context.notifier;
    if (!notifier.sendsOn('detection')) return;
    // A fault no probe can see (a leaked credential) starts the runbook at once: that is its detection.
    if (!journal.marks.tDetected && causesOutage(run.scenario)) {
      recorder.event('notification-not-sent', 'no Initial Alert on detection: no service probe detected the fault');
      return;
    }
    notifier.send('detection', (now) => detectionAlert(journal, notifier.incidentId(now), now, notifier.promisedEvery));
  },
};

/**
 * Between stopping the probes and judging: the automatic "Resolution Notice" once recovery is
 * verified (the restored instant by the RTO's definition, and the verify phase done), then every
 * delivery still going is awaited, so the journal the judge reads has their outcome.
 */
export const resolutionNotice: PhaseTask = {
  title: 'send the Resolution Notice, wait for deliveries',
  abortable: true,
  async run(run) {
    const { journal, recorder } = run;
    const notifier = run.context.notifier;
    if (!notifier.enabled) return;
    // The incident is over either way: the last update came before this, never after the notice.
    await notifier.stopUpdates();
    if (notifier.sendsOn('resolution')) {
      const restored = verifiedRestoration(journal);
      if (restored && journal.marks.tVerified) {
        notifier.send('resolution', (now) => resolutionMessage(journal, restored, notifier.incidentId(now)));
      } else {
        recorder.event('notification-not-sent', 'no Resolution Notice: recovery was not verified (the service was not back for a whole stability window)');
      }
    }
    await notifier.settled();
  },
};
