/**
 * Secret redaction for anything a reporter writes. Reports and evidence bundles travel (CI
 * artifacts, tickets, auditors), and a scenario's connection URL may have had `${PGPASSWORD}`
 * expanded into it before it reached the journal, so every rendered text passes through here.
 *
 * Redaction errs on the side of hiding: a false positive costs a `[REDACTED]` in a report, a
 * false negative leaks a credential. It is idempotent: redacting twice changes nothing.
 */
export const REDACTED = '[REDACTED]';

interface Rule {
  name: string;
  pattern: RegExp;
  replace: (match: string, ...groups: Array<string | undefined>) => string;
}

const RULES: Rule[] = [
  {
    // scheme://user:password@host — keep scheme and user (useful for diagnosis), hide the password.
    // The password runs to the last `@` before the authority ends (/ ? #, whitespace, quotes), as
    // URL parsers read it, so an unencoded `@` in a password does not leak its tail.
    name: 'url-password',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@'"`<>]*):([^\s/?#'"`<>]+)@/gi,
    replace: (_m, prefix) => `${prefix}:${REDACTED}@`,
  },
  {
    // libpq conninfo (`host=x password='s e c' user=y`), query strings (`?password=x&...`) and
    // env-style assignments (`PGPASSWORD=x`). A quoted value may contain escaped quotes.
    name: 'password-assignment',
    pattern: /\b([a-z_]*(?:password|passwd|pwd))(\s*=\s*)('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s'"&;,)]+)/gi,
    replace: (_m, key, eq) => `${key}${eq}${REDACTED}`,
  },
  {
    // JSON-ish `"password": "..."` (a config object printed into a message).
    name: 'password-json',
    pattern: /("[a-z_]*(?:password|passwd|secret|token)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi,
    replace: (_m, prefix) => `${prefix}"${REDACTED}"`,
  },
  {
    // HTTP credentials: `Authorization: Bearer <token>` / `Basic <b64>` / a bare header value.
    // When the regex backtracks to read the scheme word itself as the value (the token after it
    // is already redacted), leave the match alone so a second pass changes nothing.
    name: 'authorization',
    pattern: /\b(authorization\s*[:=]\s*)((?:bearer|basic|token)\s+)?([^\s'",;]+)/gi,
    replace: (match, prefix, scheme, value) =>
      !scheme && /^(bearer|basic|token)$/i.test(value!) ? match : `${prefix}${scheme ?? ''}${REDACTED}`,
  },
  {
    // A bare `Bearer <token>` (curl lines, logs). Long tokens only, so prose ("Bearer tokens are
    // revoked") survives; real bearer tokens (JWTs, API keys) are far longer than 16 characters.
    name: 'bearer',
    pattern: /\b(bearer\s+)[A-Za-z0-9\-._~+/]{16,}=*/gi,
    replace: (_m, prefix) => `${prefix}${REDACTED}`,
  },
  {
    // AWS access key ids (long-term AKIA, temporary ASIA) and the secret that usually sits beside them.
    name: 'aws-access-key-id',
    pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
    replace: () => REDACTED,
  },
  {
    name: 'aws-secret-access-key',
    pattern: /\b(aws_secret_access_key|secretAccessKey)(["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[A-Za-z0-9/+=]{20,}/gi,
    replace: (_m, key, sep) => `${key}${sep}${REDACTED}`,
  },
];

/** The text with every recognised secret replaced by `[REDACTED]`. */
export function redactSecrets(text: string): string {
  return RULES.reduce((out, rule) => out.replace(rule.pattern, rule.replace as (m: string, ...a: unknown[]) => string), text);
}
