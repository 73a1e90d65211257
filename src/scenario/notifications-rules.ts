import { readFileSync } from 'node:fs';
import type { PathIssue } from './issues.js';
import { ROLLBACK_STEPS } from './rollback-steps.js';
import { resolveFromScenario } from './scenario-paths.js';
import { isRecord } from './schema-walk.js';
import type { KeyPath } from './yaml-locate.js';

/**
 * Cross-key rules of the notification vocabulary (notifications-schema.ts). `isSecret` says which
 * values were filled from the environment, and `raw` is the document as written (before ${VAR} was
 * filled in): an SMTP password or a webhook token written into the scenario file would be in the
 * journal's copy of the scenario and in the evidence, where no Redactor can take it back.
 */
export function notificationIssues(data: unknown, context: { isSecret: (path: KeyPath) => boolean; scenarioFile?: string; raw?: unknown }): PathIssue[] {
  const { isSecret } = context;
  if (!isRecord(data)) return [];
  const issues: PathIssue[] = [];
  const settings = isRecord(data.notifications) ? data.notifications : undefined;
  const steps = Array.isArray(data.recovery) ? data.recovery : [];
  const notifySteps = steps.flatMap((s, i) => (isRecord(s) && s.step === 'notify' ? [i] : []));
  // Declaring a security incident announces it (activate-incident-response.ts): an Initial Alert too.
  const alertingSteps = steps.filter((s) => isRecord(s) && s.step === 'activate-incident-response').length + notifySteps.length;

  if (!settings) {
    for (const i of notifySteps) {
      issues.push({ path: ['recovery', i, 'step'], anchor: 'value', message: 'a notify step sends to the channels of notifications:, and the scenario has none; add notifications: { channels: [...] }' });
    }
    if (isRecord(data.expect) && 'notification' in data.expect) {
      issues.push({ path: ['expect', 'notification'], anchor: 'key', message: 'the notification check needs notifications: { channels: [...] }; add them, or remove expect.notification' });
    }
    if (isRecord(data.expect) && 'notificationUpdates' in data.expect) {
      issues.push({ path: ['expect', 'notificationUpdates'], anchor: 'key', message: 'updates go to the channels of notifications:, and the scenario has none; add notifications: { channels: [...], on: [..., update] }, or remove expect.notificationUpdates' });
    }
    return issues;
  }

  const on = Array.isArray(settings.on) ? settings.on : ['detection', 'resolution'];
  if (!on.includes('detection') && alertingSteps === 0) {
    issues.push({
      path: ['notifications', 'on'],
      anchor: 'value',
      message: 'nothing would send the "Initial Alert" the notification check waits for: add detection to on, or a notify or activate-incident-response step to recovery',
    });
  }

  // A rollback message comes only from a rollback step's end (rollback-notice.ts).
  const rollbackSteps = steps.filter((s) => isRecord(s) && ROLLBACK_STEPS.has(String(s.step))).length;
  if (on.includes('rollback') && rollbackSteps === 0) {
    issues.push({
      path: ['notifications', 'on'],
      anchor: 'value',
      message: `on: rollback announces the end of a rollback step, and recovery has none (${[...ROLLBACK_STEPS].join(', ')}); add one, or remove rollback from on`,
    });
  }

  const channels = Array.isArray(settings.channels) ? settings.channels : [];
  const seen = new Set<unknown>();
  channels.forEach((channel, i) => {
    if (!isRecord(channel)) return;
    if (seen.has(channel.name)) {
      issues.push({ path: ['notifications', 'channels', i, 'name'], anchor: 'value', message: `another channel is named ${String(channel.name)}; give each channel a name of its own` });
    }
    seen.add(channel.name);
    if (channel.type === 'slack' || channel.type === 'webhook') {
      const message = literalTokenIssue(rawChannelValue(context.raw, i, 'url'), channel.url);
      if (message) issues.push({ path: ['notifications', 'channels', i, 'url'], anchor: 'value', message });
      return;
    }
    if (channel.type !== 'email') return;
    // `${VAR}` still in the value: unset, and not required here (drill list); it will come from the environment.
    const fromEnvironment = isSecret(['notifications', 'channels', i, 'password']) || (typeof channel.password === 'string' && channel.password.includes('${'));
    if (channel.password !== undefined && !fromEnvironment) {
      issues.push({
        path: ['notifications', 'channels', i, 'password'],
        anchor: 'value',
        message: 'write the SMTP password as ${VARIABLE} (e.g. password: ${SMTP_PASSWORD}) and export it: a password in the file ends up in the journal and the evidence',
      });
    }
    if (typeof channel.ca === 'string') issues.push(...caIssues(channel.ca, channel.security, ['notifications', 'channels', i, 'ca'], context.scenarioFile));
    if (channel.security === 'none' && (channel.user !== undefined || channel.password !== undefined) && typeof channel.host === 'string' && !isLoopbackHost(channel.host)) {
      issues.push({
        path: ['notifications', 'channels', i, 'security'],
        anchor: 'value',
        message: `security: none would send the SMTP password in clear text to ${isSecret(['notifications', 'channels', i, 'host']) ? 'the host' : channel.host}; use security: starttls or tls (plain SMTP with AUTH is only for a test server on localhost or 127.0.0.0/8)`,
      });
    }
    if ((channel.user === undefined) !== (channel.password === undefined)) {
      const missing = channel.user === undefined ? 'user' : 'password';
      issues.push({ path: ['notifications', 'channels', i, channel.user === undefined ? 'password' : 'user'], anchor: 'key', message: `SMTP AUTH needs user and password; add ${missing}, or remove both` });
    }
  });
  return issues;
}

