/**
 * One real node's kubelet: configuration file and flags, as pure functions of where things are.
 * Settings this machine needs (found by trying): cgroup v1 with the cgroupfs driver (failCgroupV1
 * false), swap tolerated, no image pulls (images are imported, pods use imagePullPolicy Never), no
 * image garbage collection (nothing could pull an image back), and no DNS configuration for pods
 * (there is no cluster DNS, and the machine's resolver is outside the drill network).
 */
export interface KubeletSpec {
  node: string;
  nodeIp: string;
  /** The kubelet's API port on nodeIp (logs, exec for the apiserver). */
  port: number;
  /** Its /healthz on 127.0.0.1 (all nodes share the drill network's loopback, so one port each). */
  healthzPort: number;
  /** The node's private directory (kubelet root, certificates, logs). */
  dir: string;
  /** The cgroupfs path (same in every v1 hierarchy) under which this node's pods live; it must exist. */
  cgroupRoot: string;
  /** containerd's CRI socket for this node. */
  criSocket: string;
  /** The CA that signs the apiserver's client certificate for the kubelet API. */
  clientCaFile: string;
  kubeconfig: string;
  labels: Record<string, string>;
  /** How often the node reports status (the node lifecycle controller's grace period is a multiple). */
  statusUpdateSeconds: number;
}

export function kubeletConfig(s: KubeletSpec): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: s.nodeIp,
    port: s.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: s.healthzPort,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: false },
      x509: { clientCAFile: s.clientCaFile },
    },
    // Only the apiserver's client certificate gets in (x509 above); it may do everything.
    authorization: { mode: 'AlwaysAllow' },
    cgroupDriver: 'cgroupfs',
    cgroupRoot: s.cgroupRoot,
    cgroupsPerQOS: true,
    enforceNodeAllocatable: ['pods'],
    failCgroupV1: false,
    failSwapOn: false,
    memorySwap: {},
    containerRuntimeEndpoint: `unix://${s.criSocket}`,
    imageServiceEndpoint: `unix://${s.criSocket}`,
    podLogsDir: `${s.dir}/pod-logs`,
    volumePluginDir: `${s.dir}/volume-plugins`,
    resolvConf: '',
    serializeImagePulls: false,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // The disk and memory are the machine's, shared with everything else: evict only when truly short.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    protectKernelDefaults: false,
    maxPods: 40,
    nodeStatusUpdateFrequency: `${s.statusUpdateSeconds}s`,
    nodeStatusReportFrequency: `${s.statusUpdateSeconds}s`,
    // ConfigMap/Secret changes reach running pods this fast (the runbook's READ_ONLY_MODE patch).
    syncFrequency: '10s',
    shutdownGracePeriod: '0s',
    shutdownGracePeriodCriticalPods: '0s',
    kernelMemcgNotification: false,
    serverTLSBootstrap: false,
    rotateCertificates: false,
  };
}

export function kubeletArgs(s: KubeletSpec, configFile: string): string[] {
  return [
    `--config=${configFile}`,
    `--kubeconfig=${s.kubeconfig}`,
    `--root-dir=${s.dir}/kubelet`,
    `--cert-dir=${s.dir}/kubelet-pki`,
    `--hostname-override=${s.node}`,
    `--node-ip=${s.nodeIp}`,
    `--node-labels=${Object.entries(s.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}`,
    '--v=1',
  ];
}
