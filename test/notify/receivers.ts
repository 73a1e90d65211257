import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** Receivers the notification tests start on 127.0.0.1 only: real HTTP and real SMTP. */

export interface ReceivedPost {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface WebhookReceiver {
  port: number;
  url(path: string): string;
  posts: ReceivedPost[];
  /** Every request, whatever was answered. */
  requests: number;
  close(): Promise<void>;
}

/** A webhook receiver answering `status(n, body)` to the n-th request (1-based). */
export async function startWebhookReceiver(status: (n: number, body: Record<string, unknown>) => number = () => 200): Promise<WebhookReceiver> {
  const posts: ReceivedPost[] = [];
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests += 1;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const answer = status(requests, body);
      if (answer >= 200 && answer < 300) posts.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'receiver says no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    posts,
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export interface ReceivedMail {
  /** Whether the session was encrypted (STARTTLS or TLS) when the message came. */
  secure: boolean;
  from: string;
  to: string[];
  user?: string;
  headers: Record<string, string>;
  subject: string;
  text: string;
}

export interface SmtpReceiver {
  port: number;
  mails: ReceivedMail[];
  logins: Array<{ user: string; ok: boolean }>;
  close(): Promise<void>;
}

/**
 * An SMTP server on 127.0.0.1 (smtp-server). With `auth`, AUTH is required and only that
 * user/password is accepted; `reject` answers 554 to every message after DATA.
 */
export async function startSmtpReceiver(
  options: { auth?: { user: string; pass: string }; reject?: boolean; offerStartTls?: boolean; tls?: { key: string; cert: string; implicit?: boolean } } = {},
): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const logins: Array<{ user: string; ok: boolean }> = [];
  const server = new SMTPServer({
    logger: false,
    secure: options.tls?.implicit === true,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    authOptional: !options.auth,
    // With a certificate, AUTH only once the session is encrypted, as a real server does.
    allowInsecureAuth: !options.tls,
    disabledCommands: options.tls || options.offerStartTls ? [] : options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    onAuth(auth, _session, callback) {
      const ok = auth.username === options.auth?.user && auth.password === options.auth?.pass;
      logins.push({ user: auth.username ?? '', ok });
      if (!ok) return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (options.reject) return callback(Object.assign(new Error('Message rejected by the drill test'), { responseCode: 554 }));
        const raw = Buffer.concat(chunks).toString('utf8');
        const parsed = parseMail(raw);
        mails.push({
          secure: session.secure,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          ...(typeof session.user === 'string' ? { user: session.user } : {}),
          ...parsed,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, logins, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Enough of RFC 5322/2045 for what nodemailer writes: unfolded headers, quoted-printable or 7bit text, encoded-word subjects. */
export function parseMail(raw: string): { headers: Record<string, string>; subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let text = raw.slice(split + 4);
  if (/quoted-printable/i.test(headers['content-transfer-encoding'] ?? '')) text = decodeQuotedPrintable(text);
  else if (/base64/i.test(headers['content-transfer-encoding'] ?? '')) text = Buffer.from(text, 'base64').toString('utf8');
  return { headers, subject: decodeWords(headers.subject ?? ''), text: text.replace(/\r\n/g, '\n').replace(/\n$/, '') };
}

function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    if (joined[i] === '=' && /^[0-9A-F]{2}$/i.test(joined.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(joined[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeWords(text: string): string {
  return text.replace(/=\?utf-8\?([BQ])\?([^?]*)\?=\s*/gi, (_, enc: string, data: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')),
  );
}

/** A throw-away self-signed certificate for 127.0.0.1 (it is its own CA), made with openssl in `dir`. */
export function selfSignedCertificate(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/** The Slack-compatible and generic webhooks and the SMTP server a notification fixture names, on 127.0.0.1. */
export interface Receivers {
  slack: WebhookReceiver;
  hook: WebhookReceiver;
  smtp: SmtpReceiver;
  /** What points the fixture at them (DRILL_TEST_*_PORT, the hook token and SMTP password). */
  env: Record<string, string>;
  /** The token and password: no run file may contain them. */
  secrets: string[];
  close(): Promise<void>;
}

/** The three receivers; `hookStatus` decides what the generic webhook answers each message. */
export async function startReceivers(hookStatus?: (n: number, body: Record<string, unknown>) => number): Promise<Receivers> {
  const token = `hooktoken-${randomBytes(12).toString('hex')}`;
  const password = `smtp-pass-${randomBytes(12).toString('hex')}`;
  const slack = await startWebhookReceiver();
  const hook = await startWebhookReceiver(hookStatus);
  const smtp = await startSmtpReceiver({ auth: { user: 'drill', pass: password } });
  return {
    slack,
    hook,
    smtp,
    env: {
      DRILL_TEST_SLACK_PORT: String(slack.port),
      DRILL_TEST_HOOK_PORT: String(hook.port),
      DRILL_TEST_HOOK_TOKEN: token,
      DRILL_TEST_SMTP_PORT: String(smtp.port),
      DRILL_TEST_SMTP_PASSWORD: password,
    },
    secrets: [token, password],
    close: async () => {
      await slack.close();
      await hook.close();
      await smtp.close();
    },
  };
}
