#!/usr/bin/env bash
# Every test ml-connector has, from a fresh clone, with nothing installed by hand:
#   1. Python tools in .venv (moto server, cfn-lint, SAM CLI, cargo-lambda)  tests/aws-tools.sh
#      Chromium + chromedriver (the console's browser tests)         apt-get (Debian)
#   2. formatting and lints                                          cargo fmt --check, cargo clippy -D warnings
#   3. the Lambda artefacts, built for real                          sam build (cargo-lambda, release)
#   4. every Rust test in the workspace (moto started on loopback;   cargo test --workspace
#      the built artefacts run in the Lambda Runtime API emulator)
#   5. the X12 parser's fuzz targets for a bounded time              shared/x12/fuzz/run.sh
# MLC_LAMBDA_ARCH=arm64 builds for Graviton where the aarch64 Rust target can be installed
# (default x86_64: this machine cannot fetch it). MLC_SKIP_SAM_BUILD=1 skips step 3 (the artefact
# test then runs the debug builds).
# Nothing leaves loopback except package downloads (crates.io, PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
# A one-shot build gains nothing from incremental state, and it would take about 4 GB of target/
# on top of the ~8 GB the test binaries, the Lambda artefacts and clippy's metadata need.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step() { printf '\n==> %s\n' "$*"; }

# The build needs about 8 GB under target/ (reported at the end); say so up front rather than let
# rustc fail half-way with "No space left on device".
free_kb=$(df -Pk "$root" | awk 'NR==2 {print $4}')
if [ "${free_kb:-0}" -lt $((10 * 1024 * 1024)) ]; then
  echo "warning: $((free_kb / 1024 / 1024)) GB free under $root; the test build needs about 8 GB in target/" >&2
fi

step "Python tools (moto, cfn-lint, SAM CLI) in .venv"
tests/aws-tools.sh

step "Chromium and chromedriver (the console's browser tests)"
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then as_root=""; elif sudo -n true 2>/dev/null; then as_root="sudo -n"; else
    echo "chromium and chromedriver are missing and this user cannot install them: run 'sudo apt-get install -y chromium chromium-driver'" >&2
    exit 1
  fi
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium chromium-driver
fi

step "moto server on loopback"
mkdir -p "$root/target/sam"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$root/.venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$root/target/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null || { echo "moto server did not start; see target/moto.log" >&2; cat "$root/target/moto.log" >&2; exit 1; }
export MLC_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

if [[ "${MLC_SKIP_SAM_BUILD:-}" != "1" ]]; then
  arch="${MLC_LAMBDA_ARCH:-x86_64}"
  step "sam build ($arch, cargo-lambda, release) into target/sam/build"
  started=$(date +%s)
  # CI's build profile: no LTO, parallel codegen (several times faster to build on two cores; the
  # artefacts are somewhat larger). `sam build` outside CI uses the workspace's release profile.
  CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-false}" \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-16}" \
  PATH="$root/.venv/bin:$PATH" SAM_CLI_TELEMETRY=0 "$root/.venv/bin/sam" build --beta-features \
    --template infra/template.yaml --build-dir "$root/target/sam/build" \
    --parameter-overrides "Architecture=$arch" >"$root/target/sam/build.log" 2>&1 \
    || { tail -n 40 "$root/target/sam/build.log" >&2; echo "sam build failed; see target/sam/build.log" >&2; exit 1; }
  for f in WebhookFunction PollerFunction PosterFunction; do
    ls -l "$root/target/sam/build/$f/bootstrap"
  done
  echo "sam build took $(( $(date +%s) - started )) s"
  export MLC_LAMBDA_ARTEFACTS="$root/target/sam/build"
fi

step "cargo test --workspace"
# Most suites wait on simulated rate windows and settle delays rather than compute: four test
# threads per binary keep two cores busy. Every failing binary is reported, not only the first.
RUST_TEST_THREADS="${RUST_TEST_THREADS:-4}" cargo test --workspace --locked --no-fail-fast

step "X12 fuzz targets, ${FUZZ_SECONDS}s each (seed ${FUZZ_SEED:-20261203})"
# Seeded, so the gate is repeatable: the same inputs in the same order on every run (a slower
# machine runs a prefix of them). Longer, randomly seeded runs explore: shared/x12/fuzz/run.sh 600.
FUZZ_SEED="${FUZZ_SEED:-20261203}" shared/x12/fuzz/run.sh "$FUZZ_SECONDS"

step "all tests passed (target/ holds $(du -sh "$root/target" | cut -f1))"
