#!/bin/sh
# Entrypoint of drill's local PostgreSQL image (tools/build-postgres-image.sh). Written for drill,
# it follows the contract of the official postgres image's entrypoint for what drill and
# testcontainers use, so a scenario runs the same on either image:
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless
#   POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default: the user's name),
#   POSTGRES_INITDB_ARGS (extra initdb arguments, shell-quoted), POSTGRES_HOST_AUTH_METHOD
#   (default scram-sha-256, for connections from outside the container), PGDATA, and the
#   scripts in /docker-entrypoint-initdb.d (*.sh, *.sql, *.sql.gz, *.sql.xz), run once, when the
#   data directory is first created.
# `docker run IMAGE -c key=value` starts postgres with those options; any other command runs as given.
set -eu

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

case "${1:-}" in
  -*) set -- postgres "$@" ;;
esac
[ "${1:-}" = postgres ] || exec "$@"

if [ "$(id -u)" = 0 ]; then
  # The data directory may be a fresh volume owned by root; the server refuses to run as root.
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 2775 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

log() { printf 'docker-entrypoint: %s\n' "$*" >&2; }

initialise() {
  user="${POSTGRES_USER:-postgres}"
  database="${POSTGRES_DB:-$user}"
  host_auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$host_auth" != trust ]; then
    log "the data directory $PGDATA is empty and POSTGRES_PASSWORD is not set: set it (or POSTGRES_HOST_AUTH_METHOD=trust to allow connections without one)"
    exit 1
  fi
  # The password reaches initdb through a file only the server's user can read, never argv.
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" > "$pwfile"
  log "initialising $PGDATA for user $user"
  # eval: POSTGRES_INITDB_ARGS is one string of shell-quoted arguments, as in the official image.
  eval 'initdb --username="$user" --pwfile="$pwfile" '"${POSTGRES_INITDB_ARGS:-}"
  rm -f "$pwfile"
  # Debian's default is localhost; connections through a published port arrive on the container's
  # own interface, so the server must listen there too.
  printf "\n# docker-entrypoint\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
  printf '\n# docker-entrypoint: connections from outside the container\nhost all all all %s\n' "$host_auth" >> "$PGDATA/pg_hba.conf"

  # A server on the socket only while the database and the init scripts are set up, so nothing
  # outside sees it ready before it is.
  pg_ctl -D "$PGDATA" -w -t 120 -o "-c listen_addresses='' -p ${PGPORT:-5432}" start
  export PGHOST=/var/run/postgresql PGPORT="${PGPORT:-5432}" PGUSER="$user"
  if [ "$database" != postgres ]; then
    # From stdin: psql substitutes :"name" (quoted as an identifier) there, not in -c.
    printf 'create database :"name";\n' | psql -v ON_ERROR_STOP=1 --dbname postgres --set name="$database" >/dev/null
  fi
  for script in /docker-entrypoint-initdb.d/*; do
    [ -e "$script" ] || continue
    case "$script" in
      *.sh)
        log "running $script"
        if [ -x "$script" ]; then "$script"; else . "$script"; fi
        ;;
      *.sql) log "running $script"; psql -v ON_ERROR_STOP=1 --dbname "$database" -f "$script" ;;
      *.sql.gz) log "running $script"; gzip -dc "$script" | psql -v ON_ERROR_STOP=1 --dbname "$database" ;;
      *.sql.xz) log "running $script"; xz -dc "$script" | psql -v ON_ERROR_STOP=1 --dbname "$database" ;;
      *) log "ignoring $script (not .sh, .sql, .sql.gz or .sql.xz)" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -w -t 120 -m fast stop
  unset PGHOST PGUSER
  log "initialised; starting the server"
}

[ -s "$PGDATA/PG_VERSION" ] || initialise
exec "$@"
