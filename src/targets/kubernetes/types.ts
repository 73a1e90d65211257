import type { KubeConfig } from '@kubernetes/client-node';

/** What drills need of a Kubernetes cluster, whoever provides it (local control plane, kind, a kubeconfig). */

/** Where the cluster comes from: started by the drill from local binaries, by kind, or someone else's. */
export type ClusterKind = 'local' | 'kind' | 'kubeconfig';

/** The label that marks a namespace of someone else's cluster as one a drill may damage. */
export const DRILL_TARGET_LABEL = 'drill.dev/target';

/**
 * Where destructive steps may act. A cluster the drill created is all a drill target; in an
 * existing cluster only namespaces labelled `drill.dev/target=true`, and only through an allowed
 * context when a list of contexts is given (DESIGN.md section 6).
 */
export type TargetPolicy =
  | { kind: 'whole-cluster' }
  | { kind: 'labelled-namespaces'; allowedContexts?: readonly string[] };

export interface ClusterNode {
  name: string;
  /** The node's Ready condition is True. */
  ready: boolean;
  /** Cordoned (spec.unschedulable). */
  unschedulable: boolean;
  /** Simulated by kwok (annotation kwok.x-k8s.io/node=fake): no containers really run on it. */
  fake: boolean;
  zone?: string;
}

/**
 * The agent of a node (kubelet on a real node, kwok on a fake one), where the harness runs it
 * itself: a node failure stops it (the node stops heartbeating and goes NotReady), its revert or a
 * recovery starts it again.
 */
export interface NodeAgents {
  /** `kill` is a crash (SIGKILL), `terminate` a clean stop. Containers of a real node keep running. */
  stop(node: string, how?: 'kill' | 'terminate'): Promise<void>;
  /** Starts it again; with `waitReady` (default true) until the node is Ready. */
  start(node: string, options?: { waitReady?: boolean }): Promise<void>;
}

export interface KubernetesCluster {
  readonly kind: ClusterKind;
  /** A short name for logs and the journal (the kind cluster name, the context, ...). */
  readonly name: string;
  /** A kubeconfig file that reaches the cluster with the harness's identity. */
  readonly kubeconfigPath: string;
  readonly context: string;
  readonly targetPolicy: TargetPolicy;
  /** The apiserver's audit log, when the harness runs the apiserver (local only). */
  readonly auditLogPath?: string;
  /** A client configuration for @kubernetes/client-node, on `context`. */
  connect(): KubeConfig;
  nodes(): Promise<ClusterNode[]>;
  /**
   * Optional capability, only where the harness runs the nodes itself (local): one more worker
   * node, as a node group scaling out. Resolves with its name once it is registered and its agent
   * runs; with `waitReady` (default true) once it is Ready. Elsewhere nodes come from the cluster's
   * node group (a cloud autoscaler), which the drill does not drive.
   */
  addNode?(name?: string, zone?: string, options?: { waitReady?: boolean; kind?: 'real' | 'fake' }): Promise<string>;
  /** Optional capability, only where the harness runs the nodes (local): their agents. */
  readonly nodeAgents?: NodeAgents;
  /**
   * Optional capability, only on a control plane this drill started itself (local): a new
   * service-account signing key, the apiserver restarted to verify with that key alone (every
   * service-account token it issued before is refused) and the controller manager restarted to
   * sign with it. Absent on a cluster the drill was given (kind, a kubeconfig, the shared local
   * cluster DRILL_KUBECONFIG names): restarting someone's apiserver is never the drill's to do.
   */
  rotateServiceAccountSigningKey?(options?: SigningKeyRotationOptions): Promise<SigningKeyRotation>;
  /** Stops and removes what the harness created (nothing for a cluster it was only given). Idempotent. */
  dispose(): Promise<void>;
}

/** The moments of a signing-key rotation, told as they happen (the step journals them with its clock). */
export type SigningKeyRotationPhase = 'apiserver-stopping' | 'apiserver-stopped' | 'apiserver-ready' | 'controller-manager-ready';

export interface SigningKeyRotationOptions {
  onPhase?: (phase: SigningKeyRotationPhase) => void;
  signal?: AbortSignal;
}

export interface SigningKeyRotation {
  /** 1 is the key the control plane started with; each rotation adds one. */
  generation: number;
  /** The public key the apiserver now verifies with, its only one (a file name, not key material). */
  publicKeyFile: string;
  /** SHA-256 of the old and the new public key (DER), to tell them apart in the report. */
  oldKeyFingerprint: string;
  newKeyFingerprint: string;
  /** stoppedBy: whether the old process exited on SIGTERM or had to be killed after its grace. */
  apiserver: { oldPid: number; newPid: number; stopMs: number; stoppedBy: string; outageMs: number };
  controllerManager: { oldPid: number; newPid: number; restartMs: number };
}
