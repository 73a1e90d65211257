import { z } from 'zod';
import { isDurationSchema } from './duration-schema.js';
import type { KeyPath } from './yaml-locate.js';

/**
 * Reads the zod schema itself to answer "which keys or values would have been valid here", so
 * suggestions never drift from the format.
 */
type Schema = z.core.$ZodType;

/** Strips wrappers that do not change which keys or values are accepted. */
export function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable
    ) {
      current = current.unwrap() as Schema;
    } else {
      return current;
    }
  }
}

/**
 * The schema that applies at `path`. Discriminated unions follow the option chosen by the data's
 * discriminator, since that is the option the user meant. Undefined when the path leaves the schema.
 */
export function schemaAt(root: Schema, data: unknown, path: KeyPath): Schema | undefined {
  let schema: Schema | undefined = unwrap(root);
  let value = data;
  for (const segment of path) {
    schema = chooseOption(schema, value);
    if (schema instanceof z.ZodObject && typeof segment === 'string') {
      schema = schema.shape[segment] as Schema | undefined;
    } else if (schema instanceof z.ZodArray && typeof segment === 'number') {
      schema = schema.element as Schema;
    } else {
      return undefined;
    }
    if (!schema) return undefined;
    schema = unwrap(schema);
    value = isRecord(value) || Array.isArray(value) ? (value as Record<PropertyKey, unknown>)[segment] : undefined;
  }
  return chooseOption(schema, value);
}

/** Keys a mapping at this point may hold (empty when it is not a mapping). */
export function keysOf(schema: Schema | undefined): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** Every literal/enum value accepted here, e.g. the severities or `before-fault` and `latest`. */
export function literalValues(schema: Schema | undefined): string[] {
  if (!schema) return [];
  const s = unwrap(schema);
  if (s instanceof z.ZodEnum) return s.options.map(String);
  if (s instanceof z.ZodLiteral) return [...s.values].map(String);
  if (s instanceof z.ZodUnion) return s.options.flatMap((option) => literalValues(option as Schema));
  return [];
}

/** The mapping alternatives of a union, e.g. `{time}` `{lsn}` for a recovery target. */
export function objectOptions(schema: Schema | undefined): string[][] {
  if (!schema) return [];
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) return [keysOf(s)];
  if (s instanceof z.ZodUnion) return s.options.flatMap((option) => objectOptions(option as Schema));
  return [];
}

/** The key that selects the option (`step`, `type`) and its values, for a discriminated union. */
export function discriminatorOf(schema: Schema | undefined): { key: string; values: string[] } | undefined {
  if (!(schema instanceof z.ZodDiscriminatedUnion)) return undefined;
  const key = schema.def.discriminator;
  const values = schema.options.flatMap((option) =>
    option instanceof z.ZodObject ? literalValues(option.shape[key] as Schema | undefined) : [],
  );
  return { key, values };
}

/** True for the scenario `duration` type, however it was wrapped with defaults or metadata. */
export function isDuration(schema: Schema | undefined): boolean {
  return !!schema && isDurationSchema(unwrap(schema));
}

function chooseOption(schema: Schema | undefined, value: unknown): Schema | undefined {
  if (!(schema instanceof z.ZodDiscriminatedUnion) || !isRecord(value)) return schema;
  const discriminator = schema.def.discriminator;
  const chosen = schema.options.find((option) => {
    const field = option instanceof z.ZodObject ? (option.shape[discriminator] as Schema | undefined) : undefined;
    return literalValues(field).includes(String(value[discriminator]));
  });
  return chosen ? unwrap(chosen as Schema) : schema;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
