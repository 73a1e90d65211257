#!/usr/bin/env bash
# Build a local Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler), kwok (fake nodes) and kubelet (real
# nodes) from Go modules, and cache the binaries outside the repo.
#
# Usage:   BIN=$(tools/build-control-plane.sh)
# stdout:  exactly one line, the bin directory holding the six binaries.
# stderr:  progress and go tool output.
#
# See tools/README.md for the cache layout and environment overrides.
set -euo pipefail

# ---------------------------------------------------------------------------
# Pinned versions (override through the environment).
# k8s.io/kubernetes is tagged v1.X.Y; its staging modules are tagged v0.X.Y.
# ---------------------------------------------------------------------------
KUBE_VERSION="${DRILL_KUBE_VERSION:-v1.37.2}"
ETCD_VERSION="${DRILL_ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${DRILL_KWOK_VERSION:-v0.8.0}"

CACHE_ROOT="${DRILL_CACHE_DIR:-$HOME/.cache/drill}"
BUILD_JOBS="${DRILL_BUILD_JOBS:-2}"          # go build -p (parallel packages)
FORCE_REBUILD="${DRILL_FORCE_REBUILD:-0}"    # 1 = ignore an existing cache

BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok kubelet)
KUBE_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet)

# Use the installed Go; never silently download another toolchain.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
# Static binaries, like the upstream release builds.
export CGO_ENABLED=0

log() { printf '[build-control-plane] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH"

case "$KUBE_VERSION" in
  v1.*) ;;
  *) die "DRILL_KUBE_VERSION must look like v1.X.Y (got '$KUBE_VERSION')" ;;
esac
# v1.37.2 -> v0.37.2 (pre-release suffixes carry over: v1.37.0-rc.1 -> v0.37.0-rc.1)
STAGING_VERSION="v0.${KUBE_VERSION#v1.}"
KUBE_MINOR="${KUBE_VERSION#v1.}"
KUBE_MINOR="${KUBE_MINOR%%.*}"

mkdir -p "$CACHE_ROOT"
CACHE_ROOT="$(cd "$CACHE_ROOT" && pwd -P)"
PLANE_DIR="$CACHE_ROOT/control-plane"
DEST_DIR="$PLANE_DIR/$KUBE_VERSION"
BIN_DIR="$DEST_DIR/bin"
STAMP="$DEST_DIR/build.stamp"

stamp_header() {
  printf 'kubernetes=%s\netcd=%s\nkwok=%s\n' "$KUBE_VERSION" "$ETCD_VERSION" "$KWOK_VERSION"
}

# A finished build of the same pinned versions: its binaries can be kept even
# when a newer script wants more of them (kubelet was added after the others).
stamp_ok() {
  [[ "$FORCE_REBUILD" != 1 ]] || return 1
  [[ -f "$STAMP" ]] || return 1
  grep -qx 'status=complete' "$STAMP" || return 1
  [[ "$(head -n 3 "$STAMP")" == "$(stamp_header)" ]]
}

# The binaries a usable cache still lacks (all of them when the stamp does not match).
missing_binaries() {
  local b
  for b in "${BINARIES[@]}"; do
    if ! stamp_ok || [[ ! -x "$BIN_DIR/$b" ]]; then printf '%s\n' "$b"; fi
  done
}

# The cache is usable when the stamp records the same pinned versions and a
# finished build, and every binary is present and executable.
cache_ok() {
  [[ -z "$(missing_binaries)" ]]
}

# Whether binary $1 is to be built in this run.
wanted() {
  grep -qx "$1" <<<"$MISSING"
}

if cache_ok; then
  log "reusing cached control plane at $BIN_DIR"
  printf '%s\n' "$BIN_DIR"
  exit 0
fi

# Serialize concurrent builds of the same version: the second caller waits,
# then finds the cache filled by the first one.
mkdir -p "$PLANE_DIR"
HAVE_LOCK=0
if command -v flock >/dev/null 2>&1; then
  HAVE_LOCK=1
  exec 9>"$PLANE_DIR/.lock-$KUBE_VERSION"
  if ! flock -n 9; then
    log "another build of $KUBE_VERSION is running; waiting for it to finish..."
    flock 9
  fi
  if cache_ok; then
    log "reusing cached control plane at $BIN_DIR"
    printf '%s\n' "$BIN_DIR"
    exit 0
  fi
fi

# Leftovers of builds that were killed hard (SIGKILL, power loss). Only safe
# to remove while holding the lock (otherwise they may belong to a live build).
if [[ "$HAVE_LOCK" == 1 ]]; then
  rm -rf "$PLANE_DIR/.tmp-$KUBE_VERSION".* "$PLANE_DIR/.old-$KUBE_VERSION".* 2>/dev/null || true
fi

