import { readFileSync } from 'node:fs';

/** The harness version recorded in every journal and evidence manifest. */
export const HARNESS_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
