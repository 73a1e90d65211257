import { z } from 'zod';

/**
 * Scenario values that name a relation of the drill's data set (a table, an index). The schema
 * marks them with `datasetName('table')`, so dataset-rules.ts can check every such value wherever
 * a new fault or step puts one, without a list of keys to keep in step.
 */
export type DatasetRef = 'table' | 'index';

/** By definition object: `.meta()` clones a schema but keeps its definition. */
const REFS = new WeakMap<object, DatasetRef>();

export function datasetName(kind: DatasetRef) {
  const schema = z.string();
  REFS.set(schema._zod.def, kind);
  return schema;
}

/** The kind of relation a (unwrapped) schema names, if it names one. */
export function datasetRefOf(schema: z.core.$ZodType | undefined): DatasetRef | undefined {
  return schema ? REFS.get(schema._zod.def) : undefined;
}
