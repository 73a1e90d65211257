#!/usr/bin/env bash
# Builds drill's local PostgreSQL image into the engine at DOCKER_HOST, for machines that cannot
# pull one (tools/README.md): a Debian bookworm root filesystem with Debian's postgresql-15, made
# with debootstrap from the Debian mirror (cached as a tarball under ~/.cache/drill/docker/rootfs),
# imported, and tools/postgres-image/ (drill's entrypoint) on top. Nothing is pulled from a registry.
#
#   DOCKER_HOST=unix://... tools/build-postgres-image.sh [IMAGE]   # default drill-postgres:15-bookworm
#
# Reused when the engine already has the image built from the same recipe and files; the rootfs
# tarball is reused across engines. DRILL_DEBIAN_MIRROR overrides the mirror.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
image="${1:-drill-postgres:15-bookworm}"
suite=bookworm
packages=postgresql-15
mirror="${DRILL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache="${DRILL_CACHE_DIR:-$HOME/.cache/drill}/docker/rootfs"
tarball="$cache/postgres-15-$suite.tar"
rootfs_image="drill-postgres-rootfs:15-$suite"
# Bump when what goes into the rootfs changes: the cached tarball is made again.
recipe="2 debootstrap minbase $suite $packages"
source_hash="$( { echo "$recipe"; cat "$here/postgres-image/Dockerfile" "$here/postgres-image/docker-entrypoint.sh"; } | sha256sum | cut -c1-16)"

say() { printf 'build-postgres-image: %s\n' "$*" >&2; }
label_of() { docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }

if [ "$(label_of "$image" drill.source)" = "$source_hash" ]; then
  say "$image is up to date"
  exit 0
fi

make_rootfs() {
  command -v debootstrap >/dev/null 2>&1 || {
    say "installing debootstrap (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 debootstrap >/dev/null \
      || { apt-get update -qq -o DPkg::Lock::Timeout=600 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 debootstrap >/dev/null; }
  }
  find "$cache" -maxdepth 1 -name '.tmp-*' -exec rm -rf {} +
  local tmp
  tmp="$(mktemp -d "$cache/.tmp-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  say "debootstrap $suite with $packages from $mirror (about 1-4 minutes, once)"
  # A private mount namespace: the /proc and /sys debootstrap mounts in the target go with it,
  # even if it is killed halfway.
  unshare --mount --propagation private debootstrap --variant=minbase --include="$packages" "$suite" "$tmp/root" "$mirror" > "$tmp/debootstrap.log" 2>&1 \
    || { tail -n 20 "$tmp/debootstrap.log" >&2; say "debootstrap failed (log above)"; exit 1; }
  # The cluster Debian's package creates is not used (the entrypoint makes one in PGDATA), nor
  # are package caches, documentation and translations: about 250 MB less.
  rm -rf "$tmp/root/var/lib/postgresql/15" "$tmp/root/etc/postgresql/15" "$tmp/root/var/cache/apt/archives/"*.deb \
    "$tmp/root/var/lib/apt/lists/"* "$tmp/root/usr/share/doc/"* "$tmp/root/usr/share/man/"* "$tmp/root/usr/share/locale/"*
  tar -C "$tmp/root" --numeric-owner -cf "$tmp/rootfs.tar" .
  echo "$recipe" > "$tmp/recipe"
  mv "$tmp/rootfs.tar" "$tarball"
  mv "$tmp/recipe" "$tarball.recipe"
  rm -rf "$tmp"
  trap - EXIT
}

if [ "$(label_of "$rootfs_image" drill.recipe)" != "$recipe" ]; then
  mkdir -p "$cache"
  (
    # One debootstrap at a time for all engines sharing the cache.
    flock 9
    if [ ! -f "$tarball" ] || [ "$(cat "$tarball.recipe" 2>/dev/null)" != "$recipe" ]; then make_rootfs; fi
  ) 9> "$cache/.lock"
  say "importing the rootfs into the engine ($(du -h "$tarball" | cut -f1))"
  docker import --change "LABEL drill.recipe=\"$recipe\"" "$tarball" "$rootfs_image" >/dev/null
fi

say "building $image"
if ! output="$(docker build --build-arg "ROOTFS=$rootfs_image" --label "drill.source=$source_hash" -t "$image" "$here/postgres-image" 2>&1)"; then
  printf '%s\n' "$output" >&2
  say "docker build failed (output above)"
  exit 1
fi
say "$image built"
