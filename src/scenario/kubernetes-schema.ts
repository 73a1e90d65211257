import { z } from 'zod';
import { duration, INTERVAL, SPAN, WAIT } from './duration-schema.js';
import { needs } from './target-needs.js';
import { restoresService } from './restores-service.js';
import { manualFields } from './manual-schema.js';

/**
 * The Kubernetes parts of the scenario format: the target, its faults, the runbook's kubectl
 * procedures and the k8s-ready probe. Kept apart from schema.ts (which composes them) so the
 * Kubernetes vocabulary reads in one place.
 */

const stepBase = { timeout: duration(WAIT).default(600_000), title: z.string().optional(), ...manualFields, restoresService };

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a Kubernetes name: lower-case letters, digits and dashes');
const deploymentList = z.array(dnsLabel).min(1);
const nodeRef = z
  .string()
  .default('failed')
  .meta({ description: 'The node, or failed: the node a k8s-node-failure fault took down' });
const SYSTEM_DEPLOYMENTS = ['truststream-api', 'truststream-worker', 'truststream-scheduler'];

export const kubernetesTarget = z
  .strictObject({
    provider: z
      .enum(['auto', 'local', 'kind', 'kubeconfig'])
      .default('auto')
      .meta({
        description:
          'auto: kind when a Docker engine answers, else local. local: a control plane of real Kubernetes binaries with kwok fake nodes, ' +
          'started for the drill (or the running cluster DRILL_KUBECONFIG names). kind: a kind cluster. kubeconfig: an existing cluster',
      }),
    kubeconfig: z
      .string()
      .optional()
      .meta({ description: 'kubeconfig provider: the kubeconfig file, relative to the scenario file (default: $KUBECONFIG, else ~/.kube/config)' }),
    context: z.string().optional().meta({ description: 'kubeconfig provider: the context (default: the file\'s current context)' }),
    allowedContexts: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .meta({
        description:
          'kubeconfig provider: the only contexts the drill may act through; any other (a wrong current-context, a typo) stops it with NOT_A_DRILL_TARGET before anything is touched',
      }),
    namespace: dnsLabel
      .optional()
      .meta({ description: 'kubeconfig provider: the namespace to deploy into and damage; it must be labelled drill.dev/target=true. Others: a fresh drill-<run> namespace' }),
    nodes: z
      .union([
        z.number().int().min(1).max(10).meta({ description: 'N fake (kwok) nodes: shorthand for {fake: N}' }),
        z.strictObject({
          real: z.number().int().min(0).max(4).default(0).meta({ description: 'Real nodes: containerd + kubelet, pods are real containers (needs root)' }),
          fake: z.number().int().min(0).max(10).default(0).meta({ description: 'Fake nodes: kwok, pods are simulated (for scale and node churn)' }),
        }),
      ])
      .transform((n) => (typeof n === 'number' ? { real: 0, fake: n } : n))
      .refine((n) => n.real + n.fake >= 1, 'at least one node: {real: 2} or {fake: 3}')
      .default({ real: 2, fake: 0 })
      .meta({
        description:
          'local provider: the nodes, spread over three zones. Default {real: 2}: the system under drill runs as real containers. ' +
          'Real nodes need root; ask for {fake: N} (or N) where that is not possible',
      }),
    manifests: z
      .string()
      .optional()
      .meta({ description: 'The system under drill: a YAML file or directory (relative to the scenario file). Default: the built-in TrustStram manifests' }),
    readyTimeout: duration(WAIT).default(120_000).meta({ description: 'How long the system under drill may take to become available' }),
  })
  .meta({ description: 'The Kubernetes cluster the drill runs against' });

const k8sPodKill = z
  .strictObject({
    type: z.literal('k8s-pod-kill'),
    selector: z.string().meta({ description: 'Label selector of the pods, e.g. app=truststream-api,version=blue' }),
    kill: z
      .union([
        z.enum(['one', 'all']),
        z.strictObject({ count: z.number().int().min(1) }),
        z.strictObject({ percent: z.number().min(1).max(100) }),
      ])
      .default('one')
      .meta({ description: 'one, all, {count: N} or {percent: P} (rounded up) of the matching pods, chosen at random' }),
  })
  .meta({ description: 'Deletes running pods (grace period 0, as a crash); their controller replaces them' });

