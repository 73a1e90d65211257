import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EmailChannel } from '../../src/notify/email-channel.js';
import { SlackChannel } from '../../src/notify/slack-channel.js';
import { WebhookChannel } from '../../src/notify/webhook-channel.js';
import { initialAlert, resolutionNotice } from '../../src/notify/templates.js';
import { selfSignedCertificate, startSmtpReceiver, startWebhookReceiver } from './receivers.js';

const certDir = mkdtempSync(path.join(os.tmpdir(), 'drill-notify-tls-'));
afterAll(() => rmSync(certDir, { recursive: true, force: true }));

const alert = initialAlert({
  runId: '20261202T091500-pg-test',
  scenario: 'pg-test',
  severity: 'P1',
  status: 'Investigating',
  impact: 'service probes failing since T_fault+120ms: transfers-readable (column "amount" does not exist)',
  eta: '2026-12-02T09:30:00.000Z (the RTO objective: 15m after the fault at 2026-12-02T09:15:00.000Z)',
  incidentId: 'DRILL-20261202-091500',
  nextUpdate: '2026-12-02T09:30:01.000Z',
});
const notice = resolutionNotice({
  runId: '20261202T091500-pg-test',
  scenario: 'pg-test',
  incidentId: 'DRILL-20261202-091500',
  resolutionTime: 'RTO ≤ 4.21s (restored between T_fault+3.9s and T_fault+4.21s)',
  rootCause: 'pg-bad-migration (injected by the drill)',
  actionsTaken: 'Rollback database migrations (passed, 1.2s)',
});

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});
const signal = new AbortController().signal;

