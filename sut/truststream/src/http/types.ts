import type { IncomingHttpHeaders } from 'node:http';

export interface Reply {
  status: number;
  /** Serialised as JSON unless `text` is set. */
  body?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /**
   * The request line's level when not the default (info; error for 5xx). An intended refusal such
   * as read-only mode is not a failure and is logged at warn.
   */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Logged with the request line (never a token or a connection string). */
  logFields?: Record<string, unknown>;
}

export interface Request {
  method: string;
  path: string;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  readJson(): Promise<unknown>;
}

export type Handler = (request: Request) => Promise<Reply>;

export interface Route {
  method: 'GET' | 'POST';
  /** `/api/transfers/:id`; also the `route` label of the metrics. */
  pattern: string;
  handler: Handler;
  /** Cheap endpoints polled by machines (/livez, /metrics): logged at debug, never slowed by a release. */
  infrastructure?: boolean;
}

/** A refusal a handler throws with the reply to send (bad body, bad id). */
export class HttpError extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`);
    this.name = 'HttpError';
  }
}
