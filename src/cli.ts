import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { HARNESS_VERSION } from './engine/harness-version.js';
import { keygenCommand, listCommand, reportCommand, validateCommand, verifyEvidenceCommand } from './cli/commands.js';
import { cleanupCommand } from './cli/cleanup.js';
import { continueCommand } from './cli/continue.js';
import { writeEvidence } from './report/evidence.js';
import { registerClusterCommands } from './cli/cluster.js';
import { exitCodeForError, printError } from './cli/output.js';
import { runCommand } from './cli/run.js';
import { coverageCommand, type CoverageOptions } from './cli/coverage.js';
import { COVERAGE_FORMATS } from './coverage/render.js';
import { registerHistoryCommand } from './cli/history.js';
import { registerEvidencePackCommand } from './cli/evidence-pack.js';
import { registerOpenSealedCommand } from './cli/open-sealed.js';
import { RUNBOOK_ENV } from './runbook/read-runbook.js';
import { signingKeyFromEnv, takeEvidenceKeyEnv } from './report/evidence-keys.js';
import { redactDebugOutput } from './report/redact-debug-output.js';
import { Redactor } from './report/redactor.js';

interface RunFlags {
  reportsDir: string;
  confirmDataLoss: boolean;
  runbook?: string;
  tag: string[];
  excludeTag: string[];
  failFast: boolean;
  junit?: string;
  parallel: number;
  gameDay: boolean;
}

function stepNumber(value: string): number {
  if (!/^[1-9]\d{0,3}$/.test(value)) throw new InvalidArgumentError('give the number of the recovery step the drill waits at (1 is the first), as it printed it.');
  return Number(value);
}

function drillCount(value: string): number {
  if (!/^[1-9]\d{0,2}$/.test(value)) throw new InvalidArgumentError('give a whole number of drills to run at once, from 1 (the default: one at a time) to 999.');
  return Number(value);
}

/** A repeatable option's values, in the order given. */
const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `drill`: DESIGN.md section 6. Exit codes: 0 passed, 1 a check failed, 2 invalid input,
 * 3 environment failure, 130 interrupted. Errors are printed here and nowhere else.
 */
