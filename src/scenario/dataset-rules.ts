import { DATASET_SCHEMA, datasetIndexes, datasetTables } from '../workload/dataset-schema.js';
import { datasetRefOf, type DatasetRef } from './dataset-refs.js';
import { closestMatch } from './did-you-mean.js';
import type { PathIssue } from './issues.js';
import { isRecord, schemaAt } from './schema-walk.js';
import { scenarioSchema } from './schema.js';
import type { KeyPath } from './yaml-locate.js';

/**
 * Tables, indexes and columns a scenario names must be ones the drill's data set defines: found
 * here, at validation, rather than after a server was provisioned. The drill builds the data set
 * itself on every provider (in its own `drill` database, external servers included), so the list
 * does not depend on the target.
 */
export function datasetIssues(data: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  const visit = (value: unknown, path: KeyPath): void => {
    if (typeof value === 'string') {
      const kind = datasetRefOf(schemaAt(scenarioSchema, data, path));
      if (kind) issues.push(...unknownName(kind, value, path));
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, [...path, i]));
    } else if (isRecord(value)) {
      for (const [key, item] of Object.entries(value)) visit(item, [...path, key]);
    }
  };
  // Only lists of faults and steps name relations; probes' SQL is the user's own.
  for (const key of ['faults', 'recovery']) if (isRecord(data)) visit(data[key], [key]);
  issues.push(...columnIssues(data));
  return issues;
}

const NAMES: Record<DatasetRef, () => string[]> = { table: datasetTables, index: datasetIndexes };
const WHERE = 'the drill creates its data set in its own database "drill" on every provider, external ones included';

function unknownName(kind: DatasetRef, value: string, path: KeyPath): PathIssue[] {
  const names = NAMES[kind]();
  if (names.includes(value)) return [];
  return [{
    path,
    anchor: 'value',
    message: `the drill's data set has no ${kind} ${JSON.stringify(value)}; its ${kind === 'table' ? 'tables' : 'indexes'}: ${names.join(', ')} (${WHERE})`,
    suggestion: closestMatch(value, names),
  }];
}

/** pg-bad-migration: the column it renames or drops exists; the one it adds or renames to does not. */
function columnIssues(data: unknown): PathIssue[] {
  const faults = isRecord(data) ? data.faults : undefined;
  if (!Array.isArray(faults)) return [];
  return faults.flatMap((fault, i): PathIssue[] => {
    if (!isRecord(fault) || fault.type !== 'pg-bad-migration' || !isRecord(fault.change)) return [];
    const { kind, table, column, to } = fault.change;
    const relation = typeof table === 'string' ? DATASET_SCHEMA[table] : undefined;
    if (!relation || !Object.hasOwn(DATASET_SCHEMA, table as string)) return [];
    const columns = relation.columns;
    const at = (key: string): KeyPath => ['faults', i, 'change', key];
    const issues: PathIssue[] = [];
    if ((kind === 'rename-column' || kind === 'drop-column') && typeof column === 'string' && !columns.includes(column)) {
      issues.push({
        path: at('column'),
        anchor: 'value',
        message: `table ${table} has no column ${JSON.stringify(column)}; its columns: ${columns.join(', ')}`,
        suggestion: closestMatch(column, columns),
      });
    }
    const added = kind === 'add-required-column' ? { key: 'column', name: column } : kind === 'rename-column' ? { key: 'to', name: to } : undefined;
    if (added && typeof added.name === 'string' && columns.includes(added.name)) {
      issues.push({ path: at(added.key), anchor: 'value', message: `table ${table} already has a column ${JSON.stringify(added.name)}; choose a new name` });
    }
    return issues;
  });
}
