import { childEnvironment, NODE_VARIABLES } from './child-environment.js';

/**
 * esbuild's first call in a process starts its service, a child process that lives as long as
 * that process and inherits the environment as it is at that moment. `start` (the call that may
 * be the first) runs with an environment of only what a compiler needs, as bin/drill.mjs does for
 * tsx's: the user's tokens and a scenario's `${VAR}` values stay out of the service's
 * /proc/<pid>/environ. The environment is whole again when `start` returns (its promise is not
 * awaited here: the spawn happens synchronously inside the call).
 */
export function withCompilerEnvironment<T>(start: () => T): T {
  const saved = { ...process.env };
  const kept = childEnvironment({ from: saved, pass: [...NODE_VARIABLES] });
  for (const name of Object.keys(process.env)) if (!(name in kept)) delete process.env[name];
  try {
    return start();
  } finally {
    Object.assign(process.env, saved);
  }
}
