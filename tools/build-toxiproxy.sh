#!/usr/bin/env bash
# Build Toxiproxy's server (Go module github.com/Shopify/toxiproxy/v2, MIT) from Go modules into
# the drill cache, for the network faults (src/targets/network-proxy/). Pinned, stamped, reused.
#
# Usage:   BIN=$(tools/build-toxiproxy.sh)
# stdout:  exactly one line, the path of the toxiproxy-server binary.
# stderr:  progress and go tool output.
#
# v2.12.0 is the newest release on the Go module proxy (its go.mod asks for Go 1.23, so Go 1.23+;
# built with the installed Go, never a downloaded toolchain). src/targets/network-proxy/toxiproxy-binary.ts
# names the same version.
set -euo pipefail

TOXIPROXY_VERSION="${DRILL_TOXIPROXY_VERSION:-v2.12.0}"
CACHE_ROOT="${DRILL_CACHE_DIR:-$HOME/.cache/drill}"
FORCE_REBUILD="${DRILL_FORCE_REBUILD:-0}"    # 1 = ignore an existing cache
MODULE=github.com/Shopify/toxiproxy/v2

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0

log() { printf '[build-toxiproxy] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH (install Go 1.23+, https://go.dev/dl/)"
case "$TOXIPROXY_VERSION" in
  v2.*) ;;
  *) die "DRILL_TOXIPROXY_VERSION must look like v2.X.Y (got '$TOXIPROXY_VERSION')" ;;
esac

mkdir -p "$CACHE_ROOT/toxiproxy"
PROXY_DIR="$(cd "$CACHE_ROOT/toxiproxy" && pwd -P)"
DEST_DIR="$PROXY_DIR/$TOXIPROXY_VERSION"
BINARY="$DEST_DIR/bin/toxiproxy-server"
STAMP="$DEST_DIR/build.stamp"

cache_ok() {
  [[ "$FORCE_REBUILD" != 1 ]] || return 1
  [[ -x "$BINARY" && -f "$STAMP" ]] || return 1
  grep -qx 'status=complete' "$STAMP" && grep -qx "toxiproxy=$TOXIPROXY_VERSION" "$STAMP"
}

if cache_ok; then
  log "reusing cached toxiproxy at $BINARY"
  printf '%s\n' "$BINARY"
  exit 0
fi

# Two builds of one version at once: the second waits, then finds the first one's result.
exec 9>"$PROXY_DIR/.lock-$TOXIPROXY_VERSION"
flock 9
if cache_ok; then
  log "reusing cached toxiproxy at $BINARY"
  printf '%s\n' "$BINARY"
  exit 0
fi
# Leftovers of a build killed hard; safe to remove while holding the lock.
rm -rf "$PROXY_DIR/.tmp-$TOXIPROXY_VERSION".* "$PROXY_DIR/.old-$TOXIPROXY_VERSION".* 2>/dev/null || true

STAGE=""
cleanup() { rm -rf ${STAGE:+"$STAGE"}; }
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP
# Next to the destination (same file system), so publishing it is one rename.
STAGE="$(mktemp -d "$PROXY_DIR/.tmp-$TOXIPROXY_VERSION.XXXXXX")"
mkdir -p "$STAGE/bin" "$STAGE/gobin"

log "building $MODULE/cmd/server@$TOXIPROXY_VERSION with $(go version)"
t0=$(date +%s)
# `go install pkg@version` builds with the module's own go.mod and go.sum (checked against the
# checksum database), in module mode whatever the current directory holds.
(
  cd "$STAGE"
  GOBIN="$STAGE/gobin" go install -trimpath \
    -ldflags "-s -w -X $MODULE.Version=${TOXIPROXY_VERSION#v}" \
    "$MODULE/cmd/server@$TOXIPROXY_VERSION" >&2
) || die "building toxiproxy $TOXIPROXY_VERSION failed"
mv "$STAGE/gobin/server" "$STAGE/bin/toxiproxy-server"
rmdir "$STAGE/gobin"
seconds=$(( $(date +%s) - t0 ))

# Smoke test: the binary runs and reports the pinned version.
v="$("$STAGE/bin/toxiproxy-server" -version 2>&1)" || die "toxiproxy-server -version failed: $v"
grep -qF "${TOXIPROXY_VERSION#v}" <<<"$v" || die "toxiproxy-server reports '$v', not $TOXIPROXY_VERSION (version ldflags not applied?)"
log "toxiproxy-server: $v (built in ${seconds}s)"

{
  printf 'toxiproxy=%s\n' "$TOXIPROXY_VERSION"
  printf 'go=%s\n' "$(go env GOVERSION)"
  printf 'built_at=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf 'seconds=%s\n' "$seconds"
  printf 'status=complete\n'
} >"$STAGE/build.stamp"
chmod 0755 "$STAGE" "$STAGE/bin"

if [[ -e "$DEST_DIR" ]]; then
  old="$PROXY_DIR/.old-$TOXIPROXY_VERSION.$$"
  mv "$DEST_DIR" "$old"
  mv "$STAGE" "$DEST_DIR"
  rm -rf "$old"
else
  mv "$STAGE" "$DEST_DIR"
fi
STAGE=""
log "toxiproxy ready at $BINARY"
printf '%s\n' "$BINARY"
