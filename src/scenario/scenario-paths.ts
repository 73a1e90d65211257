import path from 'node:path';

/**
 * A path written in a scenario (`manifests`, `kubeconfig`), read relative to the scenario file's
 * directory, so a scenario means the same files wherever `drill` is run from (the drill process
 * itself runs in the package root). Validation and the run both resolve through here.
 */
export function resolveFromScenario(scenarioFile: string | undefined, written: string): string {
  return path.resolve(scenarioFile ? path.dirname(scenarioFile) : process.cwd(), written);
}
