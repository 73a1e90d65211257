import { z } from 'zod';
import { duration, WAIT } from './duration-schema.js';
import { restoresService } from './restores-service.js';
import { needs } from './target-needs.js';
import { manualFields } from './manual-schema.js';

/**
 * The incident-response steps of runbook "Scenario 3: Security Breach" beside the revocation
 * (breach-schema.ts): isolate the compromised nodes, enable emergency access, declare the incident,
 * preserve the evidence. Composed into the recovery steps by schema.ts.
 */

/** What preserve-forensics can collect; each needs the target it is collected from. */
export const FORENSIC_ARTIFACTS = [
  'attacker-activity',
  'service-logs',
  'postgres-logs',
  'database-sessions',
  'database-snapshot',
  'database-basebackup',
  'memory-dump',
  'kubernetes-objects',
  'pod-logs',
  'apiserver-audit-log',
] as const;
export type ForensicArtifactKind = (typeof FORENSIC_ARTIFACTS)[number];

/** The target part each artifact is collected from (undefined: the drill's own journal). */
export const ARTIFACT_SOURCE: { readonly [K in ForensicArtifactKind]: 'service' | 'pg' | 'k8s' | undefined } = {
  'attacker-activity': undefined,
  'service-logs': 'service',
  'postgres-logs': 'pg',
  'database-sessions': 'pg',
  'database-snapshot': 'pg',
  'database-basebackup': 'pg',
  'memory-dump': 'service',
  'kubernetes-objects': 'k8s',
  'pod-logs': 'k8s',
  'apiserver-audit-log': 'k8s',
};

// Nothing: what each artifact needs is checked per listed artifact (incident-rules.ts); by default
// it collects what the targets allow, and the drill's own journal is always there.
export const preserveForensicsStep = needs(
  z
    .strictObject({
      step: z.literal('preserve-forensics'),
      artifacts: z
        .array(z.enum(FORENSIC_ARTIFACTS))
        .min(1)
        .refine((list) => new Set(list).size === list.length, 'each artifact once')
        .optional()
        .meta({
          description:
            'What to preserve (default: every artifact the scenario\'s targets allow): attacker-activity (the journal\'s leaked credentials, attacker attempts and events in the window), ' +
            'service-logs (the service processes\' logs; targets.service), postgres-logs (the server log of the instance the application uses, with connections and disconnections; native PostgreSQL), ' +
            'database-sessions (pg_stat_activity at that moment), database-snapshot (pg_dump of the public schema: a logical forensic snapshot), ' +
            'database-basebackup (pg_basebackup, tar format with its backup manifest, verified with pg_verifybackup: a physical forensic snapshot, sealed), ' +
            'memory-dump (the memory of each API process the drill started, from /proc/<pid>/mem, at most 256 MiB each, sealed; plain-process service only), ' +
            'kubernetes-objects (pods, events of the drill\'s namespace and the nodes its pods ran on; targets.kubernetes), pod-logs (every container\'s log), ' +
            'apiserver-audit-log (the audit events of the namespace and its service accounts in the window; only where the drill runs the apiserver). A listed artifact that cannot be collected fails the forensics check',
        }),
      timeRange: duration(WAIT)
        .default(86_400_000)
        .meta({ description: 'The runbook\'s --time-range: how far back the journal extract (attacker-activity) reaches from the step (bounded by the start of the run). Logs are copied whole' }),
      timeout: duration(WAIT).default(300_000),
      ...manualFields,
      title: z.string().optional(),
      restoresService,
    })
    .meta({
      description:
        'Runbook "Forensic Preservation" (preserve-audit-logs.sh, create-forensic-snapshots.sh): evidence copied into forensics/ of the run directory before any destructive step, ' +
        'each file through the run\'s Redactor (no secret in clear; a memory dump and the base backup\'s tars, secret by nature, sealed with AES-256-GCM under a per-run key kept outside the run directory) and hashed (sha256, in the journal with who/when/how, and in the signed evidence manifest); ' +
        'every file is hashed again in the verify phase, once the runbook\'s steps are done. Judged by the forensics check',
    }),
);

