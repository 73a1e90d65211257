import http from 'node:http';

/** One GET's outcome: the HTTP status, or why there was none. */
export type HttpStatus = { status: number } | { error: string };

/**
 * One GET of `http://host:port<path>` with a hard timeout: a refused connection (a killed
 * process) and an accepted one that never answers (a frozen one) both end as an error.
 */
export function httpStatus(host: string, port: number, path: string, timeoutMs: number): Promise<HttpStatus> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: HttpStatus) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    };
    const request = http.get({ host, port, path, agent: false }, (response) => {
      response.resume();
      done({ status: response.statusCode ?? 0 });
    });
    const timer = setTimeout(() => done({ error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    request.on('error', (error) => done({ error: error.message }));
  });
}

export function describeStatus(result: HttpStatus): string {
  return 'status' in result ? `HTTP ${result.status}` : result.error;
}
