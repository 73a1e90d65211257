import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { Notifier } from '../../src/notify/notifier.js';
import { initialAlert } from '../../src/notify/templates.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { startSmtpReceiver, startWebhookReceiver } from './receivers.js';

const FIXTURE = path.join(import.meta.dirname, '../fixtures/scenarios/notify-migration-rollback.yaml');
const TOKEN = 'hooktoken-0123456789abcdef';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** The fixture scenario pointed at receivers on 127.0.0.1, with a real recorder and its Redactor. */
async function notifierFor(ports: { slack: number; hook: number; smtp: number }, signal = new AbortController().signal) {
  const loaded = await loadScenarioFile(FIXTURE, {
    env: { DRILL_TEST_SLACK_PORT: String(ports.slack), DRILL_TEST_HOOK_PORT: String(ports.hook), DRILL_TEST_HOOK_TOKEN: TOKEN, DRILL_TEST_SMTP_PORT: String(ports.smtp), DRILL_TEST_SMTP_PASSWORD: 'smtp-password-42' },
  });
  const clock = startClock();
  const recorder = new JournalRecorder(clock, 'run-1', loaded);
  return { recorder, notifier: new Notifier({ settings: loaded.scenario.notifications, clock, recorder, signal }) };
}

const message = (incidentId: string) =>
  initialAlert({ runId: 'run-1', scenario: 'notify-migration-rollback', severity: 'P1', status: 'Investigating', impact: 'i', eta: 'e', incidentId, nextUpdate: 'n' });

describe('Notifier', () => {
  it('sends without waiting, retries a refused delivery (bounded), journals every attempt on the run clock', async () => {
    const slack = await startWebhookReceiver((n) => (n === 1 ? 503 : 200));
    const hook = await startWebhookReceiver(() => 500);
    const smtp = await startSmtpReceiver({ auth: { user: 'drill', pass: 'smtp-password-42' } });
    closers.push(slack.close, hook.close, smtp.close);
    const { recorder, notifier } = await notifierFor({ slack: slack.port, hook: hook.port, smtp: smtp.port });

    const records = notifier.send('detection', (now) => message(notifier.incidentId(now)));
    // Handed over, nothing answered yet: the caller (the runbook) is not held up.
    expect(records.map((r) => [r.channel, r.attempts.length, r.delivered])).toEqual([
      ['ops-slack', 0, false],
      ['incident-hook', 0, false],
      ['oncall-mail', 0, false],
    ]);
    await notifier.settled();

    const [s, h, m] = recorder.journal.notifications!;
    expect(s!.attempts.map((a) => [a.outcome, a.status])).toEqual([['refused', 503], ['accepted', 200]]);
    expect(s!.delivered).toBe(true);
    // The retry waited retryDelay (200ms) after the refusal.
    expect(s!.attempts[1]!.t - s!.attempts[0]!.tEnd).toBeGreaterThanOrEqual(199);
    expect(h!.attempts.map((a) => a.status)).toEqual([500, 500]);
    expect(h!.delivered).toBe(false);
    expect(hook.requests).toBe(2);
    expect(m!.delivered).toBe(true);
    expect(smtp.mails).toHaveLength(1);
    expect(s!.incidentId).toMatch(/^DRILL-\d{8}-\d{6}$/);
    expect(recorder.journal.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['notification-delivered', 'notification-failed']));
    expect(recorder.journal.events.find((e) => e.kind === 'notification-failed')!.message).toMatch(/NOT delivered to incident-hook after 2 attempt\(s\): HTTP 500/);
  });

  it('an answer that quotes the URL\'s token is journaled redacted', async () => {
    const echo = createServer((req, res) => res.writeHead(404).end(`no hook at ${req.url}`));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => echo.close(() => resolve())));
    const port = (echo.address() as AddressInfo).port;
    const { recorder, notifier } = await notifierFor({ slack: port, hook: port, smtp: 1 });
    notifier.send('detection', () => message('X-1'));
    await notifier.settled();
    const journal = recorder.redactedJournal();
    const errors = journal.notifications!.flatMap((r) => r.attempts.map((a) => a.error));
    expect(errors).toContain('HTTP 404: no hook at /services/[REDACTED]');
    expect(JSON.stringify(journal)).not.toContain(TOKEN);
    expect(JSON.stringify(recorder.journal.notifications)).not.toContain(TOKEN);
  });

  it('a secret created during the run never leaves the machine: every channel gets the message redacted', async () => {
    const slack = await startWebhookReceiver();
    const hook = await startWebhookReceiver();
    const smtp = await startSmtpReceiver({ auth: { user: 'drill', pass: 'smtp-password-42' } });
    closers.push(slack.close, hook.close, smtp.close);
    const { recorder, notifier } = await notifierFor({ slack: slack.port, hook: hook.port, smtp: smtp.port });
    // As a drill registers a password it generated, or the token a breach fault minted.
    const planted = 'minted-token-7f3c9a0b5e1d2468';
    recorder.secrets.register(planted, 'a token minted by the drill');
    notifier.send('detection', () =>
      initialAlert({ runId: 'run-1', scenario: 'notify-migration-rollback', severity: 'P1', status: 'Investigating', impact: `token ${planted} leaked`, eta: 'e', incidentId: `X-${planted}`, nextUpdate: 'n' }),
    );
    await notifier.settled();
    expect(recorder.journal.notifications!.map((r) => r.delivered)).toEqual([true, true, true]);
    const sent = [JSON.stringify(slack.posts), JSON.stringify(hook.posts), JSON.stringify(smtp.mails)];
    for (const text of sent) {
      expect(text).toContain('[REDACTED]');
      expect(text).not.toContain(planted);
    }
    // The negative control: the same message does carry it before redaction.
    expect(JSON.stringify(initialAlert({ runId: 'r', scenario: 's', severity: 'P1', status: 'Investigating', impact: `token ${planted} leaked`, eta: 'e', incidentId: 'X', nextUpdate: 'n' }))).toContain(planted);
  });

  it('stop() ends deliveries still waiting to retry', async () => {
    const hook = await startWebhookReceiver(() => 500);
    closers.push(hook.close);
    const { recorder, notifier } = await notifierFor({ slack: hook.port, hook: hook.port, smtp: 1 });
    notifier.send('detection', () => message('X-2'));
    while (hook.requests < 2) await new Promise((r) => setTimeout(r, 10));
    await notifier.stop();
    // No further attempt goes out once stopped (the retry was still waiting its 200ms).
    const requests = hook.requests;
    await new Promise((r) => setTimeout(r, 400));
    expect(hook.requests).toBe(requests);
    expect(recorder.journal.notifications!.every((r) => !r.delivered || r.channel === 'oncall-mail')).toBe(true);
  });
});
