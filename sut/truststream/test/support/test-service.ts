import { parseConfig } from '../../src/config.js';
import { startService, type RunningService } from '../../src/service.js';

export interface TestService {
  service: RunningService;
  url: string;
  /** Every log line the service wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** The raw log text (to check what never appears in it). */
  rawLogs(): string;
  stop(): Promise<void>;
}

/** The service in this process on 127.0.0.1 and a kernel-chosen port, configured through the same environment parsing as `main`. */
export async function startTestService(env: Record<string, string>, mode = 'api'): Promise<TestService> {
  const raw: string[] = [];
  const config = parseConfig({ VERSION: '4.4.0', PORT: '0', BIND: '127.0.0.1', LOG_LEVEL: 'debug', ...env }, { mode, instance: `test-${mode}` });
  const service = await startService(config, { logDestination: { write: (line: string) => void raw.push(line) } });
  return {
    service,
    url: `http://127.0.0.1:${service.port}`,
    get logs() {
      return raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    rawLogs: () => raw.join(''),
    stop: () => service.stop(2_000),
  };
}

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
  text: string;
  headers: Headers;
  ms: number;
}

/** One real HTTP request. */
export async function call(url: string, options: { method?: string; token?: string; body?: unknown } = {}): Promise<HttpAnswer> {
  const started = performance.now();
  const res = await fetch(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON (metrics) */
  }
  return { status: res.status, body, text, headers: res.headers, ms: performance.now() - started };
}

/** Polls until `check` holds or `timeoutMs` passes; returns the last value either way. */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}