# WORK: throwaway wrapper modules. STAGE: the future cache dir; it sits next to
# the destination (same filesystem) so the final `mv` is an atomic rename.
WORK="" STAGE=""
cleanup() { rm -rf ${WORK:+"$WORK"} ${STAGE:+"$STAGE"}; }
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP
WORK="$(mktemp -d "${TMPDIR:-/tmp}/drill-control-plane.XXXXXX")"
STAGE="$(mktemp -d "$PLANE_DIR/.tmp-$KUBE_VERSION.XXXXXX")"
mkdir -p "$STAGE/bin"
MISSING="$(missing_binaries)"
# Binaries of a finished build of the same versions are kept (hard links: no copy of 300 MB).
for b in "${BINARIES[@]}"; do
  if ! wanted "$b"; then cp -al "$BIN_DIR/$b" "$STAGE/bin/$b"; fi
done
log "to build: $(tr '\n' ' ' <<<"$MISSING")"

log "building control plane: kubernetes $KUBE_VERSION (staging $STAGING_VERSION), etcd $ETCD_VERSION, kwok $KWOK_VERSION"
log "$(go version); cache: $DEST_DIR"

# Path of a module's go.mod file in the module cache (downloads it if needed).
gomod_path() {
  local out
  out="$(go mod download -json "$1" 2>&1)" || die "go mod download $1 failed: $out"
  if grep -q '"Error"' <<<"$out"; then
    die "go mod download $1 failed: $out"
  fi
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p' <<<"$out"
}

