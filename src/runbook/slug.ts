/**
 * The id form of a heading or a procedure title: lower-case ASCII letters and digits, runs of
 * anything else (spaces, punctuation, emoji, Markdown emphasis) one dash. Accents are dropped
 * rather than the letter (`Récupération` → `recuperation`).
 */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** A heading without its parenthesised parts: `Rollback Execution (5-15 minutes)` → `Rollback Execution`. */
export function withoutParentheses(text: string): string {
  return text.replace(/\([^)]*\)/g, ' ').replace(/\s+/g, ' ').trim();
}

/** `name`, or `name-2`, `name-3`… when taken: ids stay unique within their scope. */
export function uniqueName(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate); n++) candidate = `${name}-${n}`;
  taken.add(candidate);
  return candidate;
}
