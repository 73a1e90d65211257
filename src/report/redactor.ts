import createDebug from 'debug';
import { REDACTED, redactSecrets } from './redact.js';

const debug = createDebug('drill:report');

/**
 * Values shorter than this are not searched for in free text: replacing every "ab" or "42" would
 * make reports unreadable and break numbers. Where such a value was interpolated into the scenario
 * it is still masked (src/scenario/mask-environment.ts); a secret that short is no secret.
 */
export const MIN_SECRET_LENGTH = 4;

/** Where code that creates a secret (a generated password, a minted token) hands it over. */
export interface SecretSink {
  /** `what` says what it is, for debugging; it never appears with the value. */
  register(value: string | undefined, what: string): void;
}

/**
 * The one place secrets are taken out of what the drill writes. Every artifact writer (journal,
 * progress, Allure results, incident report, evidence, runner log, the CLI's output) passes its
 * text or data through a Redactor, which replaces
 * - every registered value (the scenario's `${VAR}` values; passwords and tokens the drill creates
 *   at run time, registered when they are created), in the forms it is written in (as is,
 *   percent-encoded, base64, JSON-escaped), and
 * - everything the pattern rules recognise (src/report/redact.ts: connection-string passwords,
 *   bearer tokens, AWS keys, ...)
 * by `[REDACTED]`. Idempotent: redacting twice changes nothing.
 */
export class Redactor implements SecretSink {
  private readonly forms = new Set<string>();
  /** Longest first, so a secret that contains another is replaced whole. */
  private ordered: string[] = [];

  register(value: string | undefined, what: string): void {
    if (value === undefined || value.length === 0) return;
    if (value.length < MIN_SECRET_LENGTH) {
      debug('not searching for %s in free text: shorter than %d characters', what, MIN_SECRET_LENGTH);
      return;
    }
    const before = this.forms.size;
    for (const form of formsOf(value)) if (!REDACTED.includes(form)) this.forms.add(form);
    if (this.forms.size !== before) {
      this.ordered = [...this.forms].sort((a, b) => b.length - a.length);
      debug('registered a secret: %s', what);
    }
  }

  /** How many forms of registered values are searched for (for tests and debugging). */
  get size(): number {
    return this.forms.size;
  }

  /** Text with every registered value and every recognised secret replaced. */
  redact(text: string): string {
    let out = text;
    for (const form of this.ordered) if (out.includes(form)) out = out.replaceAll(form, REDACTED);
    return redactSecrets(out);
  }

  /**
   * A copy of JSON-shaped data with every string (keys included) redacted. Numbers, booleans and
   * the shape stay as they are: a short value found inside a number must not turn it into text.
   */
  redactData<T>(value: T): T {
    return this.walk(value) as T;
  }

  /**
   * `value` as JSON text, redacted: strings one by one, then the serialised text once more by the
   * pattern rules, which also know secrets by their key (`"password": "..."`).
   */
  json(value: unknown, space?: number): string {
    return redactSecrets(JSON.stringify(this.redactData(value), null, space));
  }

  /**
   * A file's text through the Redactor: JSON by its strings (numbers stay numbers, the file stays
   * valid), anything else as text. Unchanged text comes back as it was, byte for byte.
   */
  redactFileText(text: string, asJson: boolean): string {
    if (asJson) {
      try {
        const parsed: unknown = JSON.parse(text);
        const untouched = JSON.stringify(this.redactData(parsed)) === JSON.stringify(parsed) && redactSecrets(text) === text;
        return untouched ? text : `${this.json(parsed, 2)}\n`;
      } catch {
        // Not JSON after all: redacted as text below.
      }
    }
    return this.redact(text);
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (Array.isArray(value)) return value.map((item) => this.walk(item));
    if (value && typeof value === 'object' && !(value instanceof Date)) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.redact(key), this.walk(item)]));
    }
    return value;
  }
}

/** The forms a value takes on its way into text: as is, in a URL, in a Kubernetes Secret, inside JSON. */
function formsOf(value: string): string[] {
  const forms = [value, encodeURIComponent(value), encodeURI(value), Buffer.from(value).toString('base64'), JSON.stringify(value).slice(1, -1)];
  return [...new Set(forms)].filter((form) => form.length >= MIN_SECRET_LENGTH);
}

/** A Redactor that knows the values a scenario was given through `${VAR}`. */
export function scenarioRedactor(environment: Readonly<Record<string, string>> | undefined): Redactor {
  const redactor = new Redactor();
  for (const [name, value] of Object.entries(environment ?? {})) redactor.register(value, `\${${name}}`);
  return redactor;
}
