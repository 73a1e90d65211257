import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { validationError as invalid } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-notify-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENV = { SMTP_PASSWORD: 'pw-from-env-123', HOOK_PORT: '8123', HOOK_PATH: 'x', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0FROMENV/B0FROMENV/abcFromEnv123', ALERT_TOKEN: 'alert-token-from-env' };

function scenario(name: string, extra: string, step = '{step: migration-current}'): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ntitle: t\nrunbook: r\nseverity: P2\ntargets: {postgres: {provider: native}}\nworkload:\n  probes:\n    - {type: sql, name: q, query: select 1}\n` +
      `faults:\n  - {type: pg-primary-crash}\nrecovery:\n  - ${step}\n${extra}`,
  );
  return file;
}

const load = (file: string) => loadScenarioFile(file, { env: ENV });
const problems = async (file: string) => (await invalid(load(file))).issues.map((i) => `${i.line}:${i.keyPath}: ${i.message}`).join('\n');

const mail = (more: string) => `    - {type: email, name: mail, host: smtp.example.test, from: d@example.test, to: [o@example.test]${more}}\n`;

describe('notifications: scenario rules', () => {
  it('loads channels with their defaults; ${VAR} fills URL and port', async () => {
    const { scenario: s } = await load(
      scenario('ok', `notifications:\n  channels:\n    - {type: slack, name: ops, url: "http://127.0.0.1:\${HOOK_PORT}/\${HOOK_PATH}"}\n${mail(', port: "${HOOK_PORT}", user: u, password: "${SMTP_PASSWORD}"')}`, '{step: notify, message: rolling back}'),
    );
    expect(s.notifications).toMatchObject({ on: ['detection', 'resolution'], attempts: 3, retryDelay: 1000 });
    expect(s.notifications!.channels[0]).toEqual({ type: 'slack', name: 'ops', url: 'http://127.0.0.1:8123/x', timeout: 10_000 });
    expect(s.notifications!.channels[1]).toMatchObject({ port: 8123, security: 'starttls', password: 'pw-from-env-123' });
    expect(s.recovery[0]).toMatchObject({ step: 'notify', message: 'rolling back' });
    expect(s.expect.notification).toBe(60_000);
  });

  it('refuses a password written into the file, naming line and key', async () => {
    const text = await problems(scenario('literal-password', `notifications:\n  channels:\n${mail(', user: u, password: hunter2hunter2')}`));
    expect(text).toMatch(/^15:notifications\.channels\[0\]\.password: write the SMTP password as \$\{VARIABLE\}/);
    expect(text).not.toContain('hunter2hunter2');
  });

  it('refuses a webhook URL whose token is written into the file (path, query, user:password@), naming line and key', async () => {
    const hook = (url: string, type = 'slack') => `notifications:\n  channels:\n    - {type: ${type}, name: ops, url: "${url}"}\n`;
    const literal = 'https://hooks.slack.com/services/T0123ABCD/B0123ABCD/XyZliteralToken0123';
    const text = await problems(scenario('literal-token', hook(literal)));
    expect(text).toMatch(/^15:notifications\.channels\[0\]\.url: the URL's path may carry its token, .*write it as \$\{SLACK_WEBHOOK_URL\}/);
    expect(text).not.toContain('XyZliteralToken0123');
    expect(await problems(scenario('literal-query', hook('https://alerts.example.test/hook?token=abc123literal', 'webhook')))).toMatch(/channels\[0\]\.url: the URL's path and query may carry its token/);
    expect(await problems(scenario('literal-userinfo', hook('https://drill:s3cretpass@alerts.example.test/', 'webhook')))).toMatch(/channels\[0\]\.url: the URL's user:password@ may carry its token/);
    // A variable in the port does not make a literal path safe.
    expect(await problems(scenario('literal-path-var-port', hook('http://127.0.0.1:${HOOK_PORT}/services/T0/B0/literal')))).toMatch(/channels\[0\]\.url: the URL's path may carry/);

    // From the environment: the whole URL, the path after a literal prefix, the query's token; a bare host.
    for (const url of ['${SLACK_WEBHOOK_URL}', 'https://hooks.slack.com/services/${HOOK_PATH}', 'https://alerts.example.test/incidents?token=${ALERT_TOKEN}', 'https://alerts.example.test/', 'http://127.0.0.1:${HOOK_PORT}']) {
      const { scenario: s } = await load(scenario(`env-url-${url.length}`, hook(url)));
      expect(s.notifications!.channels[0]!.type).toBe('slack');
    }
  });

  it('refuses SMTP AUTH over plain SMTP (security: none) to a host other than this machine', async () => {
    const login = ', user: u, password: "${SMTP_PASSWORD}"';
    expect(await problems(scenario('plain-auth', `notifications:\n  channels:\n${mail(`, security: none${login}`)}`))).toMatch(
      /^15:notifications\.channels\[0\]\.security: security: none would send the SMTP password in clear text to smtp\.example\.test; use security: starttls or tls/,
    );
    // Loopback test servers, and plain SMTP without AUTH, are fine.
    for (const [name, more] of [['plain-auth-loopback', `, security: none${login}`], ['plain-no-auth', ', security: none']] as const) {
      const host = name === 'plain-auth-loopback' ? '127.0.0.2' : 'smtp.example.test';
      await load(scenario(name, `notifications:\n  channels:\n${mail(more).replace('smtp.example.test', host)}`));
    }
    await load(scenario('plain-auth-localhost', `notifications:\n  channels:\n${mail(`, security: none${login}`).replace('smtp.example.test', 'localhost')}`));
  });

  it('refuses a notify step or expect.notification without channels, half an SMTP login, two channels of one name, nothing to send the Initial Alert', async () => {
    expect(await problems(scenario('no-channels', '', '{step: notify, message: m}'))).toMatch(/recovery\[0\]\.step: a notify step sends to the channels of notifications:.*add notifications:/);
    expect(await problems(scenario('expect-only', 'expect: {notification: 30s}\n'))).toMatch(/expect\.notification: the notification check needs notifications:/);
    expect(await problems(scenario('half-login', `notifications:\n  channels:\n${mail(', user: u')}`))).toMatch(/channels\[0\]\.user: SMTP AUTH needs user and password; add password/);
    expect(await problems(scenario('same-name', `notifications:\n  channels:\n${mail('')}${mail('')}`))).toMatch(/channels\[1\]\.name: another channel is named mail/);
    expect(await problems(scenario('no-alert', `notifications:\n  on: [resolution]\n  channels:\n${mail('')}`))).toMatch(/notifications\.on: nothing would send the "Initial Alert"/);
  });

  it('refuses a URL that is not http(s), a bad address, an unknown key', async () => {
    expect(await problems(scenario('ftp', 'notifications:\n  channels:\n    - {type: webhook, name: h, url: "ftp://127.0.0.1/x"}\n'))).toMatch(/channels\[0\]\.url: .*http:\/\/ or https:\/\//);
    expect(await problems(scenario('bad-to', `notifications:\n  channels:\n    - {type: email, name: m, host: h, from: d@example.test, to: [not-an-address]}\n`))).toMatch(/channels\[0\]\.to\[0\]/);
    expect(await problems(scenario('typo', `notifications:\n  channels:\n${mail(', passwrd: x')}`))).toMatch(/channels\[0\]\.passwrd: unknown key/);
  });

  it('ca: a PEM file relative to the scenario file, for TLS only', async () => {
    writeFileSync(path.join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    writeFileSync(path.join(dir, 'not-pem.txt'), 'hello');
    const { scenario: s } = await load(scenario('ca-ok', `notifications:\n  channels:\n${mail(', ca: ca.pem')}`));
    expect(s.notifications!.channels[0]).toMatchObject({ ca: 'ca.pem' });
    expect(await problems(scenario('ca-none', `notifications:\n  channels:\n${mail(', security: none, ca: ca.pem')}`))).toMatch(/channels\[0\]\.ca: ca is the CA of a TLS server, and security is none/);
    expect(await problems(scenario('ca-missing', `notifications:\n  channels:\n${mail(', ca: missing.pem')}`))).toMatch(/channels\[0\]\.ca: cannot read .*missing\.pem \(ENOENT\)/);
    expect(await problems(scenario('ca-not-pem', `notifications:\n  channels:\n${mail(', ca: not-pem.txt')}`))).toMatch(/holds no PEM certificate/);
  });
});
