import { z } from 'zod';
import { duration, WAIT } from './duration-schema.js';
import { restoresService } from './restores-service.js';
import { needs } from './target-needs.js';

/**
 * The incident-response steps of runbook "Scenario 3: Security Breach" (declare the incident,
 * preserve the evidence), composed into the recovery steps by schema.ts beside the breach
 * vocabulary (breach-schema.ts).
 */

/** What preserve-forensics can collect; each needs the target it is collected from. */
export const FORENSIC_ARTIFACTS = ['attacker-activity', 'service-logs', 'postgres-logs', 'database-sessions', 'database-snapshot'] as const;
export type ForensicArtifactKind = (typeof FORENSIC_ARTIFACTS)[number];

/** The target part each artifact is collected from (undefined: the drill's own journal). */
export const ARTIFACT_SOURCE: { readonly [K in ForensicArtifactKind]: 'service' | 'pg' | undefined } = {
  'attacker-activity': undefined,
  'service-logs': 'service',
  'postgres-logs': 'pg',
  'database-sessions': 'pg',
  'database-snapshot': 'pg',
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
            'database-sessions (pg_stat_activity at that moment), database-snapshot (pg_dump of the public schema: a logical forensic snapshot). A listed artifact that cannot be collected fails the forensics check',
        }),
      timeRange: duration(WAIT)
        .default(86_400_000)
        .meta({ description: 'The runbook\'s --time-range: how far back the journal extract (attacker-activity) reaches from the step (bounded by the start of the run). Logs are copied whole' }),
      timeout: duration(WAIT).default(300_000),
      title: z.string().optional(),
      restoresService,
    })
    .meta({
      description:
        'Runbook "Forensic Preservation" (preserve-audit-logs.sh, create-forensic-snapshots.sh): evidence copied into forensics/ of the run directory before any destructive step, ' +
        'each file through the run\'s Redactor (no secret in clear) and hashed (sha256, in the journal with who/when/how, and in the signed evidence manifest); ' +
        'every file is hashed again at the end of the verify phase. Judged by the forensics check',
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
      title: z.string().optional(),
      restoresService,
    })
    .meta({
      description:
        'Runbook "Activate security incident response" (activate-incident-response.sh --breach-type): a security incident declared, its record (id, type, severity, the leaked credentials by fingerprint) ' +
        'in the journal and the incident report. No notification is sent yet',
    }),
);
