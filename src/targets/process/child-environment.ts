/**
 * The environment of every process the drill starts. A child gets the few variables programs need
 * to run at all, the ones its caller names, and values set for it, never the drill's environment
 * wholesale: that holds the user's tokens, DRILL_EVIDENCE_SIGNING_KEY and whatever a scenario's `${VAR}`s
 * were filled from, and a child's environment is readable in /proc/<pid>/environ for as long as it
 * runs (a PostgreSQL server: the whole drill).
 *
 * Guarded by lint (eslint.config.js: no `process.env` as or spread into a child's `env`) and by
 * test/targets/child-environment.test.ts.
 */
export type ParentEnvironment = Readonly<Record<string, string | undefined>>;

/** What any program may need: where programs are, the locale, a home and a temp directory, the time zone. */
export const BASE_VARIABLES = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'LANGUAGE', 'LC_*'] as const;

/** For the drill's own node processes: debug namespaces and node's own settings. */
export const NODE_VARIABLES = ['DEBUG', 'DEBUG_*', 'NODE_OPTIONS'] as const;

/**
 * For programs that talk to a Docker engine (kind, the docker CLI it runs, testcontainers). Not
 * DOCKER_AUTH_CONFIG (registry credentials): only testcontainers, in the drill process, reads it.
 */
export const DOCKER_VARIABLES = ['DOCKER_*', 'KIND_*', 'TESTCONTAINERS_*', 'XDG_RUNTIME_DIR'] as const;

/**
 * The harness's own settings (DRILL_PG_BINDIR, DRILL_KUBECONFIG, ...), for the drill's own node
 * processes. Names that say they hold a key, token, secret, password or credentials
 * (DRILL_EVIDENCE_SIGNING_KEY) are not settings and never pass by a prefix: only the CLI, which signs
 * evidence, reads them.
 */
export const HARNESS_SETTINGS = ['DRILL_*'] as const;

/**
 * The AWS SDK's credential chain and its settings, by exact name (secrets never pass by a
 * prefix): only for the drill's own process, and only when its scenario uses an existing Route 53
 * hosted zone (targets.regions.dns.route53). No program the drill starts gets them.
 */
export const AWS_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_EC2_METADATA_DISABLED',
] as const;
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH/i;

export interface ChildEnvironmentOptions {
  /** More variables to copy from the parent when set: names, or prefixes ending in `*`. */
  pass?: readonly string[];
  /** Values for the child, set whatever the parent has (undefined: leave it out). */
  set?: Readonly<Record<string, string | undefined>>;
  /** The parent's environment (default: this process's). */
  from?: ParentEnvironment;
}

/** The environment for a child process: BASE_VARIABLES and `pass` copied from the parent, then `set`. */
export function childEnvironment(options: ChildEnvironmentOptions = {}): Record<string, string> {
  const from = options.from ?? process.env;
  const patterns = [...BASE_VARIABLES, ...(options.pass ?? [])];
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value === undefined || !patterns.some((p) => matches(p, name))) continue;
    // A prefix lets settings through, not secrets that happen to share it.
    if (SECRET_NAME.test(name) && !patterns.includes(name)) continue;
    env[name] = value;
  }
  for (const [name, value] of Object.entries(options.set ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

function matches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}
