#!/usr/bin/env bash
# The JUnit XML schema that `drill run --junit` output is validated against (test/support/junit-schema.ts):
# junit-10.xsd of the Jenkins xUnit plugin (jenkinsci/xunit-plugin, MIT licence, Copyright (c) 2014
# Gregory Boissinot). The plugin validates JUnit reports against it, and
# pytest validates its own `junit_family=xunit2` output against the same file, which its source
# distribution on PyPI ships (testing/example_scripts/junit-10.xsd). We take it from there: the
# registry is reachable where the plugin's own repository is not. Pinned by version and by hash
# of both the archive and the schema, extracted into the drill cache, reused when it is there.
#
# Usage:   XSD=$(tools/fetch-junit-schema.sh [pip])
#          pip: the pip to download with (default: python3 -m pip); setup.sh passes moto's venv.
# stdout:  exactly one line, the path of junit-10.xsd.
# stderr:  progress and pip output.
set -euo pipefail

# test/support/junit-schema.ts names the same version and schema hash.
PYTEST_VERSION=9.0.3
SDIST_SHA256=b86ada508af81d19edeb213c681b1d48246c1a91d304c6c81a427674c17eb91c
XSD_SHA256=a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6
CACHE_ROOT="${DRILL_CACHE_DIR:-$HOME/.cache/drill}"
DEST_DIR="$CACHE_ROOT/junit-schema/pytest-$PYTEST_VERSION"
XSD="$DEST_DIR/junit-10.xsd"

log() { printf '[fetch-junit-schema] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ -f "$XSD" ] && [ "$(sha256sum "$XSD" | cut -d' ' -f1)" = "$XSD_SHA256" ]; then
  echo "$XSD"
  exit 0
fi

if [ "$#" -gt 0 ]; then pip=("$1"); else pip=(python3 -m pip); fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log "downloading the pytest $PYTEST_VERSION source distribution (it ships junit-10.xsd)"
# --no-binary: the wheel has no tests; the sdist does. pip prepares its metadata, which needs
# pytest's build requirements from PyPI (an isolated build environment, removed afterwards).
"${pip[@]}" download --quiet --disable-pip-version-check --no-deps --no-binary :all: "pytest==$PYTEST_VERSION" -d "$work" >&2
sdist="$work/pytest-$PYTEST_VERSION.tar.gz"
[ -f "$sdist" ] || die "pip did not leave $sdist"
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
