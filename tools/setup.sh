#!/usr/bin/env bash
# Everything a fresh machine needs to run drills and the tests: PostgreSQL server binaries
# (Debian packages, when none are found) and the npm dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

have_pg() {
  [ -n "${DRILL_PG_BINDIR:-}" ] && [ -x "$DRILL_PG_BINDIR/initdb" ] && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]
}

if ! have_pg; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing PostgreSQL server binaries (apt-get install postgresql)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "setup: no PostgreSQL server binaries found; install them (Debian: sudo apt-get install postgresql)" >&2
    echo "       or set DRILL_PG_BINDIR to their bin directory" >&2
    exit 3
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
