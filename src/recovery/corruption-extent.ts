import type { AmcheckFinding } from '../engine/journal-types.js';

/** A relation amcheck looked at: its size, and for an index the table it belongs to. */
export interface CheckedRelation {
  relation: string;
  kind: 'table' | 'index';
  table?: string;
  blocks: number;
  /** Main fork path relative to the data directory (pg_relation_filepath), to place errors that name a file. */
  file?: string;
}

/** Runbook "Identify corruption extent", for one damaged relation. */
export interface RelationExtent {
  relation: string;
  kind: 'table' | 'index';
  table?: string;
  /** Size in blocks as the server sees it (0 when its file is gone). */
  blocks: number;
  damagedBlocks: number[];
  /** Problems amcheck could not place in a block (e.g. the relation could not be opened at all). */
  unplaced: number;
  problems: number;
  fileMissing: boolean;
  /** What repairs it: an index is rebuilt from its table; a table needs its data back from a backup. */
  repair: 'reindex' | 'restore';
  examples: string[];
}

export interface CorruptionExtent {
  relationsChecked: number;
  damaged: RelationExtent[];
  /** One line for timelines and the incident report. */
  summary: string;
}

const EXAMPLES = 3;

/**
 * Groups amcheck findings by relation and block. Pure: the findings and relation sizes come from
 * the instance, this only shapes them into the report.
 */
export function corruptionExtent(findings: readonly AmcheckFinding[], relations: readonly CheckedRelation[]): CorruptionExtent {
  const byRelation = new Map<string, AmcheckFinding[]>();
  const seen = new Set<string>();
  for (const finding of findings.map((f) => placeByFile(f, relations))) {
    const key = `${finding.relation}|${finding.block}|${finding.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    byRelation.set(finding.relation, [...(byRelation.get(finding.relation) ?? []), finding]);
  }
  const damaged = [...byRelation.entries()]
    .map(([relation, found]): RelationExtent => {
      const info = relations.find((r) => r.relation === relation);
      const kind = info?.kind ?? (found.every((f) => f.kind === 'btree') ? 'index' : 'table');
      const blocks = [...new Set(found.flatMap((f) => (f.block === undefined ? [] : [f.block])))].sort((a, b) => a - b);
      return {
        relation,
        kind,
        ...(info?.table ? { table: info.table } : {}),
        blocks: info?.blocks ?? 0,
        damagedBlocks: blocks,
        unplaced: found.filter((f) => f.block === undefined).length,
        problems: found.length,
        fileMissing: found.some((f) => /could not open file .*No such file or directory/i.test(f.message)),
        repair: kind === 'index' ? 'reindex' : 'restore',
        examples: [...new Set(found.map((f) => f.message))].slice(0, EXAMPLES),
      };
    })
    .sort((a, b) => a.relation.localeCompare(b.relation));
  return { relationsChecked: relations.length, damaged, summary: summarise(damaged, relations.length) };
}

/**
 * bt_index_check with heapallindexed also reads the table, so a damaged or missing table file
 * shows up as an error of each of its indexes. An error that names a file belongs to the relation
 * that owns the file (and "invalid page in block N of relation F" to block N of it).
 */
function placeByFile(finding: AmcheckFinding, relations: readonly CheckedRelation[]): AmcheckFinding {
  const named = /(?:file "|of relation )((?:base|global|pg_tblspc)\/[^".:\s]+)/.exec(finding.message)?.[1];
  const owner = named ? relations.find((r) => r.file === named) : undefined;
  if (!owner || owner.relation === finding.relation) return finding;
  const block = /invalid page in block (\d+) of relation/.exec(finding.message)?.[1];
  return {
    relation: owner.relation,
    kind: owner.kind === 'index' ? 'btree' : 'heap',
    ...(block !== undefined ? { block: Number(block) } : {}),
    message: finding.message,
  };
}

function summarise(damaged: readonly RelationExtent[], checked: number): string {
  if (damaged.length === 0) return `no corruption found in ${checked} relation(s)`;
  const parts = damaged.map((d) => {
    const what = d.kind === 'index' ? `index ${d.relation}${d.table ? ` on ${d.table}` : ''}` : `table ${d.relation}`;
    if (d.fileMissing) return `${what}: data file missing`;
    const where = d.damagedBlocks.length > 0 ? `block${d.damagedBlocks.length === 1 ? '' : 's'} ${d.damagedBlocks.join(', ')} of ${d.blocks}` : 'unplaced';
    return `${what}: ${d.problems} problem${d.problems === 1 ? '' : 's'} (${where})`;
  });
  return `${damaged.length} of ${checked} relation(s) damaged: ${parts.join('; ')}`;
}
