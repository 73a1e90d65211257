import { resolve } from 'node:path';
import createDebug from 'debug';
import { fileIssues } from './file-rules.js';
import { interpolateEnv, type Env } from './interpolate.js';
import { ScenarioValidationError, sortIssues, type PathIssue, type ScenarioIssue } from './issues.js';
import { parseYaml } from './parse-yaml.js';
import { readSource } from './read-source.js';
import { crossFieldIssues } from './rules.js';
import { notificationIssues } from './notifications-rules.js';
import { runbookIssues } from './runbook-rules.js';
import { manualIssues } from './manual-rules.js';
import type { Runbook } from '../runbook/types.js';
import { scenarioSchema, type Scenario } from './schema.js';
import { formatKeyPath, locate, toPosition, type KeyPath, type Position } from './yaml-locate.js';
import { structureIssues } from './yaml-structure.js';
import { describeZodIssues } from './zod-issues.js';

const debug = createDebug('drill:scenario');

export { ScenarioValidationError, formatIssue, type ScenarioIssue } from './issues.js';

export interface LoadedScenario {
  /** Absolute path. */
  file: string;
  /** The text as read (minus a BOM), before `${VAR}` interpolation: safe to store as evidence. */
  source: string;
  /** Of the bytes on disk. */
  sha256: string;
  scenario: Scenario;
  /** Key paths whose values came from `${VAR}`: masked wherever the scenario is recorded. */
  fromEnvironment?: ReadonlyArray<readonly PropertyKey[]>;
  /**
   * The `${VAR}`s the scenario uses, with their values. The values are treated as secrets (every
   * artifact writer redacts them); the names are the only variables of the user's environment
   * passed on to the process that runs the drill.
   */
  environment?: Readonly<Record<string, string>>;
}

export interface LoadOptions {
  /** Where `${VAR}` values come from; defaults to process.env. */
  env?: Env;
  /** Values on top of process.env (when `env` is not given): the drill process's piped `${VAR}`s (src/engine/variables-handoff.ts). */
  variables?: Readonly<Record<string, string>>;
  /**
   * false leaves unset `${VAR}` as written instead of reporting it, for callers that only show
   * the scenario (`drill list`) and should not need the secrets it runs with.
   */
  requireEnv?: boolean;
  /** The runbook the scenarios follow: `runbook:` and `covers:` are checked against it (runbook-rules.ts). */
  runbook?: Runbook;
  /**
   * How the drill will be run: false for a plain `drill run`, which refuses a `manual` step;
   * true for `--game-day`; undefined to check the file only (manual-rules.ts).
   */
  gameDay?: boolean;
}

interface Checked {
  loaded?: LoadedScenario;
  issues: ScenarioIssue[];
  /** Where `name:` is written, to place a duplicate-name problem. */
  namePosition?: Position;
}

/** Loads and validates one scenario; throws ScenarioValidationError listing every problem in it. */
export async function loadScenarioFile(path: string, options: LoadOptions = {}): Promise<LoadedScenario> {
  const [loaded] = await loadScenarioFiles([path], options);
  return loaded!;
}

/**
 * Loads and validates all files before failing, so one run shows every problem in every file
 * (users fix them in one go rather than one per attempt). Results keep the order of `paths`.
 */
export async function loadScenarioFiles(paths: readonly string[], options: LoadOptions = {}): Promise<LoadedScenario[]> {
  const checked = await Promise.all(paths.map((path) => checkScenarioFile(path, options)));
  const issues = [...checked.flatMap((c) => c.issues), ...duplicateNames(paths, checked)];
  if (issues.length) throw new ScenarioValidationError(sortIssues(issues, [...paths]));
  return checked.map((c) => c.loaded!);
}

