import type { Code, Heading, Nodes } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { toString } from 'mdast-util-to-string';
import { shellProcedures, SHELL_LANGUAGES } from './shell-procedures.js';
import { slugify, uniqueName } from './slug.js';
import type { Runbook, RunbookProcedure, RunbookSection } from './types.js';

/** One thing wrong with a runbook file, placed at a line (0: the file as a whole). */
export interface RunbookProblem {
  line: number;
  message: string;
}

export type ParsedRunbook = { ok: true; runbook: Runbook } | { ok: false; problems: RunbookProblem[] };

/**
 * Sections and procedures of a Markdown runbook (CommonMark, parsed by mdast-util-from-markdown).
 *
 * - A section is a heading; its id is the slugs of the headings above it and its own, joined by
 *   `/`. A lone `#` heading is the document's title and is left out of every id, so a new version
 *   in the title ("v4.4" → "v4.5") keeps the ids.
 * - Procedures come from shell code blocks (```bash, sh, shell, zsh, ksh) in document order, each
 *   in the section of the heading above it (shell-procedures.ts splits a block). Other blocks are
 *   templates or output and hold none.
 * - A procedure's id is its section id, `#`, and the slug of its title; a repeat in one section
 *   gets `-2`. An edit to another section or procedure changes neither id.
 *
 * Problems (an unclosed code fence, no headings, no procedures, a heading without text) are all
 * reported, with their lines.
 */
export function parseRunbook(text: string, file: string, sha256: string): ParsedRunbook {
  const problems: RunbookProblem[] = [];
  if (text.trim() === '') return { ok: false, problems: [{ line: 0, message: 'the file is empty' }] };
  const tree = fromMarkdown(text);

  const headings: Heading[] = [];
  const blocks: Array<{ node: Code; after: number }> = [];
  walk(tree, (node) => {
    if (node.type === 'heading') headings.push(node);
    if (node.type === 'code') {
      blocks.push({ node, after: headings.length });
      const unclosed = unclosedFence(text, node);
      if (unclosed !== undefined) {
        problems.push({
          line: unclosed,
          message: 'a code block opened here is never closed: everything below it reads as code (add the closing fence, e.g. ```)',
        });
      }
      const swallowed = fenceInside(text, node);
      if (swallowed) {
        problems.push({
          line: swallowed.line,
          message: `"${swallowed.fence}" opens a code block, but this line is inside the code block opened at line ${node.position?.start.line}: a closing fence is missing above it`,
        });
      }
    }
  });
  if (headings.length === 0) problems.push({ line: 0, message: 'no headings: procedures are mapped by the sections (## headings) they are in' });

  const lone = headings.filter((h) => h.depth === 1);
  const titleHeading = lone.length === 1 && headings[0] === lone[0] ? lone[0] : undefined;
  const sections: RunbookSection[] = [];
  // Each heading's section, by index in `headings` (undefined for the title).
  const sectionOf: Array<RunbookSection | undefined> = [];
  const stack: RunbookSection[] = [];
  const sectionIds = new Set<string>();
  for (const heading of headings) {
    const line = heading.position?.start.line ?? 0;
    const name = headingText(heading);
    if (heading === titleHeading) {
      sectionOf.push(undefined);
      continue;
    }
    if (name === '') problems.push({ line, message: 'a heading without text: give it a name (it becomes part of the ids below it)' });
    while (stack.length > 0 && stack.at(-1)!.depth >= heading.depth) stack.pop();
    const parent = stack.at(-1);
    const slug = slugify(name) || 'section';
    const id = uniqueName(parent ? `${parent.id}/${slug}` : slug, sectionIds);
    const section: RunbookSection = { id, path: [...(parent?.path ?? []), name], depth: heading.depth, line, ...(parent ? { parent: parent.id } : {}) };
    sections.push(section);
    sectionOf.push(section);
    stack.push(section);
  }

  const procedures: RunbookProcedure[] = [];
  const procedureIds = new Set<string>();
  let preamble: RunbookSection | undefined;
  for (const { node, after } of blocks) {
    if (!SHELL_LANGUAGES.has((node.lang ?? '').toLowerCase())) continue;
    // The section of the nearest heading above the block that is not the title.
    let section = sectionOf.slice(0, after).findLast((s) => s !== undefined);
    if (!section) {
      preamble ??= { id: uniqueName('preamble', sectionIds), path: ['(before the first section)'], depth: 1, line: 1 };
      section = preamble;
    }
    const start = node.position?.start.line ?? 0;
    // The code starts on the line after the opening fence.
    for (const found of shellProcedures(node.value, start + 1, section.path.at(-1) ?? 'procedure')) {
      const id = uniqueName(`${section.id}#${slugify(found.title) || 'procedure'}`, procedureIds);
      procedures.push({ id, sectionId: section.id, ...found });
    }
  }
  if (preamble) sections.unshift(preamble);
  if (headings.length > 0 && procedures.length === 0) {
    problems.push({ line: 0, message: `no procedures: no shell code block (\`\`\`${[...SHELL_LANGUAGES][0]}) under any heading holds a command` });
  }
  if (problems.length > 0) return { ok: false, problems: problems.sort((a, b) => a.line - b.line) };
  return { ok: true, runbook: { file, sha256, ...(titleHeading ? { title: headingText(titleHeading) } : {}), sections, procedures } };
}

