#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

// tsx compiles in a loader thread that starts esbuild as a long-lived child process. The thread
// copies this process's environment when it starts, so for that moment the environment holds only
// what a compiler needs (the base and node variables of src/targets/process/child-environment.ts):
// the user's tokens, DRILL_EVIDENCE_KEY and a scenario's ${VAR} values stay out of esbuild's
// /proc/<pid>/environ. The CLI itself gets its whole environment back at once.
const COMPILER_VARIABLES = /^(PATH|HOME|TMPDIR|TZ|LANG|LANGUAGE|LC_\w+|DEBUG|DEBUG_\w+|NODE_OPTIONS)$/;
const environment = { ...process.env };
for (const name of Object.keys(process.env)) if (!COMPILER_VARIABLES.test(name)) delete process.env[name];
try {
  register();
} finally {
  Object.assign(process.env, environment);
}
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv);
