import { existsSync } from 'node:fs';
import http from 'node:http';

export interface DockerResponse {
  status: number;
  body: string;
}

/**
 * One request to a Docker engine's HTTP API, over its unix socket or TCP (no TLS). Small on
 * purpose: the harness asks an engine only whether it answers and to remove its own containers,
 * and the reaper must not load testcontainers to do that. Undefined when the engine does not answer.
 */
export function dockerRequest(host: string, method: 'GET' | 'DELETE' | 'POST', path: string, timeoutMs = 5000): Promise<DockerResponse | undefined> {
  const options: http.RequestOptions = { path, method, timeout: timeoutMs };
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (!existsSync(socketPath)) return Promise.resolve(undefined);
    options.socketPath = socketPath;
  } else if (host.startsWith('tcp://')) {
    const url = new URL(host.replace('tcp://', 'http://'));
    options.host = url.hostname;
    options.port = Number(url.port || 2375);
  } else {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const req = http.request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