describe('notification channels against real receivers on 127.0.0.1', () => {
  it('Slack-compatible webhook: text and blocks carry the subject and the template', async () => {
    const receiver = await startWebhookReceiver();
    closers.push(receiver.close);
    const channel = new SlackChannel('ops', receiver.url('/services/T000/B000/token-xyz'), 5000);
    expect(channel.destination).toBe(`http://127.0.0.1:${receiver.port}`);
    const result = await channel.deliver(alert, signal);
    expect(result).toEqual({ outcome: 'accepted', status: 200 });
    const [post] = receiver.posts;
    expect(post!.path).toBe('/services/T000/B000/token-xyz');
    expect(post!.headers['content-type']).toBe('application/json');
    expect(post!.body.text).toBe(`${alert.subject}\n\n${alert.body}`);
    const blocks = post!.body.blocks as Array<{ type: string; text: { text: string } }>;
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '[DRILL] [URGENT] TrustStram Service Incident - P1' } });
    expect(blocks[1]!.text.text).toContain('STATUS: Investigating');
  });

  it('generic webhook: the template\'s fields as JSON, marked drill', async () => {
    const receiver = await startWebhookReceiver();
    closers.push(receiver.close);
    const result = await new WebhookChannel('pager', receiver.url('/hook'), 5000).deliver(notice, signal);
    expect(result.outcome).toBe('accepted');
    expect(receiver.posts[0]!.body).toEqual({
      drill: true,
      template: 'resolution-notice',
      subject: '[DRILL] [RESOLVED] TrustStram Service Incident - DRILL-20261202-091500',
      incidentId: 'DRILL-20261202-091500',
      resolutionTime: 'RTO ≤ 4.21s (restored between T_fault+3.9s and T_fault+4.21s)',
      rootCause: 'pg-bad-migration (injected by the drill)',
      actionsTaken: 'Rollback database migrations (passed, 1.2s)',
      body: notice.body,
      runId: '20261202T091500-pg-test',
      scenario: 'pg-test',
    });
  });

  it('a webhook answering 500 is refused with its status; nothing listening is an error', async () => {
    const receiver = await startWebhookReceiver(() => 500);
    closers.push(receiver.close);
    expect(await new WebhookChannel('pager', receiver.url('/hook'), 5000).deliver(alert, signal)).toEqual({
      outcome: 'refused',
      status: 500,
      error: 'HTTP 500: receiver says no',
    });
    const gone = await startWebhookReceiver();
    await gone.close();
    const result = await new WebhookChannel('pager', gone.url('/hook'), 5000).deliver(alert, signal);
    expect(result.outcome).toBe('error');
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it('email over SMTP with AUTH: the server receives subject and text as the template says', async () => {
    const smtp = await startSmtpReceiver({ auth: { user: 'drill', pass: 's3cret-smtp-pass' } });
    closers.push(smtp.close);
    const channel = new EmailChannel('oncall', {
      host: '127.0.0.1',
      port: smtp.port,
      security: 'none',
      user: 'drill',
      password: 's3cret-smtp-pass',
      from: 'drill@example.test',
      to: ['oncall@example.test', 'lead@example.test'],
      timeoutMs: 5000,
    });
    const result = await channel.deliver(notice, signal);
    expect(result).toEqual({ outcome: 'accepted', status: 250 });
    expect(smtp.logins).toEqual([{ user: 'drill', ok: true }]);
    const [mail] = smtp.mails;
    expect(mail!.from).toBe('drill@example.test');
    expect(mail!.to).toEqual(['oncall@example.test', 'lead@example.test']);
    expect(mail!.subject).toBe(notice.subject);
    expect(mail!.text).toBe(notice.body);
    expect(mail!.headers['x-drill-run']).toBe('20261202T091500-pg-test');
  });

  it('a wrong password and a rejected message are refused with the server\'s reply code', async () => {
    const smtp = await startSmtpReceiver({ auth: { user: 'drill', pass: 'right' } });
    closers.push(smtp.close);
    const settings = { host: '127.0.0.1', port: smtp.port, security: 'none' as const, user: 'drill', from: 'drill@example.test', to: ['a@example.test'], timeoutMs: 5000 };
    const wrong = await new EmailChannel('oncall', { ...settings, password: 'wrong' }).deliver(alert, signal);
    expect(wrong).toMatchObject({ outcome: 'refused', status: 535 });
    expect(smtp.mails).toEqual([]);

    const rejecting = await startSmtpReceiver({ reject: true });
    closers.push(rejecting.close);
    const rejected = await new EmailChannel('oncall', { host: '127.0.0.1', port: rejecting.port, security: 'none', from: 'drill@example.test', to: ['a@example.test'], timeoutMs: 5000 }).deliver(alert, signal);
    expect(rejected).toMatchObject({ outcome: 'refused', status: 554 });
  });

  it('security: starttls never sends the password over a session the server did not upgrade', async () => {
    const smtp = await startSmtpReceiver({ auth: { user: 'drill', pass: 'pw-never-in-clear' } });
    closers.push(smtp.close);
    const result = await new EmailChannel('oncall', {
      host: '127.0.0.1',
      port: smtp.port,
      security: 'starttls',
      user: 'drill',
      password: 'pw-never-in-clear',
      from: 'drill@example.test',
      to: ['a@example.test'],
      timeoutMs: 5000,
    }).deliver(alert, signal);
    expect(result.outcome).not.toBe('accepted');
    expect(result.error).toMatch(/STARTTLS/i);
    expect(smtp.logins).toEqual([]);
    expect(smtp.mails).toEqual([]);
  });

  it('security: starttls upgrades the session before AUTH and sends; tls from the first byte; both verify the server against ca', async () => {
    const { key, cert } = selfSignedCertificate(certDir);
    const base = { host: '127.0.0.1', user: 'drill', password: 'pw-over-tls', from: 'drill@example.test', to: ['a@example.test'], timeoutMs: 5000 };

    const starttls = await startSmtpReceiver({ auth: { user: 'drill', pass: 'pw-over-tls' }, tls: { key, cert } });
    closers.push(starttls.close);
    expect(await new EmailChannel('oncall', { ...base, port: starttls.port, security: 'starttls', ca: cert }).deliver(alert, signal)).toEqual({ outcome: 'accepted', status: 250 });
    expect(starttls.mails.map((m) => [m.secure, m.user, m.subject])).toEqual([[true, 'drill', alert.subject]]);

    const implicit = await startSmtpReceiver({ auth: { user: 'drill', pass: 'pw-over-tls' }, tls: { key, cert, implicit: true } });
    closers.push(implicit.close);
    expect(await new EmailChannel('oncall', { ...base, port: implicit.port, security: 'tls', ca: cert }).deliver(alert, signal)).toMatchObject({ outcome: 'accepted' });
    expect(implicit.mails.map((m) => m.secure)).toEqual([true]);

    // Without the CA the certificate is not trusted: nothing is sent, the password included.
    const untrusted = await new EmailChannel('oncall', { ...base, port: starttls.port, security: 'starttls' }).deliver(alert, signal);
    expect(untrusted.outcome).toBe('error');
    expect(untrusted.error).toMatch(/self[- ]signed/i);
    expect(starttls.logins).toEqual([{ user: 'drill', ok: true }]);
  });
});