# Module paths that a go.mod replaces with a local directory (./x or ../x),
# handling both `replace a => ./x` and `replace ( a => ./x )` forms.
local_replaces() {
  awk '
    /^replace[[:space:]]*\($/ { inblock = 1; next }
    inblock && /^\)/          { inblock = 0; next }
    {
      line = $0
      sub(/\/\/.*/, "", line)
      if (!inblock) { if (line !~ /^replace[[:space:]]/) next; sub(/^replace[[:space:]]+/, "", line) }
      n = split(line, f, /[[:space:]]+/)
      # fields: old [oldversion] => new [newversion]; leading empty field from indentation
      for (i = 1; i <= n; i++) if (f[i] == "=>") arrow = i
      if (!arrow) next
      old = (f[1] == "") ? f[2] : f[1]
      target = f[arrow + 1]
      if (target ~ /^\.\.?\//) print old
      arrow = 0
    }
  ' "$1"
}

# Module paths that a go.mod requires (block and single-line forms).
requires() {
  awk '
    /^require[[:space:]]*\($/ { inblock = 1; next }
    inblock && /^\)/          { inblock = 0; next }
    inblock                   { print $1; next }
    /^require[[:space:]]+[^(]/ { print $2 }
  ' "$1"
}

# `godebug` settings of a go.mod (kubernetes pins `default=go1.X`); a
# dependency's settings are ignored by Go, so the wrapper has to repeat them.
godebugs() {
  awk '
    /^godebug[[:space:]]*\($/ { inblock = 1; next }
    inblock && /^\)/          { inblock = 0; next }
    inblock                   { print $1; next }
    /^godebug[[:space:]]+[^(]/ { print $2 }
  ' "$1"
}

# Create a wrapper module in $1 that requires module $2 at version $3, with
# every local replace of that module's go.mod turned into a replace pinned to
# version $4 of the same module path (only for modules the go.mod requires;
# others are never loaded and may not even be published).
make_wrapper() {
  local dir="$1" mod="$2" ver="$3" replace_ver="$4" gomod m
  mkdir -p "$dir"
  gomod="$(gomod_path "$mod@$ver")"
  [[ -f "$gomod" ]] || die "could not locate go.mod of $mod@$ver"
  (
    cd "$dir"
    go mod init drill.local/wrapper >&2
    go mod edit -require="$mod@$ver"
    local -A required=()
    while read -r m; do required[$m]=1; done < <(requires "$gomod")
    local n=0
    while read -r m; do
      [[ -n "${required[$m]:-}" ]] || continue
      go mod edit -replace="$m=$m@$replace_ver"
      n=$((n + 1))
    done < <(local_replaces "$gomod")
    while read -r m; do
      go mod edit -godebug="$m"
    done < <(godebugs "$gomod")
    log "wrapper for $mod@$ver: $n replace(s) pinned to $replace_ver"
  )
}

now() { date +%s; }
declare -A BUILD_SECONDS=()

# --- kube-apiserver, kube-controller-manager, kube-scheduler ----------------
KUBE_WRAP="$WORK/kubernetes"
KUBE_TO_BUILD=()
for c in "${KUBE_COMMANDS[@]}"; do if wanted "$c"; then KUBE_TO_BUILD+=("$c"); fi; done
if ((${#KUBE_TO_BUILD[@]} > 0)); then
log "preparing wrapper module for k8s.io/kubernetes@$KUBE_VERSION (downloads modules on a cold module cache)..."
t0=$(now)
make_wrapper "$KUBE_WRAP" k8s.io/kubernetes "$KUBE_VERSION" "$STAGING_VERSION"
kube_pkgs=()
for c in "${KUBE_TO_BUILD[@]}"; do kube_pkgs+=("k8s.io/kubernetes/cmd/$c@$KUBE_VERSION"); done
(cd "$KUBE_WRAP" && go get "${kube_pkgs[@]}" >&2) || die "go get of kubernetes commands failed"
# Show what the wrapper resolved (staging modules must be at the v0.X.Y tag).
(cd "$KUBE_WRAP" && go list -m k8s.io/kubernetes k8s.io/api k8s.io/client-go k8s.io/component-base >&2)
BUILD_SECONDS[kube-modules]=$(( $(now) - t0 ))

build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION"
  kube_ldflags+=" -X $pkg.gitMajor=1"
  kube_ldflags+=" -X $pkg.gitMinor=$KUBE_MINOR"
  kube_ldflags+=" -X $pkg.buildDate=$build_date"
done

for c in "${KUBE_TO_BUILD[@]}"; do
  log "building $c (this takes several minutes on a cold cache)..."
  t0=$(now)
  (
    cd "$KUBE_WRAP"
    # Same tags as the upstream release build (hack/lib/golang.sh).
    go build -p "$BUILD_JOBS" -trimpath -tags "selinux,notest,grpcnotrace" \
      -ldflags "$kube_ldflags" -o "$STAGE/bin/$c" "k8s.io/kubernetes/cmd/$c" >&2
  ) || die "building $c failed"
  BUILD_SECONDS[$c]=$(( $(now) - t0 ))
  log "built $c in ${BUILD_SECONDS[$c]}s"
done
fi

# --- etcd ---------------------------------------------------------------------
# go.etcd.io/etcd/server/v3 is the etcd server's main package; its go.mod has
# local replaces, so `go install ...@version` refuses it: use a wrapper module.
ETCD_WRAP="$WORK/etcd"
if wanted etcd; then
log "building etcd $ETCD_VERSION..."
t0=$(now)
make_wrapper "$ETCD_WRAP" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "$ETCD_VERSION"
(
  cd "$ETCD_WRAP"
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  go build -p "$BUILD_JOBS" -trimpath -ldflags "-s -w" -o "$STAGE/bin/etcd" go.etcd.io/etcd/server/v3 >&2
) || die "building etcd failed"
BUILD_SECONDS[etcd]=$(( $(now) - t0 ))
log "built etcd in ${BUILD_SECONDS[etcd]}s"
fi

# --- kwok -----------------------------------------------------------------------
if wanted kwok; then
log "building kwok $KWOK_VERSION..."
t0=$(now)
GOBIN="$STAGE/bin" go install -p "$BUILD_JOBS" -trimpath -ldflags "-s -w" \
  "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2 || die "building kwok failed"
BUILD_SECONDS[kwok]=$(( $(now) - t0 ))
log "built kwok in ${BUILD_SECONDS[kwok]}s"
fi

# --- smoke test: every binary runs and reports a version ----------------------
# (all six accept --version)
for b in "${BINARIES[@]}"; do
  [[ -x "$STAGE/bin/$b" ]] || die "$b was not produced"
  v="$("$STAGE/bin/$b" --version 2>&1)" || die "$b --version failed: $v"
  log "$b: $(tr '\n' ' ' <<<"$v")"
done
if ! "$STAGE/bin/kube-apiserver" --version | grep -qF "$KUBE_VERSION"; then
  die "kube-apiserver does not report $KUBE_VERSION (version ldflags not applied?)"
fi

# --- publish atomically ---------------------------------------------------------
{
  stamp_header
  printf 'go=%s\n' "$(go env GOVERSION)"
  printf 'built_at=%s\n' "$build_date"
  for k in "${!BUILD_SECONDS[@]}"; do printf 'seconds_%s=%s\n' "$k" "${BUILD_SECONDS[$k]}"; done | sort
  printf 'status=complete\n'
} >"$STAGE/build.stamp"
chmod 0755 "$STAGE" "$STAGE/bin"

if [[ -e "$DEST_DIR" ]]; then
  # Stale or mismatching cache: move it aside (rename), then rename the new one
  # in. The destination is never partially written; for a moment it is absent,
  # and a concurrent caller that sees that just waits on the lock above.
  old="$PLANE_DIR/.old-$KUBE_VERSION.$$"
  mv "$DEST_DIR" "$old"
  mv "$STAGE" "$DEST_DIR"
  rm -rf "$old"
else
  mv "$STAGE" "$DEST_DIR"
fi

log "control plane ready at $BIN_DIR ($(du -sh "$BIN_DIR" | cut -f1))"
printf '%s\n' "$BIN_DIR"
