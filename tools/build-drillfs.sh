#!/usr/bin/env bash
# Build drillfs (tools/drillfs: a passthrough FUSE file system that fails or delays I/O on request,
# on github.com/hanwen/go-fuse/v2, BSD) into the drill cache, for the disk-io-errors and disk-slow
# faults. Its modules are pinned by tools/drillfs/go.mod and go.sum (checked against the checksum
# database); the build is stamped with DRILLFS_VERSION and the hash of the source, and reused while
# both are unchanged. src/targets/process/drillfs-binary.ts names the same version.
#
# Usage:   BIN=$(tools/build-drillfs.sh)
# stdout:  exactly one line, the path of the drillfs binary.
# stderr:  progress and go tool output.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
SRC="$HERE/drillfs"
CACHE_ROOT="${DRILL_CACHE_DIR:-$HOME/.cache/drill}"
FORCE_REBUILD="${DRILL_FORCE_REBUILD:-0}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"

log() { printf '[build-drillfs] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH (install Go 1.23+, https://go.dev/dl/)"
VERSION="${DRILL_DRILLFS_VERSION:-v0.1.0}"
# A changed main.go, go.mod or go.sum is a new build of the same version.
SOURCE_HASH="$(cat "$SRC/main.go" "$SRC/go.mod" "$SRC/go.sum" | sha256sum | cut -c1-16)"
mkdir -p "$CACHE_ROOT/drillfs"
ROOT="$(cd "$CACHE_ROOT/drillfs" && pwd -P)"
DEST_DIR="$ROOT/$VERSION"
BINARY="$DEST_DIR/bin/drillfs"
STAMP="$DEST_DIR/build.stamp"

cache_ok() {
  [[ "$FORCE_REBUILD" != 1 ]] || return 1
  [[ -x "$BINARY" && -f "$STAMP" ]] || return 1
  grep -qx 'status=complete' "$STAMP" && grep -qx "drillfs=$VERSION" "$STAMP" && grep -qx "source=$SOURCE_HASH" "$STAMP"
}

if cache_ok; then
  log "reusing cached drillfs at $BINARY"
  printf '%s\n' "$BINARY"
  exit 0
fi
exec 9>"$ROOT/.lock-$VERSION"
flock 9
if cache_ok; then
  log "reusing cached drillfs at $BINARY"
  printf '%s\n' "$BINARY"
  exit 0
fi
rm -rf "$ROOT/.tmp-$VERSION".* "$ROOT/.old-$VERSION".* 2>/dev/null || true
STAGE=""
cleanup() { rm -rf ${STAGE:+"$STAGE"}; }
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP
STAGE="$(mktemp -d "$ROOT/.tmp-$VERSION.XXXXXX")"
mkdir -p "$STAGE/bin"

log "building drillfs $VERSION with $(go version)"
t0=$(date +%s)
(cd "$SRC" && go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "$STAGE/bin/drillfs" . >&2) || die "building drillfs failed"
seconds=$(( $(date +%s) - t0 ))
v="$("$STAGE/bin/drillfs" -version 2>&1)" || die "drillfs -version failed: $v"
grep -qF "$VERSION" <<<"$v" || die "drillfs reports '$v', not $VERSION"
log "$v (built in ${seconds}s)"
{
  printf 'drillfs=%s\n' "$VERSION"
  printf 'source=%s\n' "$SOURCE_HASH"
  printf 'go=%s\n' "$(go env GOVERSION)"
  printf 'built_at=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf 'seconds=%s\n' "$seconds"
  printf 'status=complete\n'
} >"$STAGE/build.stamp"
chmod 0755 "$STAGE" "$STAGE/bin"
if [[ -e "$DEST_DIR" ]]; then
  old="$ROOT/.old-$VERSION.$$"
  mv "$DEST_DIR" "$old"
  mv "$STAGE" "$DEST_DIR"
  rm -rf "$old"
else
  mv "$STAGE" "$DEST_DIR"
fi
STAGE=""
log "drillfs ready at $BINARY"
printf '%s\n' "$BINARY"
