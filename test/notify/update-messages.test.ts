import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import type { NotificationChannel } from '../../src/notify/channel.js';
import type { NotificationMessage } from '../../src/notify/message.js';
import { Notifier } from '../../src/notify/notifier.js';
import { drActivationAlert, escalated, initialAlert, rollbackNotice, updateNotice } from '../../src/notify/templates.js';
import { UpdateSchedule } from '../../src/notify/update-schedule.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';

const FIXTURE = path.join(import.meta.dirname, '../fixtures/scenarios/notify-updates-rollback.yaml');
const base = { runId: 'run-1', scenario: 'pg-x', incidentId: 'DRILL-20261202-101500' };

describe('the update, rollback and DR activation templates', () => {
  it('[UPDATE]: same family as the Initial Alert, STATUS Mitigating, what was done, the probes now, the next update', () => {
    const m = updateNotice({ ...base, number: 2, actionsTaken: 'Stakeholder notification (passed, 12ms); Wait (running)', currentState: 'service probes failing since T_fault+0.2s: sql', nextUpdate: '2026-12-02T10:30:00.000Z' });
    expect(m.template).toBe('update');
    expect(m.subject).toBe('[DRILL] [UPDATE] TrustStram Service Incident - DRILL-20261202-101500');
    expect(m.body.split('\n')).toEqual([
      'DRILL - this is a chaos drill (run run-1, scenario pg-x), not a real incident. No action is needed.',
      '',
      'Update 2 on the TrustStram service incident.',
      '',
      'STATUS: Mitigating',
      'ACTIONS TAKEN SO FAR: Stakeholder notification (passed, 12ms); Wait (running)',
      'CURRENT STATE: service probes failing since T_fault+0.2s: sql',
      '',
      'Incident ID: DRILL-20261202-101500',
      'Next Update: 2026-12-02T10:30:00.000Z',
    ]);
    expect(m.fields).toMatchObject({ status: 'Mitigating', update: '2', nextUpdate: '2026-12-02T10:30:00.000Z' });
  });

  it('rollback success keeps the severity; failure is an escalation: [ESCALATION], severity one level up', () => {
    const input = { ...base, severity: 'P1', step: 'migration-rollback', title: 'Rollback database migrations', environment: 'PostgreSQL primary' };
    const ok = rollbackNotice({ ...input, outcome: 'succeeded', detail: 'passed in 0.3s (from 8 to 7)' });
    expect(ok.template).toBe('rollback-success');
    expect(ok.subject).toBe('[DRILL] [UPDATE] TrustStram Service Incident - DRILL-20261202-101500: Rollback successful');
    expect(ok.fields).toMatchObject({ severity: 'P1', rollback: 'succeeded', environment: 'PostgreSQL primary' });
    expect(ok.fields.escalation).toBeUndefined();
    const bad = rollbackNotice({ ...input, outcome: 'failed', detail: 'MIGRATION_VERSION_UNKNOWN' });
    expect(bad.template).toBe('rollback-failure');
    expect(bad.subject).toBe('[DRILL] [ESCALATION] TrustStram Service Incident - DRILL-20261202-101500: Rollback failed, escalating');
    expect(bad.fields).toMatchObject({ severity: 'P0', previousSeverity: 'P1', escalation: 'true', status: 'Escalated' });
    expect(bad.body).toContain('Rollback failed, escalating: Rollback database migrations (migration-rollback) on PostgreSQL primary.');
    expect(['P3', 'P2', 'P1', 'P0'].map(escalated)).toEqual(['P2', 'P1', 'P0', 'P0']);
  });

  it('DR activation names the lost and the serving region', () => {
    const m = drActivationAlert({ ...base, severity: 'P0', primaryRegion: 'us-east', drRegion: 'us-west', impact: 'service probes failing since T_fault+1s: api' });
    expect(m.template).toBe('dr-activation');
    expect(m.subject).toBe('[DRILL] [URGENT] TrustStram Service Incident - P0: DR site activated');
    expect(m.body).toContain('DR site activated: primary region us-east lost, DR region us-west serving.');
    expect(m.fields).toMatchObject({ primaryRegion: 'us-east', drRegion: 'us-west', status: 'Mitigating' });
  });

  it('the Initial Alert promises the period the updates keep', () => {
    const alert = (updateEvery?: number) =>
      initialAlert({ ...base, severity: 'P1', status: 'Investigating', impact: 'i', eta: 'e', nextUpdate: 'n', ...(updateEvery !== undefined ? { updateEvery } : {}) }).body;
    expect(alert()).toContain('will provide updates every 15 minutes.');
    expect(alert(15 * 60_000)).toContain('will provide updates every 15 minutes.');
    expect(alert(2000)).toContain('will provide updates every 2s.');
  });
});

