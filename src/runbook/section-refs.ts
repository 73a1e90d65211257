import { closestMatch } from '../scenario/did-you-mean.js';
import { slugify, withoutParentheses } from './slug.js';
import type { Runbook, RunbookSection } from './types.js';

export type SectionRefResult = { ok: true; sections: RunbookSection[] } | { ok: false; message: string; suggestion?: string };

/**
 * The sections a scenario's `runbook:` names. The value is written as people cite the runbook:
 * the end of a heading path with `: ` between headings ("Rollback Execution: Option 1: Kubernetes
 * Rolling Rollback"), parenthesised parts of headings optional ("(5-15 minutes)"), and several
 * sections separated by `, ` ("Automated Recovery Scripts: Circuit Breaker Implementation,
 * Auto-Rollback Script"). Compared by slug, so case, emoji and punctuation do not matter. Each
 * part must name exactly one section.
 */
export function resolveSectionRef(runbook: Runbook, ref: string): SectionRefResult {
  const whole = matching(runbook, ref);
  if (whole.length === 1) return { ok: true, sections: whole };
  const parts = ref.split(/,\s*/).filter((p) => p.trim() !== '');
  if (whole.length === 0 && parts.length > 1) {
    const sections: RunbookSection[] = [];
    for (const part of parts) {
      const result = resolveSectionRef(runbook, part);
      if (!result.ok) return result;
      sections.push(...result.sections);
    }
    return { ok: true, sections };
  }
  if (whole.length > 1) {
    return {
      ok: false,
      message: `"${ref}" names ${whole.length} runbook sections (${whole.map(display).join('; ')}): add the heading above it, e.g. "${display(whole[0]!)}"`,
    };
  }
  const suggestion = closestMatch(ref, runbook.sections.flatMap((s) => [s.path.at(-1)!, display(s)]));
  return {
    ok: false,
    message: `"${ref}" is no section of ${runbook.file}: write the heading as in the runbook, optionally with the headings above it ("Parent: Heading")`,
    ...(suggestion ? { suggestion } : {}),
  };
}

/** A section as people cite it: its headings joined by `: `. */
export function display(section: RunbookSection): string {
  return section.path.join(': ');
}

/** Whether `section` is `ancestor` or inside it. */
export function isWithin(section: string, ancestor: string): boolean {
  return section === ancestor || section.startsWith(`${ancestor}/`);
}

function matching(runbook: Runbook, ref: string): RunbookSection[] {
  const wanted = slugify(ref);
  if (wanted === '') return [];
  return runbook.sections.filter((section) => citations(section.path).has(wanted));
}

/** Every way to cite a section: each tail of its heading path, each heading with or without its parentheses. */
function citations(path: string[]): Set<string> {
  const out = new Set<string>();
  for (let start = path.length - 1; start >= 0; start--) {
    let forms = [''];
    for (const heading of path.slice(start)) {
      const variants = [...new Set([slugify(heading), slugify(withoutParentheses(heading))])].filter((v) => v !== '');
      forms = forms.flatMap((prefix) => variants.map((v) => (prefix ? `${prefix}-${v}` : v)));
    }
    for (const form of forms) out.add(form);
  }
  return out;
}
