/**
 * The notification check (runbook "Stakeholder Notification"): the "Initial Alert" delivered on
 * every channel within `expect.notification` of detection (of T_fault when no probe can see the
 * fault, or none did), and the "Resolution Notice" on every channel after verified recovery, never
 * before it and never when recovery was not verified. Pure over the journal; it judges only the
 * messages, so a channel that is down fails this check and no other.
 */
import type { Journal, NotificationRecord } from '../engine/journal-types.js';
import { formatDuration, formatDurationBound } from '../scenario/duration.js';
import { verifiedRestoration } from '../notify/journal-facts.js';
import { breachWord, plural, type Assessment } from './assessment.js';
import { judgeUpdates } from './notification-updates.js';

export function scenarioNotifies(journal: Journal): boolean {
  return journal.scenario.definition.notifications !== undefined;
}

export function assessNotification(journal: Journal): Assessment {
  const definition = journal.scenario.definition;
  const settings = definition.notifications!;
  const limit = definition.expect.notification;
  const channels = settings.channels.map((c) => c.name);
  const records = journal.notifications ?? [];
  const problems: string[] = [];
  const details: Record<string, unknown> = { channels };

  // Initial Alert
  const reference = journal.marks.tDetected ? { t: journal.marks.tDetected.t, name: 'detection' } : journal.marks.tFault ? { t: journal.marks.tFault.t, name: 'T_fault' } : undefined;
  let latency: number | undefined;
  if (!reference) {
    problems.push('no fault was recorded in effect, so there is nothing the Initial Alert could be measured from');
  } else {
    const perChannel = channels.map((channel) => {
      const alerts = records.filter((r) => r.channel === channel && r.template === 'initial-alert');
      const delivered = alerts.filter((r) => r.delivered && r.tDelivered !== undefined).sort((a, b) => a.tDelivered! - b.tDelivered!)[0];
      return { channel, alerts, delivered };
    });
    details.initialAlert = perChannel.map(({ channel, alerts, delivered }) => ({
      channel,
      sent: alerts.length,
      ...(delivered ? { deliveredMs: delivered.tDelivered! - reference.t, attempts: delivered.attempts.length } : { lastError: lastError(alerts) }),
    }));
    const missing = perChannel.filter((c) => !c.delivered);
    for (const { channel, alerts } of missing) {
      problems.push(
        alerts.length === 0
          ? `no Initial Alert was sent to ${channel}`
          : `the Initial Alert never reached ${channel} (${plural(alerts.reduce((n, r) => n + r.attempts.length, 0), 'attempt')}; last: ${lastError(alerts)})`,
      );
    }
    if (missing.length === 0) {
      latency = Math.max(...perChannel.map((c) => c.delivered!.tDelivered! - reference.t));
      if (latency >= limit) {
        problems.push(`the Initial Alert reached the last channel ${formatDurationBound(latency, 'up')} after ${reference.name}, which ${breachWord(latency, limit)} ${formatDuration(limit)}`);
      }
    }
    details.measuredFrom = reference.name;
  }

  // Resolution Notice
  const notices = records.filter((r) => r.template === 'resolution-notice');
  const tVerified = journal.marks.tVerified?.t;
  const verified = tVerified !== undefined && verifiedRestoration(journal) !== undefined;
  for (const early of notices.filter((r) => tVerified === undefined || r.t < tVerified)) {
    problems.push(`a Resolution Notice was sent to ${early.channel} before recovery was verified`);
  }
  let resolutionText: string;
  if (!settings.on.includes('resolution')) {
    resolutionText = 'no Resolution Notice asked for (notifications.on)';
  } else if (!verified) {
    resolutionText = 'no Resolution Notice: recovery was not verified';
    if (notices.length > 0) problems.push('a Resolution Notice announced a recovery that was not verified');
  } else {
    const undelivered = channels.filter((channel) => !notices.some((r) => r.channel === channel && r.delivered));
    for (const channel of undelivered) {
      const sent = notices.filter((r) => r.channel === channel);
      problems.push(sent.length === 0 ? `no Resolution Notice was sent to ${channel}` : `the Resolution Notice never reached ${channel} (last: ${lastError(sent)})`);
    }
    resolutionText = `Resolution Notice delivered after verified recovery on ${plural(channels.length - undelivered.length, 'channel')} of ${channels.length}`;
    details.resolutionNotice = channels.map((channel) => {
      const notice = notices.find((r) => r.channel === channel && r.delivered);
      return { channel, delivered: notice !== undefined, ...(notice ? { sentAfterVerifiedMs: notice.t - tVerified } : {}) };
    });
  }

  const updates = judgeUpdates(journal);
  problems.push(...updates.problems);
  if (updates.details) details.updates = updates.details;
  if (updates.text) resolutionText += `; ${updates.text}`;

  const measurements = latency !== undefined ? { notificationLatencyMs: latency } : {};
  if (problems.length > 0) {
    return {
      verdict: { check: 'notification', status: 'failed', message: problems.join('; '), ...(latency !== undefined ? { measured: latency } : {}), limit, details },
      measurements,
    };
  }
  return {
    verdict: {
      check: 'notification',
      status: 'passed',
      message: `Initial Alert delivered on ${plural(channels.length, 'channel')} within ${formatDurationBound(latency!, 'up')} of ${reference!.name} (limit ${formatDuration(limit)}); ${resolutionText}`,
      measured: latency!,
      limit,
      details,
    },
    measurements,
  };
}

function lastError(records: readonly NotificationRecord[]): string {
  const attempt = records.flatMap((r) => r.attempts).at(-1);
  if (!attempt) return 'no attempt ended';
  return attempt.error ?? `${attempt.outcome}${attempt.status !== undefined ? ` ${attempt.status}` : ''}`;
}
