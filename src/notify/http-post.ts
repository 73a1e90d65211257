import type { DeliveryResult } from './channel.js';

/** The part of an answer kept for the journal: receivers sometimes say why they refused. */
const MAX_ANSWER = 200;

/**
 * POSTs JSON once. A 2xx is accepted; any other answer refused (redirects are not followed: a
 * webhook that moved is a configuration to fix, not a place to send the message on to); no answer
 * within `timeoutMs` is an error. Rejects only when `signal` aborts.
 */
export async function postJson(url: string, payload: unknown, timeoutMs: number, signal: AbortSignal): Promise<DeliveryResult> {
  const timer = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      redirect: 'manual',
      signal: AbortSignal.any([signal, timer]),
    });
    const answer = (await response.text().catch(() => '')).slice(0, MAX_ANSWER);
    if (response.status >= 200 && response.status < 300) return { outcome: 'accepted', status: response.status };
    return { outcome: 'refused', status: response.status, error: `HTTP ${response.status}${answer ? `: ${answer}` : ''}` };
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (timer.aborted) return { outcome: 'error', error: `no answer within ${timeoutMs}ms` };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { outcome: 'error', error: cause?.message ?? (error as Error).message };
  }
}

/** scheme://host:port of a URL: all of it that may be recorded. */
export function urlOrigin(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}
