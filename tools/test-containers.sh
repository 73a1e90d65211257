#!/usr/bin/env bash
# The container tests (vitest project `containers`, test/containers/) inside drill's own Docker
# engine: starts it with tools/local-docker.sh unless it runs already, runs the project in the
# engine's network namespace with DRILL_REQUIRE_DOCKER=1 (so a missing engine fails the run
# instead of skipping it), and stops the engine again if it started it. Extra arguments go to vitest.
# Needs root (tools/local-docker.sh). `npm run test:containers`.
set -euo pipefail
cd "$(dirname "$0")/.."

started=0
if ! bash tools/local-docker.sh status >/dev/null; then
  bash tools/local-docker.sh start
  started=1
fi
stop_engine() {
  if [ "$started" = 1 ]; then
    started=0
    bash tools/local-docker.sh stop
  fi
}
trap 'stop_engine; exit 130' INT TERM

rc=0
DRILL_REQUIRE_DOCKER=1 bash tools/local-docker.sh exec npx vitest run --project containers "$@" || rc=$?
# A stop that finds processes left or the root network namespace changed fails the run too.
stop_engine || { [ "$rc" != 0 ] || rc=1; }
exit "$rc"
