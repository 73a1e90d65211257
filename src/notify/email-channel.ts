import type { DeliveryResult, NotificationChannel } from './channel.js';
import type { NotificationMessage } from './message.js';

export interface EmailSettings {
  host: string;
  port: number;
  security: 'starttls' | 'tls' | 'none';
  user?: string;
  password?: string;
  from: string;
  to: readonly string[];
  timeoutMs: number;
  /** PEM of the CA(s) the server's certificate must chain to; default Node's. */
  ca?: string;
}

/**
 * Email over SMTP with nodemailer, one connection per attempt (a drill sends a handful of
 * messages; a pool would outlive the drill). `starttls` makes nodemailer refuse to go on without
 * the upgrade, so credentials never cross a plain connection to a real server.
 */
export class EmailChannel implements NotificationChannel {
  readonly type = 'email';
  readonly destination: string;

  constructor(
    readonly name: string,
    private readonly settings: EmailSettings,
  ) {
    this.destination = `smtp://${settings.host}:${settings.port}`;
  }

  async deliver(message: NotificationMessage, signal: AbortSignal): Promise<DeliveryResult> {
    const s = this.settings;
    // Loaded by the first email, not by every drill process's start (a few tens of milliseconds).
    const { default: nodemailer } = await import('nodemailer');
    const transport = nodemailer.createTransport({
      host: s.host,
      port: s.port,
      secure: s.security === 'tls',
      requireTLS: s.security === 'starttls',
      ignoreTLS: s.security === 'none',
      ...(s.user !== undefined && s.password !== undefined ? { auth: { user: s.user, pass: s.password } } : {}),
      connectionTimeout: s.timeoutMs,
      greetingTimeout: s.timeoutMs,
      socketTimeout: s.timeoutMs,
      ...(s.ca !== undefined ? { tls: { ca: s.ca } } : {}),
      logger: false,
      debug: false,
    });
    // nodemailer takes no AbortSignal: the attempt is raced against it, and the transport closed.
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      const info = await Promise.race([
        transport.sendMail({
          from: s.from,
          to: [...s.to],
          subject: message.subject,
          text: message.body,
          headers: { 'X-Drill-Run': message.runId, 'X-Drill-Incident': message.incidentId },
          // The message is built from text alone: no attachment or URL nodemailer would fetch.
          disableFileAccess: true,
          disableUrlAccess: true,
        }),
        aborted,
      ]);
      const rejected = (info.rejected ?? []).map(String);
      if (rejected.length > 0) return { outcome: 'refused', error: `the server refused ${rejected.join(', ')}: ${info.response}` };
      return { outcome: 'accepted', status: replyCode(info.response) };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const e = error as { responseCode?: number; code?: string; message?: string };
      if (typeof e.responseCode === 'number') return { outcome: 'refused', status: e.responseCode, error: e.message ?? String(error) };
      return { outcome: 'error', error: `${e.code ? `${e.code}: ` : ''}${e.message ?? String(error)}` };
    } finally {
      signal.removeEventListener('abort', onAbort);
      transport.close();
    }
  }
}

function replyCode(response: string | undefined): number | undefined {
  const code = Number.parseInt(response ?? '', 10);
  return Number.isFinite(code) ? code : undefined;
}
