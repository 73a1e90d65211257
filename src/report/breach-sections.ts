/**
 * The security-breach parts of the incident report: the incident activate-incident-response
 * declared and the evidence preserve-forensics preserved (with its chain of custody). From the
 * journal only; absent when the run has neither.
 */
import type { ForensicArtifact, Journal } from '../engine/journal-types.js';
import { code } from './markdown.js';

/** The declared security incident, or undefined when none was. */
export function securityIncident(journal: Journal): string | undefined {
  const incident = journal.incident;
  if (!incident) return undefined;
  return [
    `- **Incident**: ${code(incident.id)}, declared ${incident.declaredAt.wall}`,
    `- **Breach type**: ${incident.breachType}; **severity**: ${incident.severity}`,
    `- **Leaked credentials known then**: ${incident.credentials.length > 0 ? incident.credentials.map(code).join(', ') : 'none yet'}`,
    `- **Notification**: ${incident.notification}`,
  ].join('\n');
}

/** For a sealed file: what it opens to and with which key file. */
function sealedNote(a: ForensicArtifact): string {
  return a.sealed ? `; sealed (${a.sealed.cipher}, key ${code(a.sealed.keyFile)}): evidence ${a.sealed.plaintextBytes} bytes, sha256 ${code(a.sealed.plaintextSha256)}` : '';
}

/** The preserved evidence: one row per file with its sha256, the gaps, who collected it. */
export function forensicEvidence(journal: Journal): string | undefined {
  const record = journal.forensics;
  if (!record) return undefined;
  const lines = [
    `Collected ${record.start.wall} – ${record.end.wall} by ${code(`${record.collector.user}@${record.collector.host}`)} with ${record.collector.harness}; journal window from ${record.window.from.wall}. ` +
      'Each file went through the run\'s Redactor before it was hashed, except sealed ones (memory dumps, base backup: secret by nature, AES-256-GCM under the run\'s key, kept outside the run directory); the signed evidence manifest covers them all (`drill verify-evidence`).',
    '',
    '| File | Bytes | sha256 | How |',
    '| --- | --- | --- | --- |',
    ...record.artifacts.map((a) => `| ${code(a.path)} | ${a.bytes} | ${code(a.sha256)} | ${`${a.how}${sealedNote(a)}`.replaceAll('|', '\\|')} |`),
  ];
  if (record.gaps.length > 0) lines.push('', `Not collected: ${record.gaps.map((g) => `${g.kind} (${g.reason})`).join('; ')}`);
  const changed = record.recheck?.files.filter((f) => f.sha256 !== record.artifacts.find((a) => a.path === f.path)?.sha256) ?? [];
  lines.push('', record.recheck ? `Hashed again ${record.recheck.at.wall}: ${changed.length === 0 ? 'every file unchanged' : `changed or gone: ${changed.map((f) => code(f.path)).join(', ')}`}` : 'Not hashed again (the drill ended before the verify phase).');
  return lines.join('\n');
}