export const activateIncidentResponseStep = needs(
  z
    .strictObject({
      step: z.literal('activate-incident-response'),
      breachType: z
        .enum(['unknown', 'credential-leak', 'data-exfiltration', 'malware', 'insider'])
        .default('unknown')
        .meta({ description: 'The runbook\'s --breach-type (unknown, as the runbook calls it, until the investigation says otherwise)' }),
      severity: z.enum(['P0', 'P1', 'P2', 'P3']).optional().meta({ description: 'The incident\'s severity (default: the scenario\'s)' }),
      timeout: duration(WAIT).default(60_000),
      ...manualFields,
      title: z.string().optional(),
      restoresService,
    })
    .meta({
      description:
        'Runbook "Activate security incident response" (activate-incident-response.sh --breach-type): a security incident declared, its record (id, type, severity, the leaked credentials by fingerprint) ' +
        'in the journal and the incident report. No notification is sent yet',
    }),
);

export const enableEmergencyAccessStep = needs(
  z
    .strictObject({
      step: z.literal('enable-emergency-access'),
      responder: z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a ServiceAccount name (lower-case letters, digits, dashes)')
        .max(40)
        .default('incident-responder')
        .meta({ description: 'The incident responder\'s identity: a ServiceAccount the step creates in the drill\'s namespace' }),
      clusterRole: z
        .enum(['admin', 'edit', 'view'])
        .default('admin')
        .meta({ description: 'The built-in ClusterRole bound to the responder in the drill\'s namespace (a RoleBinding: never cluster-wide)' }),
      duration: duration({ min: 600_000, max: 86_400_000, why: 'a service-account token lives at least 10 minutes and a drill at most 24h' })
        .default(3_600_000)
        .meta({ description: 'How long the grant lasts: the responder\'s token expires then; the binding is removed at teardown at the latest (Kubernetes has no expiring RoleBinding)' }),
      timeout: duration(WAIT).default(120_000),
      ...manualFields,
      title: z.string().optional(),
      restoresService,
    })
    .meta({
      description:
        'Runbook "Enable emergency access controls" (enable-emergency-access.sh): a break-glass RoleBinding of clusterRole to an incident-responder ServiceAccount in the drill\'s namespace, ' +
        'with a token that expires after duration; postcondition: the responder\'s token really works (lists the namespace\'s secrets) and every access check of the responder is allowed, ' +
        'while the access of the normal identities (the service\'s account, an ordinary authenticated user) is exactly what it was before; removed at teardown (and by the reaper after a kill -9)',
    }),
  'kubernetes',
);

export const isolateCompromisedNodesStep = needs(
  z
    .strictObject({
      step: z.literal('isolate-compromised-nodes'),
      serviceAccount: z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a ServiceAccount name (lower-case letters, digits, dashes)')
        .default('default')
        .meta({ description: 'The compromised workload: the pods of the drill\'s namespace that run as this ServiceAccount (the one whose tokens leaked; the built-in service runs as default)' }),
      compromised: z
        .enum(['service-account', 'leaked-pods'])
        .default('service-account')
        .meta({
          description:
            'Which pods are the compromised workload: service-account (every pod running as serviceAccount: with the built-in service, every node it runs on) ' +
            'or leaked-pods (only the pods the leaked pod-bound tokens are bound to: credential-leak tokens: [pod]; the rest of the service keeps its nodes)',
        }),
      timeout: duration(WAIT).default(120_000),
      ...manualFields,
      title: z.string().optional(),
      restoresService,
    })
    .meta({
      description:
        'Runbook "Isolate affected systems" (isolate-compromised-nodes.sh): the nodes that ran the compromised pods cordoned and tainted NoExecute, a deny-all NetworkPolicy on the namespace ' +
        '(API state only where no network plugin enforces it, as on the local control plane), the compromised pods evicted; undone at teardown. Needs a cluster of the drill\'s own: a NoExecute taint moves every pod off the node',
    }),
  'kubernetes',
  'own-cluster',
);
