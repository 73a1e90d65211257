/**
 * The updates the Initial Alert promises ("updates every 15 minutes", notifications.on: update):
 * judged only when the scenario opts in (expect.notificationUpdates, default: on includes update).
 * On every channel, from the first Initial Alert to the Resolution Notice (or to when the updates
 * stopped, when there was none), no gap between two delivered messages of the incident may be
 * longer than updateEvery + updateTolerance. Pure over the journal.
 */
import type { Journal, NotificationRecord } from '../engine/journal-types.js';
import { formatDuration, formatDurationBound } from '../scenario/duration.js';
import { formatTime } from './probes.js';

export interface UpdatesJudgement {
  problems: string[];
  text?: string;
  details?: Record<string, unknown>;
}

export function judgeUpdates(journal: Journal): UpdatesJudgement {
  const definition = journal.scenario.definition;
  const settings = definition.notifications!;
  const expected = definition.expect.notificationUpdates ?? settings.on.includes('update');
  if (!expected) return { problems: [] };
  const every = settings.updateEvery;
  const allowed = every + settings.updateTolerance;
  if (!settings.on.includes('update')) {
    return { problems: [`updates every ${formatDuration(every)} were expected (expect.notificationUpdates) and none was sent: notifications.on does not include update`] };
  }
  const schedule = journal.notificationUpdates;
  if (!schedule) return { problems: ['no update was sent: no Initial Alert opened the incident, so the updates never started'] };

  const records = journal.notifications ?? [];
  const notice = records.filter((r) => r.template === 'resolution-notice').sort((a, b) => a.t - b.t)[0];
  const end = notice?.t ?? schedule.tStop ?? Math.max(schedule.tStart, ...records.map((r) => r.t));
  const endName = notice ? 'the Resolution Notice' : 'the updates stopped';
  const problems: string[] = [];
  const perChannel = settings.channels.map(({ name: channel }) => {
    const delivered = (template: NotificationRecord['template']) =>
      records.filter((r) => r.channel === channel && r.template === template && r.delivered && r.tDelivered !== undefined && r.tDelivered <= end).map((r) => r.tDelivered!);
    const updates = delivered('update').sort((a, b) => a - b);
    const points = [schedule.tStart, ...updates.filter((t) => t >= schedule.tStart), end];
    let worst = { gap: 0, from: schedule.tStart, to: schedule.tStart };
    for (let i = 1; i < points.length; i++) {
      const gap = points[i]! - points[i - 1]!;
      if (gap > worst.gap) worst = { gap, from: points[i - 1]!, to: points[i]! };
    }
    const sent = records.filter((r) => r.channel === channel && r.template === 'update').length;
    if (worst.gap > allowed) {
      problems.push(
        `${channel} had no update for ${formatDurationBound(worst.gap, 'down')} (from ${formatTime(worst.from, journal.marks.tFault?.t)} to ${formatTime(worst.to, journal.marks.tFault?.t)}${worst.to === end ? `, ${endName}` : ''}), more than updateEvery ${formatDuration(every)} + ${formatDuration(settings.updateTolerance)}` +
          ` (${sent} sent, ${updates.length} delivered)`,
      );
    }
    return { channel, sent, delivered: updates.length, longestGapMs: Math.round(worst.gap) };
  });
  const longest = Math.max(...perChannel.map((c) => c.longestGapMs));
  return {
    problems,
    text: `${schedule.sent === 0 ? 'no update was due' : `${schedule.sent} update(s)`} every ${formatDuration(every)}, longest gap ${formatDurationBound(longest, 'up')} (allowed ${formatDuration(allowed)}) until ${endName}`,
    details: { everyMs: every, allowedGapMs: allowed, perChannel },
  };
}
