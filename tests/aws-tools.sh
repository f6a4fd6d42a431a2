#!/usr/bin/env bash
# Python tools for the AWS home's tests, in a venv at <repo>/.venv:
#   moto_server  (AWS API emulator the adapter and handler tests talk to, on 127.0.0.1)
#   cfn-lint     (template checks)
#   sam          (AWS SAM CLI: `sam validate --lint`, `sam build`)
#   cargo-lambda (what `sam build` runs for the Rust functions; it brings its own Zig linker)
#
# Idempotent and quiet: a venv that already has the pinned versions is left alone. Exits non-zero
# with one clear line when something cannot be installed. Only PyPI is contacted.
#
# Usage: tests/aws-tools.sh            (from anywhere inside the repo)
#        MLC_VENV=/path tests/aws-tools.sh   (another venv location)
set -euo pipefail

MOTO_VERSION="5.2.5"
SAM_VERSION="1.170.0"
# Pinned to what aws-sam-cli 1.170.0 accepts, so pip never has to choose between them.
CFN_LINT_VERSION="1.58.0"
CARGO_LAMBDA_VERSION="1.9.2"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${MLC_VENV:-$root/.venv}"
stamp="$venv/.mlc-aws-tools"
want="moto[server]==$MOTO_VERSION aws-sam-cli==$SAM_VERSION cfn-lint==$CFN_LINT_VERSION cargo-lambda==$CARGO_LAMBDA_VERSION"

die() {
    echo "tests/aws-tools.sh: $*" >&2
    exit 1
}

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/moto_server" && -x "$venv/bin/sam" && -x "$venv/bin/cfn-lint" && -x "$venv/bin/cargo-lambda" ]]; then
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
    # The first interpreter that can make a venv (pyenv shims exist for versions that are not
    # active, so "command -v" alone is not enough).
    made=""
    for p in ${PYTHON:-} python3 python3.12 python3.11 python3.13; do
        if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 9))' >/dev/null 2>&1 \
            && "$p" -m venv "$venv" >/dev/null 2>&1; then
            made="$p"
            break
        fi
        rm -rf "$venv"
    done
    [[ -n "$made" ]] || die "cannot create a venv at $venv: install Python 3.9+ with venv (apt-get install python3 python3-venv)"
fi

log="$venv/aws-tools-install.log"
echo "tests/aws-tools.sh: installing $want into $venv (first run takes a few minutes)" >&2
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >"$log" 2>&1; then
    die "pip upgrade failed; see $log"
fi
# shellcheck disable=SC2086
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want >>"$log" 2>&1; then
    tail -n 20 "$log" >&2 || true
    die "pip install of $want failed; see $log"
fi
for tool in moto_server sam cfn-lint cargo-lambda; do
    [[ -x "$venv/bin/$tool" ]] || die "$tool is missing from $venv/bin after install; see $log"
done
echo "$want" >"$stamp"
echo "tests/aws-tools.sh: ready ($venv)" >&2
