import { readFile } from 'node:fs/promises';
import type { DrillContext } from '../../engine/drill-context.js';
import { apiMessage } from '../../targets/kubernetes/kube-api.js';
import type { CollectedFile, ForensicCollector } from './collected-file.js';

const noCluster = (ctx: DrillContext) => (ctx.has('k8s') ? undefined : 'the scenario has no Kubernetes (targets.kubernetes)');

/** An object as evidence: without managedFields (bookkeeping of who last wrote which field, not state). */
function plain<T extends { metadata?: { managedFields?: unknown } }>(object: T): T {
  const { managedFields: _dropped, ...metadata } = object.metadata ?? {};
  return { ...object, metadata };
}

/**
 * The state of the compromised workload on Kubernetes as it was before containment: every pod of
 * the drill's namespace (spec and status, the service account each runs as, the node), the
 * namespace's events, and the nodes those pods ran on (conditions, taints, schedulability).
 */
export const kubernetesObjects: ForensicCollector = {
  kind: 'kubernetes-objects',
  unavailable: noCluster,
  async collect(ctx) {
    const { api, namespace } = ctx.k8s;
    const pods = (await api.core.listNamespacedPod({ namespace })).items.map(plain);
    const events = (await api.core.listNamespacedEvent({ namespace })).items.map(plain);
    const nodeNames = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => typeof n === 'string'))].sort();
    const nodes = await Promise.all(nodeNames.map(async (name) => plain(await api.core.readNode({ name }))));
    const file = (name: string, value: unknown, how: string): CollectedFile => ({ name, text: JSON.stringify(value, null, 2), json: true, how });
    return [
      file('kubernetes-pods.json', pods, `pods of namespace ${namespace} from the kube-apiserver (${pods.length})`),
      file('kubernetes-events.json', events, `events of namespace ${namespace} from the kube-apiserver (${events.length})`),
      file('kubernetes-nodes.json', nodes, `the nodes those pods ran on (${nodeNames.join(', ') || 'none'})`),
    ];
  },
};

/** Every container's log of every pod in the drill's namespace, through the kube-apiserver (the kubelet serves it). */
export const podLogs: ForensicCollector = {
  kind: 'pod-logs',
  unavailable: noCluster,
  async collect(ctx) {
    const { api, namespace } = ctx.k8s;
    const files: CollectedFile[] = [];
    for (const pod of (await api.core.listNamespacedPod({ namespace })).items) {
      const name = pod.metadata!.name!;
      for (const container of pod.spec?.containers ?? []) {
        const text = await api.core.readNamespacedPodLog({ name, namespace, container: container.name, timestamps: true }).catch((error: unknown) => {
          throw new Error(`the log of ${namespace}/${name} container ${container.name} is not readable: ${apiMessage(error)}`);
        });
        files.push({ name: `pod-logs/${name}/${container.name}.log`, text: String(text), json: false, how: `kubectl logs ${name} -c ${container.name} --timestamps (namespace ${namespace}, node ${pod.spec?.nodeName ?? 'none'})` });
      }
    }
    if (files.length === 0) throw new Error(`namespace ${namespace} has no pod whose log could be read`);
    return files;
  },
};

/** The credential ids an audit event names (user.extra["authentication.kubernetes.io/credential-id"]). */
function credentialIdsOf(line: string): string[] {
  const event = JSON.parse(line) as { user?: { extra?: Record<string, unknown> } };
  const ids = event.user?.extra?.['authentication.kubernetes.io/credential-id'];
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}

/**
 * The kube-apiserver's audit log (Metadata level: who did what to which object, with which result),
 * where the harness runs the apiserver and so has the file: the events of the window that concern
 * the drill's namespace, its objects or one of its service accounts (the attacker's requests with a
 * leaked service-account token among them), one JSON object a line as the apiserver wrote them;
 * and, per leaked credential the apiserver names by a credential id (a bound token's JTI), a file of
 * the events made with it (none: a gap, the check fails).
 */
export const apiserverAuditLog: ForensicCollector = {
  kind: 'apiserver-audit-log',
  unavailable: (ctx) => noCluster(ctx) ?? (ctx.k8s.cluster.auditLogPath ? undefined : `the apiserver of ${ctx.k8s.cluster.name} is not run by the drill: its audit log is not readable here`),
  async collect(ctx, window) {
    const { namespace, cluster } = ctx.k8s;
    const from = Date.parse(window.from.wall);
    const account = `system:serviceaccount:${namespace}:`;
    const lines = (await readFile(cluster.auditLogPath!, 'utf8')).split('\n').filter((line) => {
      if (!line) return false;
      try {
        const event = JSON.parse(line) as { stageTimestamp?: string; user?: { username?: string }; objectRef?: { namespace?: string; resource?: string; name?: string } };
        const concerns = event.objectRef?.namespace === namespace || (event.objectRef?.resource === 'namespaces' && event.objectRef.name === namespace) || (event.user?.username ?? '').startsWith(account);
        return concerns && Date.parse(event.stageTimestamp ?? '') >= from;
      } catch {
        return false;
      }
    });
    if (lines.length === 0) throw new Error(`the audit log ${cluster.auditLogPath} has no event of namespace ${namespace} since ${window.from.wall}`);
    const files: CollectedFile[] = [
      { name: 'apiserver-audit.jsonl', text: `${lines.join('\n')}\n`, json: false, how: `audit events of namespace ${namespace} and its service accounts since ${window.from.wall}, from ${cluster.auditLogPath}` },
    ];
    // Each leaked credential the apiserver names (a bound token's JTI): its own requests, complete for the window.
    for (const credential of (ctx.recorder.journal.attacker?.credentials ?? []).filter((c) => c.credentialId)) {
      const own = lines.filter((line) => credentialIdsOf(line).includes(credential.credentialId!));
      if (own.length === 0) throw new Error(`the audit log has no request made with ${credential.name} (${credential.credentialId}) since ${window.from.wall}`);
      files.push({
        name: `apiserver-audit-${credential.name}.jsonl`,
        text: `${own.join('\n')}\n`,
        json: false,
        how: `the ${own.length} audit event(s) of the leaked credential ${credential.name} (${credential.fingerprint}), selected by its credential id ${credential.credentialId}`,
      });
    }
    return files;
  },
};
