import type { NotificationMessage } from './message.js';

/** How one attempt ended; a channel never throws for a message it could not deliver. */
export interface DeliveryResult {
  outcome: 'accepted' | 'refused' | 'error';
  /** HTTP status or SMTP reply code. */
  status?: number;
  error?: string;
}

/**
 * Where notifications go (a webhook, an SMTP server). One attempt per `deliver`; retries are the
 * Notifier's. Only an abort of `signal` (the drill interrupted) rejects.
 */
export interface NotificationChannel {
  readonly name: string;
  readonly type: 'slack' | 'webhook' | 'email';
  /** What may be written down of where it goes: scheme, host and port (never a URL's path: it may hold a token). */
  readonly destination: string;
  deliver(message: NotificationMessage, signal: AbortSignal): Promise<DeliveryResult>;
}