/** Plain text of a heading, emphasis and leading/trailing emoji or symbols dropped. */
function headingText(heading: Heading): string {
  return toString(heading)
    .replace(/^[^\p{L}\p{N}]+/u, '')
    .replace(/[^\p{L}\p{N})\]]+$/u, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function walk(node: Nodes, visit: (node: Nodes) => void): void {
  visit(node);
  if ('children' in node) for (const child of node.children) walk(child, visit);
}

/**
 * The line of a fenced code block's opening fence when no closing fence ends it (CommonMark then
 * runs the block to the end of its container, usually the document: the sections below vanish).
 * Indented code blocks have no fence and are never "unclosed".
 */
function unclosedFence(text: string, node: Code): number | undefined {
  const start = node.position?.start;
  const end = node.position?.end;
  if (!start || !end || start.offset === undefined || end.offset === undefined) return undefined;
  const lines = text.slice(start.offset, end.offset).split(/\r?\n/);
  const opening = /^[ \t>]*(`{3,}|~{3,})/.exec(lines[0]!)?.[1];
  if (!opening) return undefined;
  const last = lines.length > 1 ? lines.at(-1)!.replace(/^[ \t>]*/, '').trimEnd() : '';
  const closes = last.length >= opening.length && new RegExp(`^\\${opening[0]}{${opening.length},}$`).test(last);
  return closes ? undefined : start.line;
}

/**
 * A line inside a fenced code block that opens a code block with a language (```` ```bash ````)
 * with a fence as long as the block's own: a closing fence above it is missing, and every fence
 * below pairs up one off, so the headings in between read as code and the damage may end in a
 * block that closes after all. (A closing fence cannot carry a language, so such a line never
 * ends the block it is in; Markdown about Markdown uses a longer outer fence and is not flagged.)
 */
function fenceInside(text: string, node: Code): { line: number; fence: string } | undefined {
  const start = node.position?.start;
  if (start?.offset === undefined) return undefined;
  const opening = /^[ \t>]*(`{3,}|~{3,})/.exec(text.slice(start.offset).split(/\r?\n/, 1)[0]!)?.[1];
  if (!opening) return undefined;
  const inner = new RegExp(`^ {0,3}\\${opening[0]}{${opening.length},}[^\\s\`~]`);
  const lines = node.value.split(/\r?\n/);
  const index = lines.findIndex((line) => inner.test(line));
  return index === -1 ? undefined : { line: start.line + 1 + index, fence: lines[index]!.trim() };
}
