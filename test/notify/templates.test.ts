import { describe, expect, it } from 'vitest';
import { defaultIncidentId, initialAlert, resolutionNotice } from '../../src/notify/templates.js';
import type { NotificationMessage } from '../../src/notify/message.js';
import { shippedText } from '../runbook/shipped-runbook.js';

const RUNBOOK = shippedText();

/** The code block under a `#### **<title>**` heading of the runbook's Communication Templates. */
function runbookTemplate(title: string): string[] {
  const start = RUNBOOK.indexOf(`#### **${title}**`);
  expect(start, title).toBeGreaterThan(0);
  const open = RUNBOOK.indexOf('```\n', start) + 4;
  return RUNBOOK.slice(open, RUNBOOK.indexOf('```', open)).trimEnd().split('\n');
}

/** A template line as a pattern: its `[placeholders]` stand for any text, the rest is literal. */
function linePattern(line: string): RegExp {
  const escaped = line.split(/\[[^\]]+\]/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.+')}$`);
}

/**
 * The message, as SUBJECT line and body, follows the runbook's template line by line once the
 * DRILL marks are taken off (the banner, the subject prefix) and the step's message (the
 * runbook script's --message) is left out.
 */
function expectFollowsRunbook(message: NotificationMessage, title: string, extraLines: string[] = []): void {
  const lines = [`SUBJECT: ${message.subject.replace(/^\[DRILL\] /, '')}`, '', ...message.body.split('\n').slice(2).filter((l) => !extraLines.includes(l))];
  const template = runbookTemplate(title);
  expect(lines).toHaveLength(template.length);
  template.forEach((line, i) => expect(lines[i], `line ${i + 1} of "${title}"`).toMatch(linePattern(line)));
}

const alertInput = {
  runId: 'run-1',
  scenario: 'pg-x',
  severity: 'P0',
  status: 'Investigating' as const,
  impact: 'service probes failing since T_fault+120ms: sql (connection refused)',
  eta: '2026-12-02T09:30:00.000Z',
  incidentId: 'DRILL-20261202-091500',
  nextUpdate: '2026-12-02T09:30:01.000Z',
};

describe('Communication Templates (runbook)', () => {
  it('the Initial Alert is the runbook\'s, with DRILL in the subject and a DRILL banner first', () => {
    const message = initialAlert(alertInput);
    expect(message.subject).toBe('[DRILL] [URGENT] TrustStram Service Incident - P0');
    expect(message.body.split('\n')[0]).toBe('DRILL - this is a chaos drill (run run-1, scenario pg-x), not a real incident. No action is needed.');
    expectFollowsRunbook(message, 'Initial Alert');
    expect(message.body).toContain('STATUS: Investigating\nIMPACT: service probes failing since T_fault+120ms: sql (connection refused)\nETA: 2026-12-02T09:30:00.000Z');
    expect(message.body).toContain('Incident ID: DRILL-20261202-091500\nNext Update: 2026-12-02T09:30:01.000Z');
    expect(message.fields).toEqual({ severity: 'P0', status: 'Investigating', impact: alertInput.impact, eta: alertInput.eta, incidentId: alertInput.incidentId, nextUpdate: alertInput.nextUpdate });
  });

  it('a notify step\'s message is the one line the runbook\'s script adds', () => {
    const message = initialAlert({ ...alertInput, status: 'Mitigating', message: 'Initiating emergency rollback for TrustStram v4.4' });
    expectFollowsRunbook(message, 'Initial Alert', ['Initiating emergency rollback for TrustStram v4.4']);
    expect(message.fields.message).toBe('Initiating emergency rollback for TrustStram v4.4');
  });

  it('the Resolution Notice is the runbook\'s, with DRILL in the subject', () => {
    const message = resolutionNotice({ runId: 'run-1', scenario: 'pg-x', incidentId: 'DRILL-1', resolutionTime: 'RTO ≤ 4.21s', rootCause: 'a fault', actionsTaken: 'a step' });
    expect(message.subject).toBe('[DRILL] [RESOLVED] TrustStram Service Incident - DRILL-1');
    expectFollowsRunbook(message, 'Resolution Notice');
    expect(message.body).toContain('RESOLUTION TIME: RTO ≤ 4.21s\nROOT CAUSE: a fault\nACTIONS TAKEN: a step');
  });

  it('a message that dropped a line of the template would not pass for the runbook\'s', () => {
    const message = resolutionNotice({ runId: 'r', scenario: 's', incidentId: 'I', resolutionTime: 't', rootCause: 'c', actionsTaken: 'a' });
    const broken = { ...message, body: message.body.replace('ROOT CAUSE: c\n', '') };
    expect(() => expectFollowsRunbook(broken, 'Resolution Notice')).toThrow();
  });

  it('the default incident id is the runbook\'s $(date +%Y%m%d-%H%M%S) in UTC, marked DRILL', () => {
    expect(defaultIncidentId('2026-12-02T09:05:07.999Z')).toBe('DRILL-20261202-090507');
  });
});
