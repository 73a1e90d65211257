import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Journal, NotificationRecord } from '../../src/engine/journal-types.js';
import { startReceivers } from '../notify/receivers.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { label, scanFiles } from './secret-scan.js';

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-notify-updates-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));
const fixture = (name: string) => path.join(ROOT, 'test/fixtures/scenarios', name);

const of = (journal: Journal, template: NotificationRecord['template'], channel?: string) =>
  (journal.notifications ?? []).filter((r) => r.template === template && (channel === undefined || r.channel === channel));

describe('updates and rollback messages in a real drill (native PostgreSQL, real CLI, receivers on 127.0.0.1)', () => {
  it('an [UPDATE] every updateEvery from the first Initial Alert to the Resolution Notice, and "Rollback successful" when migration-rollback ends, on every channel', async () => {
    const receivers = await startReceivers();
    try {
      const result = await runCli(['run', fixture('notify-updates-rollback.yaml'), '--reports-dir', reportsDir], { env: receivers.env });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const runDir = runDirFrom(result.stdout, reportsDir);
      const journal = readJournal(runDir);
      const verdict = journal.verdicts.find((v) => v.check === 'notification')!;
      expect(verdict.status, verdict.message).toBe('passed');
      expect(verdict.message).toMatch(/\d+ update\(s\) every 2s, longest gap \S+ \(allowed 5s\) until the Resolution Notice/);

      const bodies = receivers.hook.posts.map((p) => p.body);
      const templates = bodies.map((b) => b.template);
      // The incident opens with the Initial Alert and closes with the Resolution Notice; updates in between.
      expect(templates[0]).toBe('initial-alert');
      expect(templates.at(-1)).toBe('resolution-notice');
      expect(templates.filter((t) => t === 'rollback-success')).toHaveLength(1);
      const updates = bodies.filter((b) => b.template === 'update');
      // An 8s wait step alone keeps the incident open for more than two periods of 2s.
      expect(updates.length).toBeGreaterThanOrEqual(2);
      const incidentId = String(bodies[0]!.incidentId);
      updates.forEach((u, i) => {
        expect(u).toMatchObject({ subject: `[DRILL] [UPDATE] TrustStram Service Incident - ${incidentId}`, status: 'Mitigating', update: String(i + 1), incidentId, drill: true });
        expect(String(u.body)).toContain('DRILL - this is a chaos drill');
        expect(String(u.body)).toContain(`Next Update: ${String(u.nextUpdate)}`);
      });
      // What has been done so far: the notify step ended before the first update, the wait step runs or ended.
      expect(String(updates[0]!.actionsTaken)).toMatch(/^Stakeholder notification \(send emergency alert\) \(passed, [^)]*\); .*(running|passed)/);
      // The current probe state: the bad migration still breaks the probe at the first update (the rollback comes after the wait).
      expect(String(updates[0]!.currentState)).toMatch(/^service probes failing since T_fault\+\S+: transfers-readable/);
      // The Initial Alert promised the period it keeps.
      expect(String(bodies[0]!.body)).toContain('will provide updates every 2s.');

      // On the drill's clock: update n went out n periods after the incident opened (the first Initial Alert).
      const schedule = journal.notificationUpdates!;
      expect(schedule.everyMs).toBe(2000);
      const tOpen = Math.min(...of(journal, 'initial-alert').map((r) => r.t));
      expect(Math.abs(schedule.tStart - tOpen)).toBeLessThan(1000);
      const hookUpdates = of(journal, 'update', 'incident-hook');
      hookUpdates.forEach((r, i) => {
        expect(r.t - schedule.tStart).toBeGreaterThanOrEqual((i + 1) * 2000);
        // Never early; late by at most what a loaded machine delays a timer.
        expect(r.t - schedule.tStart).toBeLessThan((i + 1) * 2000 + 3000);
        // Next Update: the send instant plus the period.
        expect(Date.parse(r.fields.nextUpdate!) - Date.parse(r.wall)).toBe(2000);
      });
      // None after the Resolution Notice, and the schedule stopped before it.
      const notice = of(journal, 'resolution-notice')[0]!;
      expect(of(journal, 'update').every((r) => r.t < notice.t)).toBe(true);
      expect(schedule.tStop!).toBeLessThanOrEqual(notice.t);
      expect(schedule.sent).toBe(hookUpdates.length);

      // The rollback step's end, announced right after it: success, with the environment and what it did.
      const rollback = bodies.find((b) => b.template === 'rollback-success')!;
      const step = journal.steps.find((s) => s.name === 'migration-rollback')!;
      expect(rollback).toMatchObject({
        subject: `[DRILL] [UPDATE] TrustStram Service Incident - ${incidentId}: Rollback successful`,
        rollback: 'succeeded',
        step: 'migration-rollback',
        severity: 'P1',
        status: 'Mitigating',
      });
      expect(String(rollback.environment)).toMatch(/^PostgreSQL \S+$/);
      expect(String(rollback.detail)).toMatch(/^Rollback database migrations passed in \S+ \(from 008 to 007\)$/);
      const rollbackRecord = of(journal, 'rollback-success', 'incident-hook')[0]!;
      expect(rollbackRecord.trigger).toBe('rollback');
      expect(rollbackRecord.t).toBeGreaterThanOrEqual(step.end!.t);
      expect(rollbackRecord.t - step.end!.t).toBeLessThan(3000);

      // Slack and email got the same messages; all delivered.
      expect(receivers.slack.posts).toHaveLength(bodies.length);
      expect(receivers.smtp.mails.map((m) => m.subject)).toEqual(bodies.map((b) => b.subject));
      expect(journal.notifications!.every((r) => r.delivered)).toBe(true);

      const { hits } = scanFiles(runDir, receivers.secrets);
      expect(hits).toEqual([]);
      for (const secret of receivers.secrets) expect(result.stdout + result.stderr, label(secret)).not.toContain(secret);
      expect(leftovers(runDir)).toEqual([]);
    } finally {
      await receivers.close();
    }
  });

  it('negative control: a channel that refuses the updates fails the notification check (the gap until the Resolution Notice), and only it', async () => {
    const receivers = await startReceivers((_n, body) => (body.template === 'update' ? 500 : 200));
    try {
      const result = await runCli(['run', fixture('notify-updates-rollback.yaml'), '--reports-dir', reportsDir], { env: receivers.env });
      expect(result.code, result.stdout + result.stderr).toBe(1);
      const journal = readJournal(runDirFrom(result.stdout, reportsDir));
      const failed = journal.verdicts.filter((v) => v.status === 'failed');
      expect(failed.map((v) => v.check)).toEqual(['notification']);
      expect(failed[0]!.message).toMatch(/^incident-hook had no update for \S+ \(from T_fault\+\S+ to T_fault\+\S+, the Resolution Notice\), more than updateEvery 2s \+ 3s \(\d+ sent, 0 delivered\)$/);
      // The other channels had every update; the hook's were tried (attempts: 2) and refused.
      const sent = of(journal, 'update', 'incident-hook').length;
      expect(sent).toBeGreaterThanOrEqual(2);
      expect(of(journal, 'update', 'ops-slack').every((r) => r.delivered)).toBe(true);
      expect(of(journal, 'update', 'incident-hook').map((r) => r.attempts.map((a) => a.status))).toEqual(Array(sent).fill([500, 500]));
      expect(receivers.hook.posts.map((p) => p.body.template)).not.toContain('update');
      expect(receivers.hook.posts.map((p) => p.body.template)).toContain('resolution-notice');
    } finally {
      await receivers.close();
    }
  });

  it('a rollback that fails is announced as an escalation ("Rollback failed, escalating", [ESCALATION], severity raised)', async () => {
    const receivers = await startReceivers();
    try {
      const result = await runCli(['run', fixture('notify-rollback-fails.yaml'), '--reports-dir', reportsDir], { env: receivers.env });
      expect(result.code, result.stdout + result.stderr).toBe(1);
      const runDir = runDirFrom(result.stdout, reportsDir);
      const journal = readJournal(runDir);
      const step = journal.steps.find((s) => s.name === 'migration-rollback')!;
      expect(step.status).toBe('failed');
      const bodies = receivers.hook.posts.map((p) => p.body);
      expect(bodies.map((b) => b.template)).not.toContain('rollback-success');
      // The recovery was not verified: no Resolution Notice either.
      expect(bodies.map((b) => b.template)).not.toContain('resolution-notice');
      const failure = bodies.find((b) => b.template === 'rollback-failure')!;
      const incidentId = String(bodies[0]!.incidentId);
      expect(failure).toMatchObject({
        subject: `[DRILL] [ESCALATION] TrustStram Service Incident - ${incidentId}: Rollback failed, escalating`,
        rollback: 'failed',
        escalation: 'true',
        severity: 'P0',
        previousSeverity: 'P1',
        status: 'Escalated',
        step: 'migration-rollback',
      });
      expect(String(failure.detail)).toContain('009');
      expect(String(failure.body)).toContain('The incident is escalated to P0');
      expect(receivers.smtp.mails.map((m) => m.subject)).toContain(failure.subject);
      expect(of(journal, 'rollback-failure').map((r) => [r.channel, r.trigger, r.delivered])).toEqual([
        ['ops-slack', 'rollback', true],
        ['incident-hook', 'rollback', true],
        ['oncall-mail', 'rollback', true],
      ]);
      const { hits } = scanFiles(runDir, receivers.secrets);
      expect(hits).toEqual([]);
      expect(leftovers(runDir)).toEqual([]);
    } finally {
      await receivers.close();
    }
  });
});
