import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { PLAN_ENV, runFiles, type RunPlan } from '../engine/run-plan.js';
import type { ResourceLedger } from '../engine/resource-ledger.js';
import { variablesPipe } from '../engine/variables-handoff.js';
import { AWS_VARIABLES, childEnvironment, DOCKER_VARIABLES, HARNESS_SETTINGS, NODE_VARIABLES } from '../targets/process/child-environment.js';
import { PACKAGE_ROOT } from './package-root.js';

export interface DrillProcess {
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the whole process group (vitest and its worker). */
  kill(signal: NodeJS.Signals): void;
}

/**
 * What the drill process needs of the CLI's environment: node's and the harness's settings, what
 * testcontainers and kind need to reach Docker, the kubeconfig provider's KUBECONFIG, the AWS
 * credential chain when the scenario uses an existing Route 53 zone (`aws`) — not the rest of the
 * user's environment (DRILL_EVIDENCE_SIGNING_KEY stays with the CLI, which signs the evidence),
 * and not the `${VAR}`s its scenario uses: those go through a pipe (src/engine/variables-handoff.ts).
 */
export function drillProcessEnvironment(
  plan: RunPlan,
  from?: NodeJS.ProcessEnv,
  options: { aws?: boolean; set?: Readonly<Record<string, string>> } = {},
): Record<string, string> {
  return childEnvironment({
    from,
    // testcontainers runs in the drill process and may pull from a private registry.
    pass: [...NODE_VARIABLES, ...HARNESS_SETTINGS, ...DOCKER_VARIABLES, 'DOCKER_AUTH_CONFIG', 'KUBECONFIG', ...(options.aws ? AWS_VARIABLES : [])],
    // `set`: the harness's own settings for this drill (DRILL_KUBECONFIG of a shared control plane).
    set: { ...options.set, [PLAN_ENV]: JSON.stringify(plan), FORCE_COLOR: '0' },
  });
}

/**
 * Starts vitest on drills/drill.test.ts for one drill, in its own process group so that a Ctrl-C
 * at the terminal reaches only the CLI, which then asks the drill to stop and waits for its
 * teardown instead of having every process die at once. Output goes to the run's runner.log.
 */
export function startDrillProcess(
  plan: RunPlan,
  scenarioVariables: Readonly<Record<string, string>>,
  options: { ledger: Pick<ResourceLedger, 'record'>; enter?: string[]; aws?: boolean; set?: Readonly<Record<string, string>> },
): DrillProcess {
  const files = runFiles(plan.runDir);
  // Before anything is started: values too large for the pipe are refused here.
  const variables = variablesPipe(scenarioVariables, options.ledger);
  const log = openSync(files.runnerLog, 'a');
  // In a drill network, `nsenter --net=...` execs node in place: the pid stays the drill's.
  const [file, ...args] = [
    ...(options.enter ?? []),
    process.execPath,
    path.join(PACKAGE_ROOT, 'node_modules/vitest/vitest.mjs'),
    'run',
    '--config',
    path.join(PACKAGE_ROOT, 'vitest.drill.config.ts'),
  ];
  const child = spawn(
    file!,
    args,
    {
      cwd: PACKAGE_ROOT,
      env: drillProcessEnvironment({ ...plan, variablesFromParent: true }, undefined, { aws: options.aws ?? false, ...(options.set ? { set: options.set } : {}) }),
      // Descriptor 3 (VARIABLES_FD): the scenario's ${VAR} values, for the drill process to read.
      stdio: ['ignore', log, log, variables],
      detached: true,
    },
  );
  closeSync(log);
  closeSync(variables);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', () => resolve({ code: -1, signal: null }));
  });
  return {
    pid: child.pid!,
    exited,
    kill(signal) {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        /* already gone */
      }
    },
  };
}