const k8sBadRelease = z
  .strictObject({
    type: z.literal('k8s-bad-release'),
    deployments: deploymentList.default(['truststream-api']).meta({ description: 'Deployments that get the new revision' }),
    version: z
      .string()
      .default('4.4.1')
      .meta({
        description:
          'The release (label app.kubernetes.io/version, change-cause, image tag). Built-in TrustStram releases: 4.4.1 exits at start (crash loop), ' +
          '4.4.2 never passes readiness (expects a newer schema), 4.4.3 answers 500 on writes, 4.4.4 is slow (+700 ms), 4.4.5 stamps transfers with its own clock; 4.3.9 and 4.4.0 are good',
      }),
    image: z.string().optional().meta({ description: 'The new image (default: the current image with the tag <version>)' }),
    readinessPath: z
      .string()
      .regex(/^\/[^\s#]*$/, 'a path starting with /, e.g. /livez')
      .optional()
      .meta({ description: "The release's readiness probe GETs this path instead (e.g. /livez: pods become Ready although /health fails)" }),
  })
  .meta({
    description:
      'A new revision of the Deployments with the release\'s image: its pods fail the way that release fails (fake nodes: they never become ready, ' +
      'label drill.dev/broken=true). T_fault when the first Deployment was patched',
  });

const k8sScaleToZero = z
  .strictObject({ type: z.literal('k8s-scale-to-zero'), deployment: dnsLabel.default('truststream-api') })
  .meta({ description: 'An operator error: the Deployment scaled to 0 replicas; T_fault once none of its pods is left' });

const k8sNodeFailure = z
  .strictObject({
    type: z.literal('k8s-node-failure'),
    node: z.string().default('busiest').meta({ description: 'The node, or busiest: the one running most pods of the drill namespace' }),
    mode: z
      .enum(['not-ready', 'delete'])
      .default('not-ready')
      .meta({
        description:
          'not-ready: the node stops heartbeating (local provider: its kwok agent is stopped), goes NotReady and its pods are evicted after their toleration; ' +
          'delete: the Node object is deleted and its pods with it',
      }),
  })
  .meta({ description: 'A node is lost. Needs a cluster the drill created (nodes are shared by every namespace)' });

export const kubernetesFaults = [
  needs(k8sPodKill, 'kubernetes'),
  needs(k8sBadRelease, 'kubernetes'),
  needs(k8sScaleToZero, 'kubernetes'),
  needs(k8sNodeFailure, 'kubernetes', 'own-cluster'),
] as const;

export const kubernetesRecoverySteps = [
  needs(z.strictObject({
    step: z.literal('k8s-incident-assessment'),
    deployments: deploymentList.optional().meta({ description: 'Whose rollout history to record (default: every Deployment in the namespace)' }),
    ...stepBase,
  }).meta({
    description: 'Runbook "Incident Assessment": pods that are not running and ready, each Deployment\'s rollout history, the nodes; to the journal',
  }), 'kubernetes'),
  needs(z.strictObject({
    step: z.literal('k8s-rollout-undo'),
    deployments: deploymentList.default(SYSTEM_DEPLOYMENTS),
    toRevision: z.number().int().min(1).optional().meta({ description: 'kubectl --to-revision (default: the previous revision)' }),
    ...stepBase,
  }).meta({
    description: 'Runbook "Kubernetes Rolling Rollback": kubectl rollout undo, for each Deployment; postcondition: its template is the chosen revision\'s',
  }), 'kubernetes'),
  needs(z.strictObject({
    step: z.literal('k8s-rollout-status'),
    deployments: deploymentList.default(['truststream-api']),
    ...stepBase,
  }).meta({
    description: 'Runbook "Monitor rollback progress": kubectl rollout status --timeout=<timeout>; fails when the rollout does not finish or exceeds its progress deadline',
  }), 'kubernetes'),
  needs(z.strictObject({
    step: z.literal('k8s-blue-green-switch'),
    service: dnsLabel.default('truststream-api'),
    label: z.string().default('version').meta({ description: 'The selector key that picks the colour' }),
    to: z.string().default('green').meta({ description: 'The colour to switch traffic to' }),
    ...stepBase,
  }).meta({
    description: 'Runbook "Blue-Green Instant Switch": patch the Service selector; postcondition: its ready endpoints are all pods of the new colour',
  }), 'kubernetes'),
  needs(z.strictObject({
    step: z.literal('k8s-rollout-restart'),
    deployments: deploymentList.default(['truststream-reader']),
    wait: z.boolean().default(true).meta({ description: 'Wait until the restarted pods are available' }),
    ...stepBase,
  }).meta({ description: 'Runbook "Restart read-only instances": kubectl rollout restart (restartedAt annotation)' }), 'kubernetes'),
  needs(z.strictObject({
    step: z.literal('k8s-configmap-patch'),
    configMap: dnsLabel.default('truststream-config'),
    data: z.record(z.string(), z.string()).meta({ description: 'Keys to set, e.g. {READ_ONLY_MODE: "true"}' }),
    ...stepBase,
  }).meta({ description: 'Runbook "Enable read-only mode": kubectl patch configmap --patch {"data": ...}' }), 'kubernetes'),
  needs(z.strictObject({
    step: z.literal('k8s-secret-patch'),
    secret: dnsLabel.default('truststream-db-credentials'),
    key: z.string().default('DATABASE_URL'),
    value: z
      .union([z.literal('current-primary'), z.strictObject({ value: z.string() })])
      .default('current-primary')
      .meta({ description: 'current-primary: the URL of the database the application now uses (after promotion or restore); or {value: ...}' }),
    restart: z.array(dnsLabel).default(['truststream-api']).meta({ description: 'Deployments restarted afterwards (kubectl rollout restart)' }),
    ...stepBase,
  }).meta({ description: 'Runbook "Update application connection strings" then "Restart application pods"; the value never reaches the journal in clear' }), 'kubernetes'),
  needs(z.strictObject({
    step: z.literal('k8s-scale'),
    deployment: dnsLabel.default('truststream-api'),
    replicas: z.number().int().min(0),
    ...stepBase,
  }).meta({ description: 'kubectl scale --replicas (runbook "Stop write operations": 0); postcondition: that many pods, all available' }), 'kubernetes'),
  needs(z.strictObject({
    step: z.literal('k8s-cordon'),
    node: nodeRef,
    ...stepBase,
  }).meta({ description: 'Runbook "Node Recovery": kubectl cordon; postcondition: the node takes no new pods' }), 'kubernetes', 'own-cluster'),
  needs(z.strictObject({
    step: z.literal('k8s-drain'),
    node: nodeRef,
    skipWaitForDeleteTimeout: duration(SPAN)
      .default(0)
      .meta({ description: 'kubectl --skip-wait-for-delete-timeout: pods whose deletionTimestamp (the end of their grace period) is this long past are not waited for (0: wait for all). A node without a kubelet never confirms deletions' }),
    ...stepBase,
  }).meta({
    description:
      'Runbook "Drain and replace unhealthy nodes": kubectl drain --ignore-daemonsets --delete-emptydir-data --force, through the eviction API ' +
      '(PodDisruptionBudgets respected, refused evictions retried); postcondition: no pod left to wait for on the node',
  }), 'kubernetes', 'own-cluster'),
  needs(z.strictObject({
    step: z.literal('k8s-delete-node'),
    node: nodeRef,
    ...stepBase,
  }).meta({ description: 'Runbook "kubectl delete node"; postcondition: the Node object is gone' }), 'kubernetes', 'own-cluster'),
  needs(z.strictObject({
    step: z.literal('k8s-replace-node'),
    desiredNodes: z
      .number()
      .int()
      .min(1)
      .max(50)
      .optional()
      .meta({ description: 'The node group\'s desired capacity (aws autoscaling set-desired-capacity --desired-capacity): Ready, schedulable nodes to reach. Default: as many as the drill started with' }),
    ...stepBase,
  }).meta({
    description:
      'Runbook "Scale node group to replace nodes": new nodes join until desiredNodes are Ready and schedulable (none is removed); postcondition: reached within the timeout. ' +
      'Local provider only: elsewhere the node group (a cloud autoscaler) replaces nodes, exit 3',
  }), 'kubernetes', 'own-cluster'),
] as const;

const k8sReady = z
  .strictObject({
    type: z.literal('k8s-ready'),
    name: z.string(),
    deployment: dnsLabel.optional().meta({ description: 'Passes while the Deployment has at least `min` available replicas' }),
    endpoints: dnsLabel.optional().meta({ description: 'Passes while the Service has at least `min` ready endpoints (EndpointSlices)' }),
    min: z.number().int().min(1).default(1),
    interval: duration(INTERVAL).default(500),
    timeout: duration(WAIT).default(2000),
    service: z.boolean().default(true).meta({ description: 'Counts for RTO and steady state' }),
  })
  .meta({ description: 'Kubernetes readiness in the drill namespace: name exactly one of deployment or endpoints' });

export const k8sReadyProbe = needs(k8sReady, 'kubernetes');
