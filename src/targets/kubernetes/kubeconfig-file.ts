import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface KubeconfigSpec {
  /** Cluster, user and context share this name. */
  name: string;
  server: string;
  caPem: string;
  token: string;
}

/** A kubeconfig with one cluster, one bearer-token user and one context, as kubectl and client-node read it. */
export function kubeconfigYaml(spec: KubeconfigSpec): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: spec.name,
        cluster: { server: spec.server, 'certificate-authority-data': Buffer.from(spec.caPem).toString('base64') },
      },
    ],
    users: [{ name: spec.name, user: { token: spec.token } }],
    contexts: [{ name: spec.name, context: { cluster: spec.name, user: spec.name } }],
    'current-context': spec.name,
    preferences: {},
  });
}

/** Written 0600: it holds a cluster-admin token. */
export async function writeKubeconfig(file: string, spec: KubeconfigSpec): Promise<void> {
  await writeFile(file, kubeconfigYaml(spec), { mode: 0o600 });
}