async function checkScenarioFile(file: string, options: LoadOptions): Promise<Checked> {
  const absolute = resolve(file);
  const read = await readSource(absolute);
  if (!read.ok) return { issues: [{ file, line: 0, column: 0, keyPath: '', message: read.message }] };

  const { doc, lineCounter, syntaxIssues } = parseYaml(read.source);
  // After a syntax error the tree is a guess; schema errors on it would send the user chasing ghosts.
  if (syntaxIssues.length) return { issues: syntaxIssues.map((issue) => ({ file, ...issue })) };

  const place = (issue: PathIssue): ScenarioIssue => ({
    file,
    ...locate(doc, lineCounter, issue.at ?? issue.path, issue.anchor),
    keyPath: formatKeyPath(issue.path),
    message: issue.message,
    ...(issue.suggestion === undefined ? {} : { suggestion: issue.suggestion }),
  });

  if (doc.contents === null) {
    const message = `the file is empty; a scenario needs at least: ${requiredTopLevelKeys().join(', ')}`;
    return { issues: [place({ path: [], anchor: 'value', message })] };
  }

  // Before toJS: a cyclic or absurdly deep value would crash everything that walks it.
  const structure = structureIssues(doc);
  if (structure.length) {
    return {
      issues: structure.map((issue) => ({ file, ...toPosition(lineCounter, issue.offset), keyPath: formatKeyPath(issue.path), message: issue.message })),
    };
  }

  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (error) {
    // e.g. the alias-count guard against "billion laughs" documents.
    return { issues: [place({ path: [], anchor: 'value', message: `cannot read the YAML: ${(error as Error).message}` })] };
  }

  const environment = options.env ?? (options.variables ? { ...process.env, ...options.variables } : process.env);
  const env = interpolateEnv(raw, environment, { requireEnv: options.requireEnv ?? true });
  const secret = new Set(env.filled.map(formatKeyPath));
  const isSecret = (path: KeyPath) => secret.has(formatKeyPath(path));
  const parsed = scenarioSchema.safeParse(env.data);
  const schemaIssues = parsed.success
    ? []
    : describeZodIssues(parsed.error.issues, { data: env.data, isSecret });
  // A value left as `${UNSET}` also fails its type; the unset variable is the one thing to fix.
  const envPaths = new Set(env.issues.map((issue) => formatKeyPath(issue.path)));
  // The name becomes the run id and directory name, which no Redactor can take back.
  const nameIssues = env.filled.some((p) => p.length === 1 && p[0] === 'name')
    ? [{ path: ['name'], anchor: 'value' as const, message: 'name names the run directory and every report; write it literally, not with ${...}' }]
    : [];
  const pathIssues = [
    ...env.issues,
    ...nameIssues,
    ...crossFieldIssues(env.data),
    ...runbookIssues(env.data, options.runbook),
    ...manualIssues(env.data, { gameDay: options.gameDay, runbook: options.runbook }),
    ...notificationIssues(env.data, { isSecret, scenarioFile: absolute, raw }),
    ...(await fileIssues(env.data, { scenarioFile: absolute, env: environment, isSecret })),
    ...schemaIssues.filter((issue) => !envPaths.has(formatKeyPath(issue.path))),
  ];

  const namePosition = locate(doc, lineCounter, ['name'], 'value');
  if (!parsed.success || pathIssues.length) {
    // The fallback is only reachable if a zod issue kind went untranslated; never pass it as valid.
    const fallback = parsed.success ? [] : [{ path: [], anchor: 'value' as const, message: parsed.error.message }];
    return { issues: (pathIssues.length ? pathIssues : fallback).map(place), namePosition };
  }

  debug('loaded %s (sha256 %s)', absolute, read.sha256);
  return {
    loaded: { file: absolute, source: read.source, sha256: read.sha256, scenario: parsed.data, fromEnvironment: env.filled, environment: env.used },
    issues: [],
    namePosition,
  };
}

/** Two files with one name would write over each other's reports and evidence. */
function duplicateNames(paths: readonly string[], checked: Checked[]): ScenarioIssue[] {
  const firstFile = new Map<string, { file: string; absolute: string }>();
  const issues: ScenarioIssue[] = [];
  checked.forEach(({ loaded, namePosition }, index) => {
    if (!loaded) return;
    const name = loaded.scenario.name;
    const first = firstFile.get(name);
    if (!first) firstFile.set(name, { file: paths[index]!, absolute: loaded.file });
    else if (first.absolute !== loaded.file)
      issues.push({
        file: paths[index]!,
        ...(namePosition ?? { line: 1, column: 1 }),
        keyPath: 'name',
        message: `scenario name "${name}" is already used by ${first.file}; names must be unique`,
      });
  });
  return issues;
}

let required: string[] | undefined;
function requiredTopLevelKeys(): string[] {
  // Asked of the schema itself so the hint cannot fall behind the format.
  required ??= (scenarioSchema.safeParse({}).error?.issues ?? [])
    .filter((issue) => issue.path.length === 1)
    .map((issue) => String(issue.path[0]));
  return required;
}
