import { InputError } from '../engine/errors.js';
import type { Anchor, KeyPath } from './yaml-locate.js';

/** One problem in one scenario file, located precisely enough for an editor to jump to it. */
export interface ScenarioIssue {
  /** The path as the user gave it (relative stays relative), so the message reads like their command. */
  file: string;
  /** 1-based; 0 when the problem is the file itself (missing, unreadable). */
  line: number;
  /** 1-based; 0 when the problem is the file itself. */
  column: number;
  /** `expect.rto`, `recovery[2].target`; empty for the document as a whole. */
  keyPath: string;
  message: string;
  /** The likely intended key or value, shown as "did you mean". */
  suggestion?: string;
}

/** A problem before it is placed in the source: checks work on data, the loader finds the line. */
export interface PathIssue {
  path: KeyPath;
  anchor: Anchor;
  message: string;
  suggestion?: string;
  /** Point somewhere else than `path` (e.g. at `provider:` for a missing `url`). */
  at?: KeyPath;
}

export const SCENARIO_FIX_HINT =
  'fix the file(s) above; `npx drill validate <file>` re-checks; the schema is schema/scenario.schema.json';

/** `path/to/file.yaml:12:3 expect.rtoo: unknown key — did you mean "rto"?` */
export function formatIssue(issue: ScenarioIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  // A key of a megabyte is its own problem; its start is enough to find it.
  const keyPath = issue.keyPath.length > 200 ? `${issue.keyPath.slice(0, 120)}… (${issue.keyPath.length} characters)` : issue.keyPath;
  const key = keyPath ? ` ${keyPath}:` : ':';
  const hint = issue.suggestion === undefined ? '' : ` — did you mean "${issue.suggestion}"?`;
  return `${where}${key} ${issue.message}${hint}`;
}

/** Editors and humans read problems top to bottom; files keep the order they were given in. */
export function sortIssues(issues: ScenarioIssue[], fileOrder: string[]): ScenarioIssue[] {
  const rank = (file: string) => {
    const index = fileOrder.indexOf(file);
    return index === -1 ? fileOrder.length : index;
  };
  return [...issues].sort(
    (a, b) => rank(a.file) - rank(b.file) || a.line - b.line || a.column - b.column,
  );
}

/** Invalid scenario input: exit 2 at the CLI, every problem of every file in one message. */
export class ScenarioValidationError extends InputError {
  readonly issues: ScenarioIssue[];

  constructor(issues: ScenarioIssue[]) {
    super('SCENARIO_INVALID', [...issues.map(formatIssue), SCENARIO_FIX_HINT].join('\n'));
    this.name = 'ScenarioValidationError';
    this.issues = issues;
  }
}
