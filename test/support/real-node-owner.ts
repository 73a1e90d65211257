/**
 * A process that starts a local control plane with one real node and a running pod, prints
 * `ready <root> <cgroup parent>`, then waits to be killed: the kill -9 test of
 * test/kubernetes/real-node-lifecycle.test.ts reaps what it leaves from its ledger alone.
 *   node --import tsx test/support/real-node-owner.ts <ledger file>
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { LocalControlPlane } from '../../src/targets/kubernetes/local-control-plane.js';
import { buildNodeImages } from '../../src/targets/kubernetes/real-nodes/node-images.js';

const ledgerFile = process.argv[2]!;
const cp = await LocalControlPlane.start({ runId: 'real-node-owner', ledger: new ResourceLedger(ledgerFile), nodes: 0, realNodes: 1, nodeImages: await buildNodeImages() });
const core = cp.connect().makeApiClient(CoreV1Api);
await core.createNamespacedPod({
  namespace: 'default',
  body: { metadata: { name: 'sleeper' }, spec: { containers: [{ name: 'pause', image: 'drill.local/pause:3.10', imagePullPolicy: 'Never' }] } },
});
for (;;) {
  const pod = await core.readNamespacedPod({ name: 'sleeper', namespace: 'default' });
  if (pod.status?.phase === 'Running') break;
  await new Promise((r) => setTimeout(r, 250));
}
process.stdout.write(`ready ${cp.root} drill-${cp.name}\n`);
setInterval(() => undefined, 60_000);
