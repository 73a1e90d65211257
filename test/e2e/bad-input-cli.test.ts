import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/output.js';
import { reportsDirError } from '../../src/cli/reports-dir.js';
import { ROOT, runCli } from './helpers.js';

// The observed crashes, hangs and runaway reads of issue 7 part 5, through the CLI as a user meets
// them: each ends in exit 2 with a placed message, no stack trace, nothing started.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-bad-input-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SHIPPED = path.join(ROOT, 'drills/scenarios/pg-logical-corruption-pitr.yaml');
const shipped = readFileSync(SHIPPED, 'utf8');
const write = (name: string, text: string) => {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
};
const noStack = (text: string) => expect(text).not.toMatch(/unexpected error|^\s+at /m);

describe('drill validate on hostile files', () => {
  it('a cycle, a device, a FIFO, a timer Node cannot honour and an over-long name: exit 2, each placed, no hang', async () => {
    const fifo = path.join(tmp, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    const files = {
      cycle: write('cycle.yaml', 'a: &a [*a]\n'),
      timeout: write('timeout.yaml', shipped.replace(/^timeout: .*$/m, 'timeout: 600h')),
      name: write('name.yaml', shipped.replace(/^name: .*$/m, `name: ${'a'.repeat(5000)}`)),
    };
    const result = await runCli(['validate', files.cycle, '/dev/zero', fifo, files.timeout, files.name]);
    expect(result.code).toBe(2);
    noStack(result.stderr);
    expect(result.stderr).toContain(`${files.cycle}:1:8 a[0]: alias *a is inside the value &a names`);
    expect(result.stderr).toContain('/dev/zero: is a device, not a regular file');
    expect(result.stderr).toContain(`${fifo}: is a named pipe, not a regular file`);
    expect(result.stderr).toMatch(new RegExp(`${files.timeout}:\\d+:\\d+ timeout: must be at most 24h here`));
    expect(result.stderr).toContain(`${files.name}:2:7 name: needs at most 200 characters`);
  });
});

describe('drill run refuses before anything starts', () => {
  it('${VAR} values too large to hand to the drill process (64 KiB in all): exit 2 naming the file and the variable, nothing started', async () => {
    const file = write('huge-variable.yaml', shipped.replace(/^description: >\n(?: {2}.*\n)+/m, 'description: "${DRILL_E2E_HUGE}"\n'));
    const reports = path.join(tmp, 'huge-reports');
    const result = await runCli(['run', file, '--reports-dir', reports], { env: { DRILL_E2E_HUGE: 'x'.repeat(70_000) } });
    expect(result.code, result.stderr).toBe(2);
    noStack(result.stderr);
    expect(result.stderr).toMatch(/huge-variable\.yaml: the \$\{VAR\} values the scenario uses take \d+ bytes \(largest: DRILL_E2E_HUGE\).*Nothing was started\.\n\(SCENARIO_VARIABLES_TOO_LARGE\)/s);
    expect(existsSync(reports)).toBe(false);
    // The positive control: a value that fits is taken (validate only: nothing to start).
    const fits = await runCli(['validate', file], { env: { DRILL_E2E_HUGE: 'x'.repeat(1000) } });
    expect(fits.code, fits.stderr).toBe(0);
  });

  it('--reports-dir that cannot be a directory: exit 2 REPORTS_DIR_INVALID, no stack trace', async () => {
    const aFile = write('not-a-dir', 'x');
    // In parallel: each CLI start costs seconds of CPU on a loaded machine.
    const dirs = ['/etc/passwd', path.join(aFile, 'reports'), `/${'r'.repeat(5000)}`];
    const [report, ...runs] = await Promise.all([
      runCli(['report', '--reports-dir', '/etc/passwd']),
      ...dirs.map((dir) => runCli(['run', SHIPPED, '--reports-dir', dir])),
    ]);
    for (const result of runs) {
      expect(result.code, result.stderr).toBe(2);
      noStack(result.stderr);
      expect(result.stderr).toMatch(/--reports-dir .*: (is a file, or a path through a file|the path is too long).*Nothing was started\.\n\(REPORTS_DIR_INVALID\)/s);
      expect(result.stdout).not.toMatch(/drill .*: run /);
    }
    expect(report!.code).toBe(2);
    noStack(report!.stderr);
  });

  it('an unknown table, a missing manifests directory, a pg fault without PostgreSQL: exit 2 before provisioning', async () => {
    const reports = path.join(tmp, 'reports');
    const table = write('table.yaml', shipped.replace('table: transfers', 'table: transfer'));
    const noPg = write(
      'no-pg.yaml',
      shipped.replace(/^name: .*$/m, 'name: no-pg').replace(/targets:\n {2}postgres:\n(?: {4}.*\n)+/, 'targets:\n  kubernetes: { provider: local, manifests: ./missing }\n'),
    );
    const result = await runCli(['run', table, noPg, '--reports-dir', reports]);
    expect(result.code).toBe(2);
    noStack(result.stderr);
    expect(result.stderr).toMatch(new RegExp(`${table}:\\d+:\\d+ faults\\[0\\]\\.table: the drill's data set has no table "transfer"`));
    expect(result.stderr).toMatch(new RegExp(`${noPg}:\\d+:\\d+ targets\\.kubernetes\\.manifests: .*missing does not exist`));
    expect(result.stderr).toMatch(new RegExp(`${noPg}:\\d+:\\d+ faults\\[0\\]\\.type: pg-fat-finger acts on PostgreSQL: add targets.postgres`));
    // Nothing started: not even the reports directory was made.
    expect(existsSync(reports)).toBe(false);
  });
});

describe('which exit code a reports-directory problem gets', () => {
  it('a path that cannot be a writable directory is input (2); a machine failing the write is environment (3)', () => {
    const errno = (code: string) => Object.assign(new Error(code), { code });
    for (const code of ['ENOTDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP', 'EACCES', 'EPERM', 'EROFS']) {
      expect(exitCodeForError(reportsDirError(errno(code), 'r')), code).toBe(2);
    }
    for (const code of ['ENOSPC', 'EIO', 'EDQUOT']) {
      const error = reportsDirError(errno(code), 'r');
      expect(exitCodeForError(error), code).toBe(3);
      expect(error.message).toContain(code);
    }
  });
});
