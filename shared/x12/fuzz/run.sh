#!/usr/bin/env bash
# Runs every cargo-fuzz target of mlc-x12 for a bounded time, seeded from tests/data.
#
#   shared/x12/fuzz/run.sh [seconds per target]     (default 60)
#
# FUZZ_SEED=<n> fixes libFuzzer's seed: from the same corpus a run then follows the same path, and
# a shorter or slower run follows a prefix of it, so a gate (tests/run.sh) is repeatable. Unset,
# each run takes a random seed (exploring; what a longer run on a workstation should do).
# FUZZ_CORPUS=<dir> keeps the corpora elsewhere than fuzz/corpus/ (e.g. a fresh one, as CI has).
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

# libFuzzer prints a line per new input; each target's output goes to its log, and what ends
# this script is a summary (with the whole finding of a target that failed), so the last lines
# of a CI run say what went wrong.
logs="$here/logs"
mkdir -p "$logs"
failed=()
seed=()
if [ -n "${FUZZ_SEED:-}" ]; then seed=("-seed=$FUZZ_SEED"); fi
for t in $targets; do
    corpus="${FUZZ_CORPUS:-$here/corpus}/$t"
    mkdir -p "$corpus"
    cp "$crate"/tests/data/*.edi "$corpus"/
    echo "=== $t: ${secs}s (log: $logs/$t.log) ==="
    if cargo fuzz run --fuzz-dir "$here" -O "$t" "$corpus" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 "${seed[@]}" \
        >"$logs/$t.log" 2>&1; then
        grep -E '^(Done|stat::)' "$logs/$t.log" || true
    else
        failed+=("$t")
        echo "FAILED: $t"
    fi
done
for t in "${failed[@]}"; do
    echo
    echo "=== FAILED: $t — its finding (whole log: $logs/$t.log; input saved under $here/artifacts/$t) ==="
    # From libFuzzer's report of the crash, timeout or memory limit to the end.
    sed -n '/^==[0-9]*== \|^thread .* panicked\|ERROR: libFuzzer\|^INFO: Running\b.*timeout/,$p' "$logs/$t.log" | cut -c1-2000 | head -n 120
    for a in "$here/artifacts/$t"/*; do
        [ -f "$a" ] || continue
        echo "--- $a (base64) ---"
        base64 -w 0 "$a" | head -c 4000
        echo
    done
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz targets that failed: ${failed[*]}"
    exit 1
fi
echo "fuzz targets clean: $(echo $targets)"
