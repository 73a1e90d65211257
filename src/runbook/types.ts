/**
 * A runbook as drill reads it: the sections of a Markdown file (its headings) and the procedures
 * in their shell code blocks. Ids are slugs of the heading path, so an edit elsewhere in the file
 * never changes them (src/runbook/parse-runbook.ts says how they are made).
 */
export interface RunbookSection {
  /** Slugs of the heading path joined by `/`, e.g. `disaster-recovery-scenarios/scenario-2-database-corruption`. */
  id: string;
  /** Heading texts from the top section down to this one, as plain text. */
  path: string[];
  /** The Markdown heading depth (2 for `##`). */
  depth: number;
  /** 1-based line of the heading. */
  line: number;
  /** Id of the enclosing section; undefined for a top-level one. */
  parent?: string;
}

export type ProcedureKind = 'commands' | 'script';

export interface RunbookProcedure {
  /** `<section id>#<slug of the title>`, e.g. `…/immediate-response#stop-write-operations`. */
  id: string;
  sectionId: string;
  /** The comment above the commands, a script's path, or the first command when neither is there. */
  title: string;
  /**
   * `commands`: a group of command lines under one comment; `script`: a whole `#!` script, which is
   * one procedure (its own commands are its inside, not procedures of the runbook).
   */
  kind: ProcedureKind;
  /** The command lines, continuation lines joined; for a script, every line that is not a comment. */
  commands: string[];
  /** 1-based line of the procedure's first line in the file. */
  line: number;
  /** sha256 of the procedure's text with whitespace collapsed: what "changed since drilled" compares. */
  sha256: string;
}

export interface Runbook {
  /** The path as given. */
  file: string;
  /** sha256 of the bytes on disk. */
  sha256: string;
  /** The document title (a lone `#` heading), which is not part of any id. */
  title?: string;
  sections: RunbookSection[];
  procedures: RunbookProcedure[];
}
