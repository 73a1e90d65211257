import { readFileSync } from 'node:fs';

/** Polls `check` until it returns a value (not undefined), or fails naming what it waited for and the last value seen. */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface AuditEvent {
  level: string;
  stage: string;
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  requestObject?: unknown;
  stageTimestamp: string;
}

export function readAuditLog(file: string): AuditEvent[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEvent);
}

/** The HTTP status of a failed @kubernetes/client-node call. */
export async function statusOf(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
    return { code: 200, message: '' };
  } catch (error) {
    const e = error as { code?: number; body?: unknown };
    const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
    return { code: e.code ?? -1, message: body };
  }
}
