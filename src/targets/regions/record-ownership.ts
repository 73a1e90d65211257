import { InputError } from '../../engine/errors.js';

/**
 * The "drill target" rule for DNS records: against a Route 53 endpoint that is not the embedded
 * moto (a zone the drill did not create, e.g. real AWS), drill changes only names it created. It
 * marks each such name with a TXT record on the same name, `"drill-owner=<run id>"`, written
 * before the name's first A record, and checks it before every UPSERT. A name that already has
 * records and no marker belongs to someone else: refused, nothing changed. A name another run
 * marked is refused too (Route53Zone.claim): its own teardown or reaper removes it.
 */
export const OWNER_MARK = 'drill-owner=';

/** The TXT value (quoted, as Route 53 stores TXT strings) that marks a name as the run's. */
export function ownerMarker(runId: string): string {
  return `"${OWNER_MARK}${runId}"`;
}

/** One record set of a name, as listed by the API. */
export interface NamedRecordSet {
  type: string;
  values: string[];
}

/** The run that marked the name, if any (any drill run: a killed run's record is still drill's). */
export function markedBy(sets: readonly NamedRecordSet[]): string | undefined {
  const value = sets.filter((s) => s.type === 'TXT').flatMap((s) => s.values).map((v) => v.replace(/^"|"$/g, '')).find((v) => v.startsWith(OWNER_MARK));
  return value?.slice(OWNER_MARK.length);
}

/**
 * Whether the drill may UPSERT `name`: `owned` when a drill run marked it, `mark` when the name
 * has no records at all (the drill claims it by writing the marker first); otherwise an InputError
 * (exit 2) naming the name, the records found and what to do.
 */
export function ownership(zoneId: string, name: string, sets: readonly NamedRecordSet[]): 'owned' | 'mark' {
  if (markedBy(sets) !== undefined) return 'owned';
  if (sets.length === 0) return 'mark';
  throw new InputError(
    'ROUTE53_RECORD_NOT_DRILLS',
    `${name} in hosted zone ${zoneId} already has records the drill did not create (${sets.map((s) => `${s.type} ${s.values.join(',')}`).join('; ')}) and no TXT "${OWNER_MARK}…" marker; ` +
      'drill changes only records it created: give targets.regions.dns a record name that does not exist yet. Nothing was changed.',
  );
}
