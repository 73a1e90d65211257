import { isAlias, isMap, isPair, isScalar, isSeq, type Document } from 'yaml';
import type { KeyPath } from './yaml-locate.js';

/**
 * Problems of a parsed YAML document's shape that would make turning it into data unsafe: an
 * alias that names no anchor, an alias inside the value it refers to (`a: &a [*a]`, an infinitely
 * deep value that recursive code would follow until the stack overflows), and nesting far deeper
 * than any scenario needs. Found on the syntax tree, where each problem still has its offset.
 */
export interface StructureIssue {
  offset: number;
  path: KeyPath;
  message: string;
}

/** The deepest a scenario goes is about 5 levels (recovery[0].rollback.deployments[0]). */
export const MAX_NESTING = 32;

type Node = unknown;

export function structureIssues(doc: Document.Parsed): StructureIssue[] {
  const issues: StructureIssue[] = [];
  // Depth-first search with the usual colours: on the current path, or fully explored (with the
  // height of what hangs below it, so a shared anchor is walked once, however often it is used).
  const onPath = new Set<Node>();
  const height = new Map<Node, number>();
  let tooDeep = false;

  const visit = (node: Node, path: KeyPath, depth: number): number => {
    if (depth > MAX_NESTING) {
      if (!tooDeep) {
        tooDeep = true;
        issues.push({
          offset: offsetOf(node),
          path: path.slice(0, MAX_NESTING),
          message: `nested more than ${MAX_NESTING} levels deep (aliases included); a scenario needs a handful: flatten it`,
        });
      }
      return 0;
    }
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target === undefined) {
        issues.push({ offset: offsetOf(node), path, message: `alias *${node.source} names no anchor &${node.source} written before it` });
        return 0;
      }
      if (onPath.has(target)) {
        issues.push({
          offset: offsetOf(node),
          path,
          message: `alias *${node.source} is inside the value &${node.source} names, which would make it infinitely deep; copy the values instead`,
        });
        return 0;
      }
      const known = height.get(target);
      if (known !== undefined) {
        if (depth + known > MAX_NESTING) return visit(target, path, depth);
        return known;
      }
      return visit(target, path, depth);
    }
    if (isMap(node)) {
      for (const pair of node.items) {
        if (isPair(pair) && pair.key !== null && !isScalar(pair.key)) {
          // `? [a, b] : c` or `*a : c`: JavaScript objects only have text keys, a scenario only names.
          issues.push({ offset: offsetOf(pair.key), path, message: 'a key must be plain text (a name), not a list, mapping or alias' });
        }
      }
    }
    const children = childrenOf(node);
    if (children.length === 0) return 0;
    onPath.add(node);
    let below = 0;
    for (const [segment, child] of children) below = Math.max(below, 1 + visit(child, [...path, segment], depth + 1));
    onPath.delete(node);
    height.set(node, below);
    return below;
  };

  visit(doc.contents, [], 0);
  return issues;
}

function childrenOf(node: Node): Array<[PropertyKey, Node]> {
  if (isMap(node)) {
    return node.items.flatMap((pair): Array<[PropertyKey, Node]> => {
      if (!isPair(pair)) return [];
      const value: unknown = isScalar(pair.key) ? pair.key.value : '?';
      // The merge key `<<` is a symbol when merges are on.
      const key = typeof value === 'symbol' ? (value.description ?? '<<') : String(value);
      return [[key, pair.value]];
    });
  }
  if (isSeq(node)) return node.items.map((item, index): [PropertyKey, Node] => [index, item]);
  return [];
}

function offsetOf(node: Node): number {
  const range = (node as { range?: readonly number[] } | null | undefined)?.range;
  return Array.isArray(range) ? range[0]! : 0;
}
