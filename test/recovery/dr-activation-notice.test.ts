import { describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import type { NotificationChannel } from '../../src/notify/channel.js';
import { Notifier } from '../../src/notify/notifier.js';
import { announceDrActivation } from '../../src/recovery/activate-dr-site.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { startWebhookReceiver } from '../notify/receivers.js';
import path from 'node:path';
import { WebhookChannel } from '../../src/notify/webhook-channel.js';
import { STEP_PERFORMS } from '../../src/recovery/runbook-performs.js';

const FIXTURE = path.join(import.meta.dirname, '../fixtures/scenarios/notify-updates-rollback.yaml');
const ENV = { DRILL_TEST_SLACK_PORT: '1', DRILL_TEST_HOOK_PORT: '2', DRILL_TEST_HOOK_TOKEN: 'token-0123456789', DRILL_TEST_SMTP_PORT: '3', DRILL_TEST_SMTP_PASSWORD: 'pw-0123456789' };

async function contextWith(channels: NotificationChannel[]): Promise<Pick<DrillContext, 'notifier' | 'recorder'>> {
  const loaded = await loadScenarioFile(FIXTURE, { env: ENV });
  const clock = startClock();
  const recorder = new JournalRecorder(clock, 'run-dr', loaded);
  return { recorder, notifier: new Notifier({ settings: loaded.scenario.notifications, clock, recorder, signal: new AbortController().signal, channels }) };
}

describe('activate-dr-site announces the DR activation', () => {
  it('to a real webhook on 127.0.0.1: "DR site activated: primary region X lost, DR region Y serving", trigger dr-activation', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const ctx = await contextWith([new WebhookChannel('hook', receiver.url('/dr'), 5_000)]);
      expect(announceDrActivation(ctx, 'us-east-1', 'us-west-2')).toEqual(['hook']);
      await ctx.notifier.settled();
      expect(receiver.posts).toHaveLength(1);
      const body = receiver.posts[0]!.body;
      expect(body).toMatchObject({ template: 'dr-activation', primaryRegion: 'us-east-1', drRegion: 'us-west-2', severity: 'P1', drill: true });
      expect(String(body.body)).toContain('DR site activated: primary region us-east-1 lost, DR region us-west-2 serving.');
      const [record] = ctx.recorder.journal.notifications!;
      expect(record).toMatchObject({ trigger: 'dr-activation', template: 'dr-activation', delivered: true });
    } finally {
      await receiver.close();
    }
  });

  it('without channels nothing is sent and the step says nothing about a notification', async () => {
    const ctx = await contextWith([]);
    expect(announceDrActivation(ctx, 'us-east-1', 'us-west-2')).toBeUndefined();
    expect(ctx.recorder.journal.notifications ?? []).toEqual([]);
  });

  it('drill coverage credits send-dr-activation-alert.sh only when the step handed the alert to channels', () => {
    const entry = STEP_PERFORMS['activate-dr-site'].find((p) => 'command' in p && p.command === 'scripts/notifications/send-dr-activation-alert.sh')!;
    expect(entry.when!({ notified: ['hook'] })).toBe(true);
    expect(entry.when!({ primaryRegion: 'us-east-1' })).toBe(false);
    expect(entry.when!(undefined)).toBe(false);
  });
});
