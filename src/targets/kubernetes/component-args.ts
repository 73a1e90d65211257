import path from 'node:path';
import { SERVICE_CIDR } from '../network/layout.js';
import type { Pki } from './pki.js';

/**
 * Command lines of the local control plane's components: pure functions of where things are, so
 * they can be read (and tested) in one place. Everything listens on 127.0.0.1 only.
 */

export interface ControlPlaneLayout {
  /** The temp directory holding everything below. */
  root: string;
  ports: {
    etcdClient: number;
    etcdPeer: number;
    apiserver: number;
    controllerManager: number;
    scheduler: number;
  };
  /** The file paths of the generated PKI. */
  pki: Omit<Pki, 'dir' | 'caPem'>;
  /** The apiserver's client certificate towards kubelets (logs, exec on real nodes). */
  kubeletClient: { cert: string; key: string };
  etcdDataDir: string;
  tokenFile: string;
  auditPolicyFile: string;
  auditLogPath: string;
  /** kwok's Stages (kwok-stages.yaml). */
  kwokConfig: string;
  kubeconfigs: { controllerManager: string; scheduler: string; kwok: string };
}

export interface ControlPlaneTuning {
  /** etcd's backend quota: small, these clusters hold a few hundred objects. */
  etcdQuotaBytes: number;
  /** How long a node may miss heartbeats before the node lifecycle controller marks it NotReady. */
  nodeMonitorGracePeriodSeconds: number;
  /** kwok renews each fake node's Lease like a kubelet with this lease duration. */
  nodeLeaseSeconds: number;
}

export const DEFAULT_TUNING: ControlPlaneTuning = {
  etcdQuotaBytes: 256 * 1024 * 1024,
  nodeMonitorGracePeriodSeconds: 40,
  nodeLeaseSeconds: 40,
};

/** In the drill range (src/targets/network/layout.ts), so nothing sent to a ClusterIP can leave the machine. */
export const SERVICE_CLUSTER_IP_RANGE = SERVICE_CIDR;
/**
 * Fake node i (from 0) gets 198.19.(128+i).0/24, like a node IPAM would hand out: inside the drill
 * range (real nodes use 198.19.0-127), so an address kwok makes up for a pod is never routed out.
 */
export function podCidrOf(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 127) throw new RangeError(`fake node index ${index} out of range 0..127`);
  return `198.19.${128 + index}.0/24`;
}
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

/**
 * The controllers drills rely on (Deployments, ReplicaSets, Services' EndpointSlices, node
 * failure handling, PodDisruptionBudgets, cascading deletes, namespaces, service accounts), not
 * all of them: a smaller controller manager leaves CPU to the drill on a 2-core machine.
 */
export const CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'statefulset-controller',
  'daemonset-controller',
  'job-controller',
  // deploy/'s game-day CronJob (test/kubernetes/deploy-manifests.test.ts); idle without CronJobs.
  'cronjob-controller',
  'endpointslice-controller',
  'endpoints-controller',
  'node-lifecycle-controller',
  'taint-eviction-controller',
  'pod-garbage-collector-controller',
  'disruption-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
];

/**
 * Metadata for every request (who did what to which object, when, with what result), without
 * bodies; Lease renewals and health checks are left out because they would be most of the log.
 */
export const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    resources:
      - group: coordination.k8s.io
        resources: ["leases"]
  - level: None
    nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version"]
  - level: Metadata
`;

const loop = (port: number) => `http://127.0.0.1:${port}`;

