import { Command, CommanderError } from 'commander';
import { HARNESS_VERSION } from './engine/harness-version.js';
import { listCommand, reportCommand, validateCommand, verifyEvidenceCommand } from './cli/commands.js';
import { registerClusterCommands } from './cli/cluster.js';
import { exitCodeForError, printError } from './cli/output.js';
import { runCommand } from './cli/run.js';
import { redactDebugOutput } from './report/redact-debug-output.js';
import { Redactor } from './report/redactor.js';

/**
 * `drill`: DESIGN.md section 6. Exit codes: 0 passed, 1 a check failed, 2 invalid input,
 * 3 environment failure, 130 interrupted. Errors are printed here and nowhere else.
 */
export async function main(argv: string[]): Promise<number> {
  // The CLI's own debug lines pass the pattern rules; `drill run` adds each scenario's values.
  redactDebugOutput(new Redactor());
  let exitCode = 0;
  const program = new Command()
    .name('drill')
    .description('Chaos drills that prove the runbook recovers the service in time and without losing data')
    .version(HARNESS_VERSION)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });

  program
    .command('run')
    .description('run drills; exit 0 all passed, 1 a check failed, 2 invalid input, 3 environment failure, 130 interrupted')
    .argument('<scenario...>', 'scenario files (drills/scenarios/*.yaml)')
    .option('--reports-dir <dir>', 'where reports/<run-id>/ go', 'reports')
    .option('--confirm-data-loss', 'allow runbook steps that discard data (restore-base-backup)', false)
    .action(async (files: string[], opts: { reportsDir: string; confirmDataLoss: boolean }) => {
      exitCode = await runCommand(files, opts);
    });

  program
    .command('validate')
    .description('check scenario files against the schema; exit 0 valid, 2 invalid')
    .argument('<file...>')
    .action(async (files: string[]) => {
      exitCode = await validateCommand(files);
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
    .option('-o, --output <dir>', 'where the HTML goes (default <run-dir>/allure-report)')
    .action(async (dirs: string[], opts: { reportsDir: string; output?: string }) => {
      exitCode = await reportCommand(dirs, opts);
    });

  program
    .command('verify-evidence')
    .description('check a run\'s evidence bundle; exit 0 intact, 1 tampered or incomplete')
    .argument('<dir>', 'reports/<run-id> or its evidence/ directory')
    .action(async (dir: string) => {
      exitCode = await verifyEvidenceCommand(dir);
    });

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
