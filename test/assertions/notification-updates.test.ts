import { describe, expect, it } from 'vitest';
import { assessNotification } from '../../src/assertions/notification.js';
import type { Journal, NotificationRecord } from '../../src/engine/journal-types.js';
import { notificationsSettings } from '../../src/scenario/notifications-schema.js';
import { healthyDrill, stamp } from './journal-builder.js';

/**
 * The healthy drill (T_fault 10000, verified 26000) with one webhook, updates every 10s with 2s
 * tolerance: the incident opens at 10200 and the Resolution Notice goes out at 40100.
 */
function drillWithUpdates(options: { updatesAt?: number[]; refused?: number[]; on?: string[]; expectUpdates?: boolean; notice?: boolean } = {}): Journal {
  const { updatesAt = [20_200, 30_200], refused = [], on = ['detection', 'update', 'resolution'], expectUpdates, notice = true } = options;
  const journal = healthyDrill().expect({ notification: '30s' }).build();
  journal.scenario.definition.notifications = notificationsSettings.parse({ on, updateEvery: '10s', updateTolerance: '2s', channels: [{ type: 'webhook', name: 'hook', url: 'http://127.0.0.1:1/x' }] });
  if (expectUpdates !== undefined) journal.scenario.definition.expect.notificationUpdates = expectUpdates;
  journal.marks.tDetected = stamp(10_125);
  const record = (template: NotificationRecord['template'], t: number, ok = true): NotificationRecord => ({
    template,
    trigger: template === 'initial-alert' ? 'detection' : template === 'update' ? 'update' : 'resolution',
    channel: 'hook',
    channelType: 'webhook',
    destination: 'x',
    incidentId: 'DRILL-1',
    subject: template,
    fields: {},
    t,
    wall: stamp(t).wall,
    attempts: [ok ? { t, tEnd: t + 30, outcome: 'accepted', status: 200 } : { t, tEnd: t + 5, outcome: 'refused', status: 500, error: 'HTTP 500' }],
    delivered: ok,
    ...(ok ? { tDelivered: t + 30 } : {}),
  });
  journal.notifications = [
    record('initial-alert', 10_200),
    ...updatesAt.map((t) => record('update', t, !refused.includes(t))),
    ...(notice ? [record('resolution-notice', 40_100)] : []),
  ];
  if (on.includes('update')) journal.notificationUpdates = { everyMs: 10_000, tStart: 10_200, tStop: 40_050, sent: updatesAt.length };
  return journal;
}

describe('notification check: the promised updates', () => {
  it('passes when every gap from the first Initial Alert to the Resolution Notice is within updateEvery + tolerance', () => {
    const { verdict } = assessNotification(drillWithUpdates());
    expect(verdict.status, verdict.message).toBe('passed');
    expect(verdict.message).toMatch(/; 2 update\(s\) every 10s, longest gap 10\.0\d*s \(allowed 12s\) until the Resolution Notice$/);
    expect(verdict.details?.updates).toMatchObject({ everyMs: 10_000, allowedGapMs: 12_000, perChannel: [{ channel: 'hook', sent: 2, delivered: 2 }] });
  });

  it('fails on a missed update: the gap it leaves is longer than allowed', () => {
    const { verdict } = assessNotification(drillWithUpdates({ updatesAt: [20_200] }));
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toMatch(/hook had no update for 19\.\d+s \(from T_fault\+10\.2s to T_fault\+30\.1s, the Resolution Notice\), more than updateEvery 10s \+ 2s \(1 sent, 1 delivered\)/);
  });

  it('fails when updates were sent and never delivered', () => {
    const { verdict } = assessNotification(drillWithUpdates({ refused: [20_200, 30_200] }));
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toMatch(/hook had no update for 29\.9s .*\(2 sent, 0 delivered\)/);
  });

  it('a short incident (the notice before the first update was due) passes with no update', () => {
    const journal = drillWithUpdates({ updatesAt: [] });
    journal.scenario.definition.notifications!.updateEvery = 60_000;
    const { verdict } = assessNotification(journal);
    expect(verdict.status, verdict.message).toBe('passed');
    expect(verdict.message).toContain('no update was due');
  });

  it('expect.notificationUpdates with update left out of notifications.on fails: nothing sends them', () => {
    const { verdict } = assessNotification(drillWithUpdates({ on: ['detection', 'resolution'], updatesAt: [], expectUpdates: true }));
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toContain('updates every 10s were expected (expect.notificationUpdates) and none was sent: notifications.on does not include update');
  });

  it('expect.notificationUpdates: false does not judge them even with on: update', () => {
    const { verdict } = assessNotification(drillWithUpdates({ updatesAt: [], expectUpdates: false }));
    expect(verdict.status, verdict.message).toBe('passed');
    expect(verdict.details?.updates).toBeUndefined();
  });
});
