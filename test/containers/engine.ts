import { dockerEngineAnswers } from '../../src/targets/docker-available.js';

/**
 * Whether the container tests can run here: a Docker engine answers in this process's network
 * namespace (tools/local-docker.sh exec puts them in its engine's). Without one they skip, saying
 * how to run them, except where the caller asked for them (DRILL_REQUIRE_DOCKER=1, set by
 * `npm run test:containers` and .ci/run): there a missing engine fails the file instead of
 * skipping it, so a gate never passes on tests that did not run.
 */
export const engine = await dockerEngineAnswers(3000);
if (!engine && process.env.DRILL_REQUIRE_DOCKER === '1') {
  throw new Error(
    `DRILL_REQUIRE_DOCKER=1 but no Docker engine answers at ${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'}; ` +
      'start one with tools/local-docker.sh start and run the tests inside it (npm run test:containers)',
  );
}

export const SKIP = engine ? '' : ' (skipped: no Docker engine answers here; run `npm run test:containers`, which starts one)';

/** The PostgreSQL image the tests run: the local one tools/local-docker.sh builds, else the official image. */
export const IMAGE = process.env.DRILL_POSTGRES_IMAGE || undefined;
