import { describe, expect, it } from 'vitest';
import { assessNotification, scenarioNotifies } from '../../src/assertions/notification.js';
import { judge } from '../../src/assertions/judge.js';
import type { Journal, NotificationRecord } from '../../src/engine/journal-types.js';
import { notificationsSettings } from '../../src/scenario/notifications-schema.js';
import { deepFreeze, healthyDrill, stamp } from './journal-builder.js';

/**
 * The healthy drill (T_fault 10000, first failing sample 10125, restored 20125, verified 26000)
 * with two channels and the messages a passing drill sends.
 */
function notifyingDrill(edit: (records: NotificationRecord[]) => NotificationRecord[] = (r) => r, on: Array<'detection' | 'resolution'> = ['detection', 'resolution']): Journal {
  const journal = healthyDrill().expect({ notification: '30s' }).build();
  journal.scenario.definition.notifications = notificationsSettings.parse({
    on,
    channels: [
      { type: 'webhook', name: 'hook', url: 'http://127.0.0.1:1/x' },
      { type: 'email', name: 'mail', host: '127.0.0.1', port: 25, security: 'none', from: 'd@example.test', to: ['o@example.test'] },
    ],
  });
  journal.marks.tDetected = stamp(10_125);
  const record = (channel: string, template: NotificationRecord['template'], t: number, deliveredAfter: number | undefined): NotificationRecord => ({
    template,
    trigger: template === 'initial-alert' ? 'detection' : 'resolution',
    channel,
    channelType: channel === 'hook' ? 'webhook' : 'email',
    destination: 'x',
    incidentId: 'DRILL-1',
    subject: template,
    fields: {},
    t,
    wall: stamp(t).wall,
    attempts: [
      deliveredAfter === undefined
        ? { t, tEnd: t + 5, outcome: 'refused', status: 500, error: 'HTTP 500' }
        : { t, tEnd: t + deliveredAfter, outcome: 'accepted', status: 200 },
    ],
    delivered: deliveredAfter !== undefined,
    ...(deliveredAfter !== undefined ? { tDelivered: t + deliveredAfter } : {}),
  });
  journal.notifications = edit([
    record('hook', 'initial-alert', 10_200, 40),
    record('mail', 'initial-alert', 10_200, 300),
    record('hook', 'resolution-notice', 40_100, 20),
    record('mail', 'resolution-notice', 40_100, 80),
  ]);
  return deepFreeze(journal);
}

describe('notification check', () => {
  it('passes with both messages on every channel; measures detection to the last channel', () => {
    const { verdict, measurements } = assessNotification(notifyingDrill());
    expect(verdict.status, verdict.message).toBe('passed');
    expect(measurements.notificationLatencyMs).toBe(10_500 - 10_125);
    expect(verdict).toMatchObject({ measured: 375, limit: 30_000 });
    expect(verdict.message).toBe('Initial Alert delivered on 2 channels within 375ms of detection (limit 30s); Resolution Notice delivered after verified recovery on 2 channels of 2');
  });

  it('applies only to scenarios with notifications:, and judge runs it there', () => {
    const plain = healthyDrill().build();
    expect(scenarioNotifies(plain)).toBe(false);
    expect(judge(plain).verdicts.map((v) => v.check)).not.toContain('notification');
    expect(judge(notifyingDrill()).verdicts.find((v) => v.check === 'notification')?.status).toBe('passed');
  });

  it('fails when a channel never accepted the Initial Alert, naming it and its last answer', () => {
    const journal = notifyingDrill((records) => records.map((r) => (r.channel === 'hook' && r.template === 'initial-alert' ? { ...r, delivered: false, tDelivered: undefined, attempts: [{ t: r.t, tEnd: r.t + 5, outcome: 'refused', status: 500, error: 'HTTP 500' }] } : r)));
    const { verdict } = assessNotification(journal);
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toBe('the Initial Alert never reached hook (1 attempt; last: HTTP 500)');
  });

  it('fails when the last channel had it at or past the limit (limits are exclusive)', () => {
    const journal = notifyingDrill((records) => records.map((r) => (r.channel === 'mail' && r.template === 'initial-alert' ? { ...r, tDelivered: 10_125 + 30_000 } : r)));
    const { verdict } = assessNotification(journal);
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toMatch(/reached the last channel 30s after detection, which equals the limit 30s/);
  });

  it('fails when no Initial Alert was sent at all', () => {
    const { verdict } = assessNotification(notifyingDrill((records) => records.filter((r) => r.template !== 'initial-alert')));
    expect(verdict.message).toBe('no Initial Alert was sent to hook; no Initial Alert was sent to mail');
  });

  it('fails when a Resolution Notice went out before recovery was verified', () => {
    const { verdict } = assessNotification(notifyingDrill((records) => records.map((r) => (r.template === 'resolution-notice' && r.channel === 'hook' ? { ...r, t: 25_000 } : r))));
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toBe('a Resolution Notice was sent to hook before recovery was verified');
  });

  it('when recovery was not verified, sending no Resolution Notice is right, and sending one fails', () => {
    const unverified = (edit: (r: NotificationRecord[]) => NotificationRecord[]) => {
      const journal = structuredClone(notifyingDrill(edit));
      delete journal.marks.tVerified;
      return journal;
    };
    const quiet = assessNotification(unverified((r) => r.filter((x) => x.template === 'initial-alert')));
    expect(quiet.verdict.status, quiet.verdict.message).toBe('passed');
    expect(quiet.verdict.message).toMatch(/no Resolution Notice: recovery was not verified$/);
    const loud = assessNotification(unverified((r) => r));
    expect(loud.verdict.status).toBe('failed');
    expect(loud.verdict.message).toMatch(/a Resolution Notice announced a recovery that was not verified/);
  });

  it('a channel that missed the Resolution Notice fails the check; with on: [detection] none is expected', () => {
    const missing = assessNotification(notifyingDrill((records) => records.filter((r) => !(r.channel === 'mail' && r.template === 'resolution-notice'))));
    expect(missing.verdict.message).toBe('no Resolution Notice was sent to mail');
    const notAsked = assessNotification(notifyingDrill((records) => records.filter((r) => r.template === 'initial-alert'), ['detection']));
    expect(notAsked.verdict.status).toBe('passed');
  });
});
