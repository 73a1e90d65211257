import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listClusterNodes } from '../../src/targets/kubernetes/cluster-client.js';

// An apiserver's answer for a user without the right is an edge a test can serve for real on
// loopback (the real apiserver's 403 is covered in test/kubernetes/deploy-manifests.test.ts).
function kubeConfigFor(server: string, token = 'not-a-real-token'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

describe('listClusterNodes errors', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const code = req.headers.authorization === 'Bearer expired-token' ? 401 : req.url?.startsWith('/api/v1/nodes') ? 403 : 404;
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code, message: 'nodes is forbidden: User "u" cannot list resource "nodes"' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a 403 is K8S_FORBIDDEN, saying which grant is missing (not "unreachable")', async () => {
    const error = await listClusterNodes(kubeConfigFor(url)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'K8S_FORBIDDEN' });
    expect((error as Error).message).toMatch(/HTTP 403/);
    expect((error as Error).message).toMatch(/grant the drill list and get on nodes \(deploy\/optional\/node-reader\.yaml\)/);
    expect((error as Error).message).not.toContain('not-a-real-token');
  });

  it('a 401 is K8S_UNAUTHORIZED, pointing at the credentials, not at a grant', async () => {
    const error = await listClusterNodes(kubeConfigFor(url, 'expired-token')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'K8S_UNAUTHORIZED' });
    expect((error as Error).message).toMatch(/HTTP 401, the apiserver did not accept the credentials; check the kubeconfig's user/);
    expect((error as Error).message).not.toMatch(/grant/);
  });

  it('negative control: nothing listening is still K8S_UNREACHABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(listClusterNodes(kubeConfigFor(`http://127.0.0.1:${port}`))).rejects.toMatchObject({ code: 'K8S_UNREACHABLE' });
  });
});
