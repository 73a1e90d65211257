#!/usr/bin/env bash
# The JUnit XML schema that `drill run --junit` output is validated against (test/support/junit-schema.ts):
# junit-10.xsd of the Jenkins xUnit plugin (jenkinsci/xunit-plugin, MIT licence, Copyright (c) 2014
# Gregory Boissinot). The plugin validates JUnit reports against it, and
# pytest validates its own `junit_family=xunit2` output against the same file, which its source
# distribution on PyPI ships (testing/example_scripts/junit-10.xsd). We take it from there: the
# registry is reachable where the plugin's own repository is not. Pinned by version and by hash
# of both the archive and the schema, extracted into the drill cache, reused when it is there.
#
# Usage:   XSD=$(tools/fetch-junit-schema.sh)
# stdout:  exactly one line, the path of junit-10.xsd.
# stderr:  progress and pip output.
set -euo pipefail

# test/support/junit-schema.ts names the same version and schema hash.
PYTEST_VERSION=9.0.3
SDIST_SHA256=b86ada508af81d19edeb213c681b1d48246c1a91d304c6c81a427674c17eb91c
XSD_SHA256=a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6
# PyPI's file URL (content-addressed), from https://pypi.org/simple/pytest/.
SDIST_URL=https://files.pythonhosted.org/packages/7d/0d/549bd94f1a0a402dc8cf64563a117c0f3765662e2e668477624baeec44d5/pytest-9.0.3.tar.gz
CACHE_ROOT="${DRILL_CACHE_DIR:-$HOME/.cache/drill}"
DEST_DIR="$CACHE_ROOT/junit-schema/pytest-$PYTEST_VERSION"
XSD="$DEST_DIR/junit-10.xsd"

log() { printf '[fetch-junit-schema] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ -f "$XSD" ] && [ "$(sha256sum "$XSD" | cut -d' ' -f1)" = "$XSD_SHA256" ]; then
  echo "$XSD"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sdist="$work/pytest-$PYTEST_VERSION.tar.gz"
log "downloading the pytest $PYTEST_VERSION source distribution (it ships junit-10.xsd)"
# The file itself, from its pinned URL, and nothing run before its hash is checked (pip would
# build the package's metadata first, running code from PyPI).
if command -v curl >/dev/null 2>&1; then
  curl -sSfL --retry 3 -o "$sdist" "$SDIST_URL" >&2
else
  python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$SDIST_URL" "$sdist"
fi
[ -f "$sdist" ] || die "the download left no $sdist"
[ "$(sha256sum "$sdist" | cut -d' ' -f1)" = "$SDIST_SHA256" ] || die "pytest-$PYTEST_VERSION.tar.gz does not have the pinned sha256 $SDIST_SHA256"
tar -xzf "$sdist" -C "$work" "pytest-$PYTEST_VERSION/testing/example_scripts/junit-10.xsd"
got="$work/pytest-$PYTEST_VERSION/testing/example_scripts/junit-10.xsd"
[ "$(sha256sum "$got" | cut -d' ' -f1)" = "$XSD_SHA256" ] || die "junit-10.xsd in pytest $PYTEST_VERSION does not have the pinned sha256 $XSD_SHA256"
mkdir -p "$DEST_DIR"
# Rename into place: a concurrent reader sees the whole file or none.
cp "$got" "$XSD.tmp.$$"
mv "$XSD.tmp.$$" "$XSD"
log "junit-10.xsd in $DEST_DIR"
echo "$XSD"
