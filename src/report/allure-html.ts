/**
 * `drill report`: Allure HTML from run dirs' allure-results, through the Allure 3 CLI installed
 * with this package (never a global one, never npx downloading one), offline.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
// eslint-disable-next-line no-restricted-imports -- `drill report` runs outside any drill run, so there is no run ledger; both are removed in finally
import { access, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import createDebug from 'debug';
import { EnvironmentError, InputError } from '../engine/errors.js';
import { ALLURE_CATEGORIES } from './allure-evidence.js';
import { childEnvironment, NODE_VARIABLES } from '../targets/process/child-environment.js';

const log = createDebug('drill:report');

export interface AllureHtmlOptions {
  /** Allure's history file (JSON lines), kept between reports: trends and each test's earlier results. */
  historyPath?: string;
  reportName?: string;
  /** Kill the CLI after this long (default 5 minutes). */
  timeoutMs?: number;
}

/**
 * Generates the report into outDir (created, or replaced when it holds an earlier report) and
 * returns the path of its index.html.
 */
export async function generateAllureHtml(resultsDirs: string[], outDir: string, options: AllureHtmlOptions = {}): Promise<string> {
  if (!resultsDirs.length) throw new InputError('ALLURE_NO_RESULTS', 'no allure-results directory given: run a drill first, or pass its run dir');
  const dirs = resultsDirs.map((d) => resolve(d));
  for (const dir of dirs) {
    if (!(await isDir(dir))) throw new InputError('ALLURE_NO_RESULTS', `${dir} is not a directory: pass the allure-results/ of a run (reports/<run-id>/allure-results)`);
  }
  const out = resolve(outDir);
  await assertReplaceable(out);
  const cli = allureCli();
  // Allure 3 writes each plugin into <output>/<plugin>/ and flattens only when that is the one
  // directory there: into a dir holding an earlier report it leaves the old index.html on top
  // and the new one in awesome/. So generate into an empty staging dir beside outDir (same
  // filesystem, for the rename) and swap it in.
  await mkdir(dirname(out), { recursive: true }).catch((error: unknown) => {
    throw new InputError('ALLURE_BAD_OUTPUT', `cannot create ${dirname(out)} for the report: choose another output dir`, { cause: error });
  });
  const staging = await mkdtemp(join(dirname(out), `.${basename(out)}.staging-`));
  // A config of our own, in a scratch cwd: a project allurerc (or one in a parent dir) could add
  // upload plugins or an allureService token, and the agent plugin writes outside the output.
  // Only the awesome (HTML) plugin runs; it ships its assets, so nothing is fetched.
  const scratch = await mkdtemp(join(tmpdir(), 'drill-allure-'));
  try {
    const config = join(scratch, 'allurerc.json');
    const plugins = { awesome: { options: { singleFile: true } }, agent: { enabled: false } };
    // Categories file each drill by the failed checks its labels name (allure-evidence.ts).
    // With a history file, each report appends its results to it and shows every drill's earlier
    // results (its history id does not include the run id: drills/drill.test.ts excludes it).
    const history = options.historyPath ? { historyPath: resolve(options.historyPath), appendHistory: true } : {};
    await writeFile(config, JSON.stringify({ name: options.reportName ?? 'drill', plugins, categories: ALLURE_CATEGORIES, ...history }));
    // Results dirs are glob patterns to the CLI: escape so a run dir named `run[1]` still matches.
    const args = [cli, 'generate', '--config', config, '--cwd', scratch, '--output', staging, ...dirs.map(escapeGlob)];
    const started = performance.now();
    const { code, stderr } = await run(process.execPath, args, scratch, options.timeoutMs ?? 300_000);
    log('allure generate: exit %s in %dms: %o', code, Math.round(performance.now() - started), args);
    if (code !== 0 || !(await exists(join(staging, 'index.html')))) {
      throw new EnvironmentError(
        'ALLURE_GENERATE_FAILED',
        `allure generate failed (exit ${code}${stderr ? `: ${stripAnsi(stderr).trim().slice(-2000)}` : ''}). ` +
          'Check that the results dirs hold Allure results, and reinstall the CLI with `npm ci` if it is broken. ' +
          `Command: ${[process.execPath, ...args].join(' ')}`,
      );
    }
    await rm(out, { recursive: true, force: true });
    await rename(staging, out);
    return join(out, 'index.html');
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await rm(staging, { recursive: true, force: true });
  }
}

/** outDir may be new, empty, or an earlier report (it gets replaced); anything else is refused. */
async function assertReplaceable(out: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(out);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new InputError('ALLURE_BAD_OUTPUT', `${out} cannot be the report dir (${code}): choose a new or empty directory`, { cause: error });
  }
  if (entries.length && !entries.includes('index.html')) {
    throw new InputError('ALLURE_BAD_OUTPUT', `${out} is not empty and holds no earlier report: choose a new or empty directory (it would be replaced)`);
  }
}

/**
 * The Allure CLI of this package's dependency. `allure/package.json` is not in the package's
 * exports, so resolve its entry and walk up to the package root, where the `bin` (cli.js) lives.
 */
export function allureCli(): string {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('allure');
  } catch (error) {
    throw new EnvironmentError('ALLURE_NOT_INSTALLED', 'the allure package is not installed: run `npm ci` in the drill checkout', { cause: error });
  }
  // node_modules/allure/dist/index.js -> node_modules/allure/ (package.json names it) -> cli.js
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'allure') return join(dir, 'cli.js');
  }
  throw new EnvironmentError('ALLURE_NOT_INSTALLED', `cannot find the allure CLI above ${entry}: reinstall with \`npm ci\``);
}

/**
 * Run dirs (directories holding a journal.json) under reportsRoot, newest first by when their
 * journal was last written; `drill report` with no argument uses the first. Missing root: [].
 */
export async function findRunDirs(reportsRoot = 'reports'): Promise<string[]> {
  const root = resolve(reportsRoot);
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const runs: Array<{ dir: string; mtime: number }> = [];
  for (const name of names) {
    const dir = join(root, name);
    const s = await stat(join(dir, 'journal.json')).catch(() => undefined);
    if (s?.isFile()) runs.push({ dir, mtime: s.mtimeMs });
  }
  // Ties (same mtime granularity) fall back to the name, run ids sort by time too.
  return runs.sort((a, b) => b.mtime - a.mtime || (a.dir < b.dir ? 1 : -1)).map((r) => r.dir);
}

/** Glob magic in a literal path, each char as a one-char class (the CLI disables `\` escapes). */
function escapeGlob(path: string): string {
  return path.replace(/[*?[\]{}()+@]/g, (c) => `[${c}]`);
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function run(cmd: string, args: string[], cwd: string, timeout: number): Promise<{ code: number | string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      // NO_COLOR: plain text for the error message. Output is small; 16 MiB is room to spare.
      { cwd, timeout, maxBuffer: 16 * 1024 * 1024, env: childEnvironment({ pass: NODE_VARIABLES, set: { NO_COLOR: '1', FORCE_COLOR: '0' } }) },
      (error, _stdout, stderr) => {
        const code = error ? ((error as NodeJS.ErrnoException & { code?: number | string }).code ?? (error.killed ? 'killed (timeout)' : 1)) : 0;
        done({ code, stderr: String(stderr) });
      },
    );
  });
}
