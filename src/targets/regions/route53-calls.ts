import createDebug from 'debug';
import { sleep } from '../../engine/clock.js';
import { EnvironmentError } from '../../engine/errors.js';

const debug = createDebug('drill:regions');

/**
 * How often and how long a throttled Route 53 call is retried. Route 53 allows five API requests
 * per second per account and answers `Throttling` beyond that, and `PriorRequestNotComplete` while
 * an earlier change of the same zone is still being applied: both pass by themselves, so they are
 * retried, with exponential backoff (jittered, capped), a bounded number of times. The SDK's own
 * retries are off (Route53Zone.client): this is the one bound, and the one the tests exercise.
 */
export interface Route53RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Backoff before the second attempt, ms; doubled for each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const ROUTE53_RETRY: Route53RetryPolicy = { attempts: 6, baseDelayMs: 250, maxDelayMs: 4_000 };

/** Error names Route 53 answers when the call may succeed if asked again later. */
const THROTTLED = new Set(['Throttling', 'ThrottlingException', 'PriorRequestNotComplete']);

/** What a call was about, for the messages: the operation, the zone, the record it changes. */
export interface Route53Call {
  operation: string;
  zoneId: string;
  record?: string;
}

/**
 * One Route 53 API call with drill's retry of throttling, and Route 53's errors turned into
 * drill's typed errors: throttled past the policy → ROUTE53_THROTTLED, an unknown zone →
 * ROUTE53_NO_SUCH_ZONE, a rejected change → ROUTE53_CHANGE_REJECTED (all environment errors here;
 * a recovery step that was making the change reports it as its own failure). Anything else is
 * rethrown as it came.
 */
export async function callRoute53<T>(call: Route53Call, send: () => Promise<T>, policy: Route53RetryPolicy = ROUTE53_RETRY, signal?: AbortSignal): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      const name = errorName(error);
      if (THROTTLED.has(name)) {
        if (attempt >= policy.attempts) {
          throw new EnvironmentError(
            'ROUTE53_THROTTLED',
            `Route 53 still answered ${name} to ${call.operation} on hosted zone ${call.zoneId} after ${attempt} attempts over ${((Date.now() - started) / 1000).toFixed(1)} s (${messageOf(error)}); ` +
              `another client is using the account's Route 53 request rate (5 requests per second) or is still changing this zone: wait for it and rerun the drill`,
            { cause: error },
          );
        }
        const delay = backoff(policy, attempt);
        debug('%s on %s: %s, attempt %d of %d, retrying in %d ms', call.operation, call.zoneId, name, attempt, policy.attempts, delay);
        await sleep(delay, signal);
        continue;
      }
      if (name === 'NoSuchHostedZone') {
        throw new EnvironmentError(
          'ROUTE53_NO_SUCH_ZONE',
          `Route 53 has no hosted zone ${call.zoneId} (${call.operation}: ${messageOf(error)}); it was deleted outside the drill, or the zone id given is wrong: check the zone id and rerun the drill`,
          { cause: error },
        );
      }
      if (name === 'InvalidChangeBatch') {
        throw new EnvironmentError(
          'ROUTE53_CHANGE_REJECTED',
          `Route 53 rejected the change of ${call.record ?? 'a record'} in hosted zone ${call.zoneId}: ${changeBatchMessages(error)}; fix the record (name, values, TTL) the step asks for`,
          { cause: error },
        );
      }
      throw error;
    }
  }
}

/** Exponential, capped, with "equal jitter": at least half the step, so retries stay spread but bounded. */
function backoff(policy: Route53RetryPolicy, attempt: number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + Math.random() * (step / 2));
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** InvalidChangeBatch carries one message per rejected change (`messages`) besides its summary. */
function changeBatchMessages(error: unknown): string {
  const messages = (error as { messages?: unknown }).messages;
  if (Array.isArray(messages) && messages.length > 0) return messages.map(String).join('; ');
  return messageOf(error);
}
