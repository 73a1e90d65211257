import type { Journal } from '../engine/journal-types.js';

/** The timeline's rows for stakeholder notifications: the runbook template's "Response team notified", per message and channel. */
export function notificationRows(journal: Journal): Array<{ t: number; wall: string; event: string }> {
  const name = {
    'initial-alert': 'Initial Alert',
    update: 'Update',
    'rollback-success': 'Rollback successful',
    'rollback-failure': 'Rollback failed (escalation)',
    'dr-activation': 'DR activation alert',
    'resolution-notice': 'Resolution Notice',
  } as const;
  const wallAt = (t: number, record: { t: number; wall: string }) => new Date(Date.parse(record.wall) + (t - record.t)).toISOString();
  return (journal.notifications ?? []).map((record) => {
    const what = `${name[record.template]} (${record.trigger}) to ${record.channel}`;
    if (record.delivered && record.tDelivered !== undefined) {
      const event = record.template === 'initial-alert' ? `Response team notified: ${what} delivered` : `${what} delivered`;
      return { t: record.tDelivered, wall: wallAt(record.tDelivered, record), event: `${event} (attempt ${record.attempts.length})` };
    }
    const last = record.attempts.at(-1);
    const end = last?.tEnd ?? record.t;
    return { t: end, wall: wallAt(end, record), event: `${what} NOT delivered after ${record.attempts.length} attempt(s)${last?.error ? `: ${last.error}` : ''}` };
  });
}
