import { LineCounter, parseDocument, type Document } from 'yaml';
import { formatKeyPath, pathAtOffset, toPosition } from './yaml-locate.js';
import { MAX_NESTING } from './yaml-structure.js';

/**
 * YAML text to a document that keeps source positions, plus syntax problems already placed at
 * their line and column and named by the nearest key.
 */
export interface ParsedYaml {
  doc: Document.Parsed;
  lineCounter: LineCounter;
  syntaxIssues: { line: number; column: number; keyPath: string; message: string }[];
}

/** The parser's wording where it speaks to programmers rather than scenario authors. */
const FRIENDLIER: Record<string, string> = {
  MULTIPLE_DOCS: 'a scenario file holds one YAML document; remove the `---` separator or split the file',
  DUPLICATE_KEY: 'this key is already set above in the same mapping',
  TAB_AS_INDENT: 'tabs are not allowed for indentation in YAML; use spaces',
};

export function parseYaml(source: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // Merge keys (`<<: *defaults`) let scenario authors share blocks; unique keys catch paste slips.
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const syntaxIssues = doc.errors.map((error) => {
    // The parser recurses per level of nesting; thousands of `[` end its stack, not its grammar.
    const overflow = /call stack/i.test(error.message);
    return {
      ...toPosition(lineCounter, error.pos[0]),
      keyPath: formatKeyPath(pathAtOffset(doc, error.pos[0]).slice(0, overflow ? MAX_NESTING : undefined)),
      message: overflow
        ? `the document is nested far too deeply (a scenario needs a handful of levels, at most ${MAX_NESTING}); flatten it`
        : `YAML syntax: ${FRIENDLIER[error.code] ?? lowerFirst(error.message)}`,
    };
  });
  return { doc, lineCounter, syntaxIssues };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
