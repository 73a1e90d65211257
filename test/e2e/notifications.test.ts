import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rtoBoundsText } from '../../src/assertions/rto.js';
import type { Journal, NotificationRecord } from '../../src/engine/journal-types.js';
import { startReceivers } from '../notify/receivers.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { label, scanFiles } from './secret-scan.js';

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-notify-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));
const fixture = (name: string) => path.join(ROOT, 'test/fixtures/scenarios', name);

const records = (journal: Journal, template: NotificationRecord['template'], trigger?: NotificationRecord['trigger']) =>
  (journal.notifications ?? []).filter((r) => r.template === template && (trigger === undefined || r.trigger === trigger));

describe('notifications in a real drill (native PostgreSQL, real CLI, receivers on 127.0.0.1)', () => {
  it('the Initial Alert on detection and from the notify step, the Resolution Notice after verified recovery, on every channel; no secret in the run dir', async () => {
    const receivers = await startReceivers();
    try {
      const result = await runCli(['run', fixture('notify-migration-rollback.yaml'), '--reports-dir', reportsDir], { env: receivers.env });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const runDir = runDirFrom(result.stdout, reportsDir);
      const journal = readJournal(runDir);
      const verdict = journal.verdicts.find((v) => v.check === 'notification')!;
      expect(verdict.status, verdict.message).toBe('passed');

      // Every channel got three messages: the alert on detection, the notify step's, the notice.
      const { slack, hook, smtp } = receivers;
      expect(slack.posts.map((p) => p.path)).toEqual(Array(3).fill(`/services/${receivers.env.DRILL_TEST_HOOK_TOKEN}`));
      expect(hook.posts.map((p) => p.body.template)).toEqual(['initial-alert', 'initial-alert', 'resolution-notice']);
      expect(smtp.mails).toHaveLength(3);
      expect(smtp.mails.every((m) => m.user === 'drill' && m.to.join() === 'oncall@example.test')).toBe(true);

      const tDetected = journal.marks.tDetected!.t;
      const [detected, stepped, resolved] = hook.posts.map((p) => p.body);
      // The Initial Alert on detection: the template's fields, filled from the journal.
      expect(detected).toMatchObject({ drill: true, subject: '[DRILL] [URGENT] TrustStram Service Incident - P1', severity: 'P1', status: 'Investigating', runId: journal.runId });
      expect(detected!.incidentId).toMatch(/^DRILL-\d{8}-\d{6}$/);
      expect(detected!.impact).toMatch(/^service probes failing since T_fault\+\S+: transfers-readable \(.*column "amount" does not exist/);
      const tFault = journal.marks.tFault!;
      expect(detected!.eta).toBe(`${new Date(Date.parse(tFault.wall) + 5 * 60_000).toISOString()} (the RTO objective: 5m after the fault at ${tFault.wall})`);
      expect(detected!.body).toContain('DRILL - this is a chaos drill');
      expect(detected!.body).toContain('We are actively working to resolve this issue and will provide updates every 15 minutes.');
      // The notify step: runbook Step 2, STATUS Mitigating, its message, the same incident.
      expect(stepped).toMatchObject({ status: 'Mitigating', message: 'Initiating emergency rollback for TrustStram v4.4 (schema migration 008)', incidentId: detected!.incidentId });
      // The Resolution Notice quotes the drill's own measurements.
      expect(resolved).toMatchObject({ subject: `[DRILL] [RESOLVED] TrustStram Service Incident - ${String(detected!.incidentId)}`, resolutionTime: rtoBoundsText(journal.measurements) });
      const faultMessages = journal.events.filter((e) => e.kind === 'fault').map((e) => e.message);
      expect(resolved!.rootCause).toBe(`${faultMessages.join('; ')} (injected by the drill)`);
      expect(resolved!.actionsTaken).toMatch(/^Stakeholder notification \(send emergency alert\) \(passed, .*\); Rollback database migrations \(passed, .*\); Verify schema state \(passed, .*\)$/);

      // Slack and email carry the same text as the webhook's body.
      expect(slack.posts[2]!.body.text).toBe(`${String(resolved!.subject)}\n\n${String(resolved!.body)}`);
      expect(smtp.mails.map((m) => m.subject)).toEqual(hook.posts.map((p) => p.body.subject));
      expect(smtp.mails[2]!.text).toBe(resolved!.body);

      // The journal: every message delivered at its first attempt, on the drill's clock; the check's measurement is the last channel's.
      expect(journal.notifications).toHaveLength(9);
      for (const record of journal.notifications!) {
        expect(record.delivered, `${record.channel} ${record.template}`).toBe(true);
        expect(record.attempts.map((a) => a.outcome)).toEqual(['accepted']);
        expect(record.tDelivered).toBe(record.attempts[0]!.tEnd);
        expect(record.latencyMs).toBe(record.tDelivered! - record.t);
        // Scheme, host and port only: the URL's path holds the token (the port came from ${VAR}, so it is redacted too).
        expect(record.destination).toMatch(/^(http|smtp):\/\/127\.0\.0\.1:[^/]+$/);
      }
      const firstAlerts = records(journal, 'initial-alert', 'detection');
      expect(firstAlerts.every((r) => r.t >= tDetected)).toBe(true);
      // Per channel the first Initial Alert it had (the detection's or the step's), then the last channel.
      const firstPerChannel = ['ops-slack', 'incident-hook', 'oncall-mail'].map((channel) =>
        Math.min(...records(journal, 'initial-alert').filter((r) => r.channel === channel).map((r) => r.tDelivered!)),
      );
      expect(journal.measurements.notificationLatencyMs).toBe(Math.max(...firstPerChannel) - tDetected);
      expect(verdict.measured).toBe(journal.measurements.notificationLatencyMs);
      expect(records(journal, 'resolution-notice').every((r) => r.t >= journal.marks.tVerified!.t)).toBe(true);

      // Neither the webhook token nor the SMTP password is anywhere in the run directory or the output.
      const { files, hits } = scanFiles(runDir, receivers.secrets);
      expect(files).toContain('journal.json');
      expect(hits).toEqual([]);
      for (const secret of receivers.secrets) expect(result.stdout + result.stderr, label(secret)).not.toContain(secret);
      expect(leftovers(runDir)).toEqual([]);
    } finally {
      await receivers.close();
    }
  });

  it('negative control: a webhook that answers 500 fails the notification check only, after its bounded retries', async () => {
    const receivers = await startReceivers(() => 500);
    try {
      const result = await runCli(['run', fixture('notify-channel-down.yaml'), '--reports-dir', reportsDir], { env: receivers.env });
      expect(result.code, result.stdout + result.stderr).toBe(1);
      const journal = readJournal(runDirFrom(result.stdout, reportsDir));
      const failed = journal.verdicts.filter((v) => v.status === 'failed');
      expect(failed.map((v) => v.check)).toEqual(['notification']);
      expect(failed[0]!.message).toMatch(/the Initial Alert never reached incident-hook \(4 attempts; last: HTTP 500: receiver says no\)/);
      expect(failed[0]!.message).toMatch(/the Resolution Notice never reached incident-hook/);
      expect(journal.verdicts.find((v) => v.check === 'rto')?.status).toBe('passed');
      // Two attempts per message (attempts: 2), three messages; the other channels got theirs.
      expect(receivers.hook.requests).toBe(6);
      expect(receivers.slack.posts).toHaveLength(3);
      expect(receivers.smtp.mails).toHaveLength(3);
      const hookRecords = journal.notifications!.filter((r) => r.channel === 'incident-hook');
      expect(hookRecords.map((r) => [r.delivered, r.attempts.map((a) => a.status)])).toEqual(Array(3).fill([false, [500, 500]]));
      expect(journal.events.filter((e) => e.kind === 'notification-failed')).toHaveLength(3);
    } finally {
      await receivers.close();
    }
  });

  it('activate-incident-response announces the declared incident (breach type, leaked fingerprint) and the Resolution Notice closes the same incident', async () => {
    const receivers = await startReceivers();
    try {
      const result = await runCli(['run', fixture('notify-incident-response.yaml'), '--reports-dir', reportsDir], { env: receivers.env });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const runDir = runDirFrom(result.stdout, reportsDir);
      const journal = readJournal(runDir);
      expect(journal.verdicts.find((v) => v.check === 'notification')?.status).toBe('passed');
      const incident = journal.incident!;
      expect(incident.id).toBe(`SEC-${journal.runId}`);
      expect(incident.notification).toBe(`Initial Alert (incident ${incident.id}) handed to incident-hook; delivery is judged by the notification check`);
      // on: [resolution] and no notify step: the declaration is the only Initial Alert.
      const [declared, resolved] = receivers.hook.posts.map((p) => p.body);
      expect(receivers.hook.posts.map((p) => p.body.template)).toEqual(['initial-alert', 'resolution-notice']);
      expect(declared).toMatchObject({ status: 'Investigating', severity: 'P0', incidentId: incident.id });
      expect(declared!.message).toBe(`Security incident response activated: breach type credential-leak; leaked credential(s) ${incident.credentials.join(', ')}.`);
      expect(incident.credentials).toHaveLength(1);
      expect(resolved).toMatchObject({ subject: `[DRILL] [RESOLVED] TrustStram Service Incident - ${incident.id}`, incidentId: incident.id });
      expect(records(journal, 'initial-alert', 'incident-response')).toHaveLength(1);
      const step = journal.steps.find((s) => s.name === 'activate-incident-response')!;
      expect(step.output).toMatchObject({ notified: true, channels: ['incident-hook'] });
      const { hits } = scanFiles(runDir, receivers.secrets);
      expect(hits).toEqual([]);
      expect(leftovers(runDir)).toEqual([]);
    } finally {
      await receivers.close();
    }
  });
});