/** The value as written in the file, before ${VAR} was filled in. */
function rawChannelValue(raw: unknown, i: number, key: string): unknown {
  const settings = isRecord(raw) && isRecord(raw.notifications) ? raw.notifications : undefined;
  const channel = settings && Array.isArray(settings.channels) ? settings.channels[i] : undefined;
  return isRecord(channel) ? channel[key] : undefined;
}

const VARIABLE = /(?<!\$)\$\{[A-Za-z_][A-Za-z0-9_]*\}/g;

/**
 * A webhook URL's token (Slack's /services/T…/B…/…, a ?token=, user:password@) written into the file
 * would be in the journal's copy of the scenario, the evidence and the Allure results: only values
 * filled from the environment are masked there. So each part that may carry one, userinfo, query
 * and a path other than `/`, must hold a ${VAR} as written; a path is also fine when the query
 * holds the variable (`/incidents?token=${TOKEN}`). Undefined when the URL is fine.
 */
function literalTokenIssue(written: unknown, filled: unknown): string | undefined {
  if (typeof written !== 'string' || typeof filled !== 'string' || !URL.canParse(filled)) return undefined;
  const url = new URL(filled);
  const hasPath = url.pathname !== '/' && url.pathname !== '';
  if (!url.username && !url.password && !hasPath && !url.search) return undefined;
  // The URL as written, each variable a mark: which of its parts hold one.
  const MARK = '\u0000';
  const skeleton = /^([a-z][a-z0-9+.-]*:)\/\/([^/?#]*)([^?#]*)(\?[^#]*)?/i.exec(written.replace(VARIABLE, MARK));
  // Not even the scheme written literally: the whole URL comes from the environment.
  if (!skeleton) return undefined;
  const [, , authority = '', path = '', query = ''] = skeleton;
  const at = authority.lastIndexOf('@');
  const literal = [
    at >= 0 && !authority.slice(0, at).includes(MARK) ? 'user:password@' : undefined,
    path.length > 1 && !path.includes(MARK) && !query.includes(MARK) ? 'path' : undefined,
    query.length > 1 && !query.includes(MARK) ? 'query' : undefined,
  ].filter((part): part is string => part !== undefined);
  if (literal.length === 0) return undefined;
  return `the URL's ${literal.join(' and ')} may carry its token, and is written into the file, so it would end up in the journal, the evidence and the Allure results; write it as \${SLACK_WEBHOOK_URL} (or keep the host and put the rest in a variable: https://hooks.slack.com/services/\${SLACK_WEBHOOK_PATH}) and export it`;
}

/** Where plain SMTP may carry a password: this machine (localhost, 127.0.0.0/8, ::1). */
function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** `ca` is read when the drill starts: a file that is not there, or not PEM, is refused now. */
function caIssues(ca: string, security: unknown, path: KeyPath, scenarioFile: string | undefined): PathIssue[] {
  if (security === 'none') return [{ path, anchor: 'key', message: 'ca is the CA of a TLS server, and security is none; remove ca, or use security: starttls or tls' }];
  // An unset ${VAR} names no file; the variable is reported (or, for `drill list`, not required).
  if (ca.includes('${')) return [];
  const file = resolveFromScenario(scenarioFile, ca);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return [{ path, anchor: 'value', message: `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); give a PEM file of the CA, relative to the scenario file` }];
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) return [{ path, anchor: 'value', message: `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` }];
  return [];
}
