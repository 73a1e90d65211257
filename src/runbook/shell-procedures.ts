import { createHash } from 'node:crypto';
import type { ProcedureKind } from './types.js';

/** A procedure as found in one code block, before it is given its section and id. */
export interface FoundProcedure {
  title: string;
  kind: ProcedureKind;
  commands: string[];
  /** 1-based line in the file. */
  line: number;
  sha256: string;
}

/** The shell code block languages whose contents are procedures (others are templates, output, config). */
export const SHELL_LANGUAGES: ReadonlySet<string> = new Set(['bash', 'sh', 'shell', 'zsh', 'ksh']);

const SCRIPT_PATH = /^[\w./-]+\.(sh|bash)$/;

/**
 * The procedures of one shell code block. A block that starts with `#!` is a script: one
 * procedure named by its path comment (`# scripts/emergency/auto-rollback.sh`), or `fallbackTitle`.
 * Otherwise each comment starts a procedure whose commands are the lines below it, up to the next
 * comment or blank line: the runbook's "# Stop write operations" above `kubectl scale …` is one.
 * Lines continued with a trailing backslash are one command.
 */
export function shellProcedures(code: string, firstLine: number, fallbackTitle: string): FoundProcedure[] {
  const lines = logicalLines(code, firstLine);
  if (lines.length === 0) return [];
  if (lines[0]!.text.startsWith('#!')) return [script(lines, fallbackTitle)];

  const found: FoundProcedure[] = [];
  let current: { titles: string[]; commands: string[]; line: number } | undefined;
  const close = () => {
    if (current && current.commands.length > 0) {
      const title = current.titles.join(' ') || shorten(current.commands[0]!);
      found.push({ title, kind: 'commands', commands: current.commands, line: current.line, sha256: hash(['commands', title, ...current.commands]) });
    }
    current = undefined;
  };
  for (const { text, line } of lines) {
    if (text === '') {
      if (current?.commands.length) close();
      continue;
    }
    if (text.startsWith('#')) {
      if (current?.commands.length) close();
      current ??= { titles: [], commands: [], line };
      const comment = text.replace(/^#+\s*/, '');
      if (comment) current.titles.push(comment);
      continue;
    }
    current ??= { titles: [], commands: [], line };
    current.commands.push(text);
  }
  close();
  return found;
}

function script(lines: LogicalLine[], fallbackTitle: string): FoundProcedure {
  const comments = lines.filter((l) => l.text.startsWith('#') && !l.text.startsWith('#!')).map((l) => l.text.replace(/^#+\s*/, ''));
  const title = comments.find((c) => SCRIPT_PATH.test(c)) ?? fallbackTitle;
  const commands = lines.filter((l) => l.text !== '' && !l.text.startsWith('#')).map((l) => l.text);
  // Comments count: in a script they are part of what the reader follows.
  return { title, kind: 'script', commands, line: lines[0]!.line, sha256: hash(['script', ...lines.map((l) => l.text).filter((t) => t !== '')]) };
}

interface LogicalLine {
  text: string;
  line: number;
}

/** Lines trimmed, whitespace runs collapsed, backslash continuations joined (numbered by their first line). */
function logicalLines(code: string, firstLine: number): LogicalLine[] {
  const out: LogicalLine[] = [];
  let pending: LogicalLine | undefined;
  code.split(/\r?\n/).forEach((raw, index) => {
    const text = raw.trim().replace(/\s+/g, ' ');
    const line = firstLine + index;
    const continued = /(^|[^\\])\\$/.test(text);
    const body = continued ? text.slice(0, -1).trimEnd() : text;
    pending = pending ? { text: `${pending.text} ${body}`.trim(), line: pending.line } : { text: body, line };
    if (!continued) {
      out.push(pending);
      pending = undefined;
    }
  });
  if (pending) out.push(pending);
  // Leading blank lines would hide a shebang.
  while (out.length > 0 && out[0]!.text === '') out.shift();
  return out;
}

function shorten(command: string): string {
  return command.length <= 60 ? command : `${command.slice(0, 57)}...`;
}

/** Over the normalised text, so re-indenting or re-wrapping a command is not a change. */
function hash(parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}
