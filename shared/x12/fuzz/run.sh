#!/usr/bin/env bash
# Runs every cargo-fuzz target of mlc-x12 for a bounded time, seeded from tests/data.
#
#   shared/x12/fuzz/run.sh [seconds per target]     (default 60)
#
# Works on the stable toolchain: cargo-fuzz needs nightly-only flags (sanitizers), which
# RUSTC_BOOTSTRAP=1 unlocks. Installs cargo-fuzz if it is missing. Exits non-zero when a target
# crashes, hangs (-timeout) or exceeds the memory limit (-rss_limit_mb); the input that did it is
# saved under fuzz/artifacts/<target>/. Corpora grow under fuzz/corpus/ (not committed).
set -euo pipefail

secs="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(dirname "$here")"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz ..."
    cargo install cargo-fuzz --locked
fi

cd "$crate"
targets=$(cargo fuzz list --fuzz-dir "$here")
echo "building fuzz targets: $(echo $targets)"
cargo fuzz build --fuzz-dir "$here" -O

status=0
for t in $targets; do
    corpus="$here/corpus/$t"
    mkdir -p "$corpus"
    cp "$crate"/tests/data/*.edi "$corpus"/
    echo "=== $t: ${secs}s ==="
    if ! cargo fuzz run --fuzz-dir "$here" -O "$t" "$corpus" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1; then
        echo "FAILED: $t (see $here/artifacts/$t)"
        status=1
    fi
done
exit "$status"