export function etcdArgs(l: ControlPlaneLayout, t: ControlPlaneTuning): string[] {
  return [
    '--name=drill',
    `--data-dir=${l.etcdDataDir}`,
    `--listen-client-urls=${loop(l.ports.etcdClient)}`,
    `--advertise-client-urls=${loop(l.ports.etcdClient)}`,
    `--listen-peer-urls=${loop(l.ports.etcdPeer)}`,
    `--initial-advertise-peer-urls=${loop(l.ports.etcdPeer)}`,
    `--initial-cluster=drill=${loop(l.ports.etcdPeer)}`,
    `--quota-backend-bytes=${t.etcdQuotaBytes}`,
    // Throwaway data on a shared machine: durability is not what the drill tests, latency is.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

export function apiserverArgs(l: ControlPlaneLayout): string[] {
  return [
    `--etcd-servers=${loop(l.ports.etcdClient)}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    // The reconciler refuses a loopback advertise address; nothing in the cluster really dials
    // the `kubernetes` Service (the nodes are simulated), so it keeps no endpoints.
    '--endpoint-reconciler-type=none',
    `--secure-port=${l.ports.apiserver}`,
    `--cert-dir=${path.join(l.root, 'apiserver')}`,
    `--tls-cert-file=${l.pki.apiserverCert}`,
    `--tls-private-key-file=${l.pki.apiserverKey}`,
    `--client-ca-file=${l.pki.caCert}`,
    `--token-auth-file=${l.tokenFile}`,
    '--authorization-mode=Node,RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${l.pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${l.pki.serviceAccountKey}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    '--allow-privileged=true',
    // Real nodes: the apiserver reaches kubelets (logs, exec) at their address in the drill network
    // with a client certificate they trust; kwok nodes do not serve these.
    `--kubelet-client-certificate=${l.kubeletClient.cert}`,
    `--kubelet-client-key=${l.kubeletClient.key}`,
    '--kubelet-preferred-address-types=InternalIP',
    `--audit-policy-file=${l.auditPolicyFile}`,
    `--audit-log-path=${l.auditLogPath}`,
    '--audit-log-maxsize=100',
    '--audit-log-maxbackup=1',
    '--profiling=false',
  ];
}

export function controllerManagerArgs(l: ControlPlaneLayout, t: ControlPlaneTuning): string[] {
  const kubeconfig = l.kubeconfigs.controllerManager;
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${l.ports.controllerManager}`,
    `--cert-dir=${path.join(l.root, 'controller-manager')}`,
    '--leader-elect=false',
    `--controllers=${CONTROLLERS.join(',')}`,
    // Each controller acts as its own service account, as in kubeadm clusters: the audit log
    // then says which controller did what.
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${l.pki.serviceAccountKey}`,
    `--root-ca-file=${l.pki.caCert}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    '--cluster-name=drill',
    `--node-monitor-grace-period=${t.nodeMonitorGracePeriodSeconds}s`,
    '--profiling=false',
  ];
}

export function schedulerArgs(l: ControlPlaneLayout): string[] {
  const kubeconfig = l.kubeconfigs.scheduler;
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${l.ports.scheduler}`,
    `--cert-dir=${path.join(l.root, 'scheduler')}`,
    '--leader-elect=false',
    '--profiling=false',
  ];
}

/** One simulated node: kwok acting as its kubelet. */
export interface NodeAgentSpec {
  node: string;
  /** The node's own pod range, so two nodes never hand out the same pod IP. */
  podCidr: string;
  /** kwok's own HTTP server (health). */
  port: number;
}

/**
 * kwok for a single node. One kwok per node, rather than one for all, makes a node loss what it
 * is on a real cluster: its agent stops, its Lease expires, the node lifecycle controller marks it
 * NotReady and taints it (kwok keeps renewing the Lease of a node it no longer selects, so taking
 * a node out of a shared kwok's selector does not do that).
 */
export function kwokArgs(l: ControlPlaneLayout, t: ControlPlaneTuning, agent: NodeAgentSpec): string[] {
  return [
    `--kubeconfig=${l.kubeconfigs.kwok}`,
    // Our own Stages; an explicit config also keeps a user's ~/.kwok/kwok.yaml out of the simulation.
    `--config=${l.kwokConfig}`,
    `--manage-single-node=${agent.node}`,
    `--node-lease-duration-seconds=${t.nodeLeaseSeconds}`,
    `--cidr=${agent.podCidr}`,
    '--node-ip=127.0.0.1',
    `--server-address=127.0.0.1:${agent.port}`,
  ];
}
