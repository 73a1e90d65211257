import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDatabaseError, isUnavailable, isWriteRefused, messageOf } from '../database.js';
import type { Logger } from '../logger.js';
import type { ServiceMetrics } from '../metrics.js';
import { createRouter } from './router.js';
import { HttpError, type Reply, type Request, type Route } from './types.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface HttpServerOptions {
  routes: readonly Route[];
  bind: string;
  port: number;
  logger: Logger;
  metrics: ServiceMetrics;
  /** A slow release's added latency (ms) on every non-infrastructure route. */
  addedLatencyMs?: number;
}

export interface RunningHttpServer {
  port: number;
  /** Stops accepting, lets requests in flight finish (closing idle keep-alive connections), then after `graceMs` cuts the rest. */
  close(graceMs: number): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const route = createRouter(options.routes);
  let closing = false;
  const server = http.createServer((req, res) => {
    void serve(req, res);
  });
  server.keepAliveTimeout = 5_000;

  async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0]!;
    let label = 'unmatched';
    let infrastructure = false;
    let reply: Reply;
    let failure: unknown;
    try {
      const match = route(method, path);
      if (match.kind === 'not-found') {
        reply = { status: 404, body: { error: 'not_found' } };
      } else if (match.kind === 'method-not-allowed') {
        label = match.pattern;
        reply = { status: 405, body: { error: 'method_not_allowed' }, headers: { allow: match.allowed.join(', ') } };
      } else {
        label = match.route.pattern;
        infrastructure = match.route.infrastructure ?? false;
        if (options.addedLatencyMs && !infrastructure) await sleep(options.addedLatencyMs);
        reply = await match.route.handler(request(req, path, match.params));
      }
    } catch (error) {
      reply = replyForError(error);
      failure = error instanceof HttpError ? undefined : error;
      if (isDatabaseError(failure)) options.metrics.databaseErrors.inc({ operation: `${method} ${label}` });
    }
    send(res, reply, closing);
    const seconds = (performance.now() - started) / 1000;
    options.metrics.requests.inc({ method, route: label, status: String(reply.status) });
    options.metrics.latency.observe({ method, route: label }, seconds);
    const level = reply.logLevel ?? (reply.status >= 500 ? 'error' : infrastructure ? 'debug' : 'info');
    options.logger[level](
      { method, route: label, path, status: reply.status, ms: Math.round(seconds * 1000), ...(failure !== undefined ? { err: messageOf(failure) } : {}), ...reply.logFields },
      'request',
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close(graceMs) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

function request(req: http.IncomingMessage, path: string, params: Record<string, string>): Request {
  return {
    method: req.method ?? 'GET',
    path,
    params,
    headers: req.headers,
    readJson: () => readJson(req),
  };
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError({ status: 413, body: { error: 'body_too_large', limitBytes: MAX_BODY_BYTES } });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError({ status: 400, body: { error: 'bad_request', problems: ['body: not valid JSON'] } });
  }
}

/** What an exception becomes: a refusal's own reply, 503 when the database is away or refuses writes, else 500. */
function replyForError(error: unknown): Reply {
  if (error instanceof HttpError) return error.reply;
  if (error instanceof URIError) return { status: 400, body: { error: 'bad_request', problems: ['path: malformed percent-encoding'] } };
  if (isUnavailable(error)) return { status: 503, body: { error: 'database_unavailable' } };
  if (isWriteRefused(error)) return { status: 503, body: { error: 'read_only', source: 'database' } };
  return { status: 500, body: { error: 'internal' } };
}

function send(res: http.ServerResponse, reply: Reply, closing: boolean): void {
  const payload = reply.text ?? JSON.stringify(reply.body ?? {});
  res.writeHead(reply.status, {
    'content-type': reply.contentType ?? 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    // While draining, tell keep-alive clients to reconnect (to another replica).
    ...(closing ? { connection: 'close' } : {}),
    ...reply.headers,
  });
  res.end(payload);
}
