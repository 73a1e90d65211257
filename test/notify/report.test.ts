import { describe, expect, it } from 'vitest';
import type { NotificationRecord } from '../../src/engine/journal-types.js';
import { renderIncidentReport } from '../../src/report/incident-report.js';
import { healthyDrill, stamp } from '../assertions/journal-builder.js';

const record = (template: NotificationRecord['template'], t: number, delivered: boolean): NotificationRecord => ({
  template,
  trigger: template === 'initial-alert' ? 'detection' : 'resolution',
  channel: 'oncall-mail',
  channelType: 'email',
  destination: 'smtp://127.0.0.1:2525',
  incidentId: 'DRILL-1',
  subject: 's',
  fields: {},
  t,
  wall: stamp(t).wall,
  attempts: [delivered ? { t, tEnd: t + 250, outcome: 'accepted', status: 250 } : { t, tEnd: t + 30, outcome: 'refused', status: 554, error: '554 Message rejected' }],
  delivered,
  ...(delivered ? { tDelivered: t + 250 } : {}),
});

describe('incident report: notifications on the timeline', () => {
  it('"Response team notified" when the Initial Alert was delivered, and an undelivered notice with its last answer', () => {
    const journal = healthyDrill().build();
    journal.notifications = [record('initial-alert', 10_200, true), record('resolution-notice', 40_100, false)];
    const report = renderIncidentReport(journal);
    expect(report).toContain(`${stamp(10_450).wall}`);
    expect(report).toMatch(/Response team notified: Initial Alert \(detection\) to oncall-mail delivered \(attempt 1\)/);
    expect(report).toMatch(/Resolution Notice \(resolution\) to oncall-mail NOT delivered after 1 attempt\(s\): 554 Message rejected/);
  });
});