export async function main(argv: string[]): Promise<number> {
  // The CLI's own debug lines pass the pattern rules; `drill run` adds each scenario's values.
  redactDebugOutput(new Redactor());
  let exitCode = 0;
  // Out of the environment before anything else runs: no child of this process can inherit it.
  const evidenceKeys = takeEvidenceKeyEnv(process.env);
  const program = new Command()
    .name('drill')
    .description('Chaos drills that prove the runbook recovers the service in time and without losing data')
    .version(HARNESS_VERSION)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });

  program
    .command('run')
    .description('run drills; exit 0 all passed, 1 a check failed, 2 invalid input, 3 environment failure, 130 interrupted (several drills: the worst)')
    .argument('<scenario...>', 'scenario files, directories (their *.yaml/*.yml) or globs (quoted: "drills/scenarios/pg-*.yaml")')
    .option('--reports-dir <dir>', 'where reports/<run-id>/ and summary.json go', 'reports')
    .option('--tag <tag>', 'run only scenarios carrying this tag (repeatable: any of them)', collect, [])
    .option('--exclude-tag <tag>', 'skip scenarios carrying this tag (repeatable); a CI gate excludes negative-control', collect, [])
    .option('--fail-fast', 'stop after the first drill that fails or errors; the rest are reported as not run', false)
    .option('--parallel <n>', 'run up to n drills at once (Kubernetes drills that may share one run on a control plane started for them; the others alone)', drillCount, 1)
    .option('--junit <file>', 'also write JUnit XML: one testcase per drill (failed checks as failures, environment errors as errors)')
    .option('--confirm-data-loss', 'allow runbook steps that discard data (restore-base-backup)', false)
    .option('--runbook <file.md>', 'the runbook the scenarios follow: their `runbook:` and `covers:` are checked against it, and each journal records the text of its procedures (for `drill coverage`)', process.env[RUNBOOK_ENV] || undefined)
    .option('--game-day', 'a game day: recovery steps marked `manual` wait for a person (`drill continue <run-id>`); their time counts in the RTO', false)
    .action(async (args: string[], opts: RunFlags) => {
      const { tag, excludeTag, ...rest } = opts;
      exitCode = await runCommand(args, { ...rest, selection: { tags: tag, excludeTags: excludeTag }, evidenceKeys });
    });

  program
    .command('continue')
    .description('a game day (drill run --game-day) waits at a manual step: tell it the step is done; exit 0 taken, 2 no such run waiting')
    .argument('<run-id>', 'the run id `drill run` printed (drill <name>: run <run-id>)')
    .option('--step <n>', 'the step number the drill is waiting at (as it printed it): refused if it waits at another', stepNumber)
    .option('--note <text>', 'what you did, recorded in the journal with the step')
    .action(async (runId: string, opts: { step?: number; note?: string }) => {
      exitCode = await continueCommand(runId, opts);
    });

  program
    .command('validate')
    .description('check scenario files against the schema; exit 0 valid, 2 invalid')
    .argument('<file...>', 'scenario files, directories or globs, as for `drill run`')
    .option('--runbook <file.md>', 'also check `runbook:` and `covers:` against this runbook', process.env[RUNBOOK_ENV] || undefined)
    .action(async (files: string[], opts: { runbook?: string }) => {
      exitCode = await validateCommand(files, opts);
    });

  program
    .command('list')
    .description('list the scenarios in a directory')
    .argument('[dir]', 'scenario directory', 'drills/scenarios')
    .action(async (dir: string) => {
      exitCode = await listCommand(dir);
    });

  program
    .command('report')
    .description('turn runs\' allure-results into an Allure HTML report (offline); default: the latest run')
    .argument('[run-dir...]', 'reports/<run-id> directories')
    .option('--reports-dir <dir>', 'where runs are', 'reports')
    .option('-o, --output <dir>', 'where the HTML goes (default: allure-report/ beside the run dir, never inside it: that would break its evidence)')
    .option('--history <file.jsonl>', "Allure's history file, kept between reports: each report adds its runs and shows every drill's earlier results and trend")
    .action(async (dirs: string[], opts: { reportsDir: string; output?: string; history?: string }) => {
      exitCode = await reportCommand(dirs, opts);
    });

  program
    .command('verify-evidence')
    .description('check a run\'s evidence bundle offline; exit 0 intact, 1 tampered, incomplete, or signed but not verifiable')
    .argument('<dir>', 'reports/<run-id> or its evidence/ directory')
    .option('--public-key <file>', 'the signer\'s Ed25519 public key (PEM, from `drill keygen`): required to verify a signed bundle')
    .action(async (dir: string, opts: { publicKey?: string }) => {
      exitCode = await verifyEvidenceCommand(dir, opts);
    });

  program
    .command('keygen')
    .description('write an Ed25519 key pair for signing evidence: <prefix>.key (private, mode 0600) and <prefix>.pub')
    .option('--out <prefix>', 'path prefix of the two files', 'drill-evidence')
    .action(async (opts: { out: string }) => {
      exitCode = await keygenCommand(opts);
    });

  program
    .command('cleanup')
    .description('stop and remove what killed drills left on this machine (machine-wide ledger); prints it; exit 0, 3 if something could not be removed')
    .action(async () => {
      // A killed run's evidence is signed like any other when the signing key is set.
      const signingKey = await signingKeyFromEnv(evidenceKeys);
      exitCode = await cleanupCommand((dir) => writeEvidence(dir, signingKey ? { signingKey } : {}));
    });

  program
    .command('coverage')
    .description('map the runbook, procedure by procedure, to the drills that exercise it and their latest results; exit 0, 1 below --min-coverage, 2 invalid input, 3 environment')
    .option('--runbook <file.md>', 'the runbook (Markdown)', process.env[RUNBOOK_ENV] || undefined)
    .option('--reports-dir <dir>', 'where the runs are (reports/<run-id>/journal.json)', 'reports')
    .option('--since <duration>', 'a passing drill older than this makes a procedure stale (e.g. 90d, 2w, 36h)', '90d')
    .option('--format <format>', `output: ${COVERAGE_FORMATS.join(' | ')}`, 'text')
    .option('--min-coverage <ratio>', 'exit 1 when fewer procedures than this are covered (0.8 or 80%)')
    .action(async (opts: CoverageOptions) => {
      exitCode = await coverageCommand(opts);
    });

  registerHistoryCommand(program, (code) => (exitCode = code));
  registerEvidencePackCommand(program, (code) => (exitCode = code));
  registerOpenSealedCommand(program, (code) => (exitCode = code));
  registerClusterCommands(program, (code) => (exitCode = code));

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    printError(error);
    return exitCodeForError(error);
  }
}
