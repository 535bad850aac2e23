#!/usr/bin/env bash
# Builds the cargo-fuzz targets (fuzz/) with the stable toolchain, without
# the sanitizer instrumentation that `cargo fuzz` adds on nightly: this
# proves the targets compile against the current API. Run from the repo root:
#   bash .ci/fuzz-build.sh
set -euo pipefail

cd "$(dirname "$0")/.."
if [ ! -f fuzz/Cargo.toml ]; then
    echo "fuzz-build: fuzz/Cargo.toml not found (run from the callseal repo)" >&2
    exit 1
fi

# The fuzz crate is a workspace of its own, with its own lock file (not
# --locked: it follows the main crate's dependencies as they change).
# Builds its own target dir unless CARGO_TARGET_DIR is set.
cargo build --manifest-path fuzz/Cargo.toml --bins
echo "fuzz-build: targets open and header built"