describe('UpdateSchedule', () => {
  it('ticks every period counted from the start, on the clock, until stopped', async () => {
    const clock = startClock();
    const ticks: Array<[number, number]> = [];
    const schedule = new UpdateSchedule(100, clock, new AbortController().signal, (n) => ticks.push([n, clock.now()]));
    // Until the third tick (a busy machine may be late), then stop.
    while (ticks.length < 3) await new Promise((r) => setTimeout(r, 10));
    await schedule.stop();
    expect(ticks.map(([n]) => n)).toEqual([1, 2, 3]);
    ticks.forEach(([n, t]) => {
      expect(t - schedule.record.tStart).toBeGreaterThanOrEqual(n * 100);
      expect(t - schedule.record.tStart).toBeLessThan(n * 100 + 150);
    });
    expect(schedule.record.sent).toBe(3);
    expect(schedule.record.tStop).toBeGreaterThan(ticks.at(-1)![1]);
    await new Promise((r) => setTimeout(r, 150));
    expect(ticks).toHaveLength(3);
  });
});

describe('UpdateSchedule on a clock that timers outrun', () => {
  it('never ticks before the due instant on the drill clock, even when a timer fires early by that clock', async () => {
    // A clock running at 80% of real time: every timer fires "early" by it, as Node's rounded
    // timer times sometimes do by a millisecond.
    const real = startClock();
    const clock = { now: () => real.now() * 0.8, wallAt: real.wallAt, stamp: () => ({ t: real.now() * 0.8, wall: real.wallAt(real.now()) }) };
    const ticks: number[] = [];
    const schedule = new UpdateSchedule(100, clock, new AbortController().signal, () => ticks.push(clock.now()));
    while (ticks.length < 2) await new Promise((r) => setTimeout(r, 10));
    await schedule.stop();
    ticks.slice(0, 2).forEach((t, i) => expect(t - schedule.record.tStart).toBeGreaterThanOrEqual((i + 1) * 100));
  });
});

/** A channel that keeps what it is given (the Notifier's own scheduling is what is under test here). */
class KeepingChannel implements NotificationChannel {
  readonly name = 'keep';
  readonly type = 'webhook' as const;
  readonly destination = 'test://keep';
  readonly messages: NotificationMessage[] = [];
  deliver(message: NotificationMessage): Promise<{ outcome: 'accepted' }> {
    this.messages.push(message);
    return Promise.resolve({ outcome: 'accepted' });
  }
}

describe('Notifier: updates while the incident is open', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
  });

  it('the first Initial Alert starts the updates (updateEvery), stopUpdates ends them; each is journaled with trigger update', async () => {
    const loaded = await loadScenarioFile(FIXTURE, { env: { DRILL_TEST_SLACK_PORT: '1', DRILL_TEST_HOOK_PORT: '2', DRILL_TEST_HOOK_TOKEN: 'token-0123456789', DRILL_TEST_SMTP_PORT: '3', DRILL_TEST_SMTP_PASSWORD: 'pw-0123456789' } });
    const clock = startClock();
    const recorder = new JournalRecorder(clock, 'run-1', loaded);
    const channel = new KeepingChannel();
    // 2s in the fixture; 1s is the schema's floor, the class takes what it is given.
    const settings = { ...loaded.scenario.notifications!, updateEvery: 1000 };
    const notifier = new Notifier({ settings, clock, recorder, signal: new AbortController().signal, channels: [channel] });
    stop = () => notifier.stop();
    expect(notifier.promisedEvery).toBe(1000);
    await new Promise((r) => setTimeout(r, 300));
    // Nothing before the incident is open.
    expect(channel.messages).toHaveLength(0);
    notifier.send('detection', (now) => initialAlert({ ...base, severity: 'P1', status: 'Investigating', impact: 'i', eta: 'e', incidentId: notifier.incidentId(now), nextUpdate: 'n' }));
    await new Promise((r) => setTimeout(r, 2500));
    await notifier.stopUpdates();
    await notifier.settled();
    expect(channel.messages.map((m) => m.template)).toEqual(['initial-alert', 'update', 'update']);
    const updates = recorder.journal.notifications!.filter((r) => r.template === 'update');
    expect(updates.map((r) => [r.trigger, r.fields.update, r.delivered])).toEqual([['update', '1', true], ['update', '2', true]]);
    expect(updates.every((r) => r.incidentId === recorder.journal.notifications![0]!.incidentId)).toBe(true);
    expect(recorder.journal.notificationUpdates).toMatchObject({ everyMs: 1000, sent: 2 });
    await new Promise((r) => setTimeout(r, 1200));
    expect(channel.messages).toHaveLength(3);
  });
});
