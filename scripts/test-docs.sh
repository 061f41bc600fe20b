#!/usr/bin/env bash
# Runs every fenced example of README.md, python/README.md and ffi/README.md as written
# (tests/docs/check_docs.py), and checks their links and figures.
#
#   ./scripts/test-docs.sh [--only TEXT] [--list]
#
# Builds what the examples use first: the `tradewire` command (release, the build the
# README's demo command makes), the Rust examples (crate tests/docs), the C library with the
# `dist` profile the README recommends (`make lib`). The Python examples use the package
# installed in .venv: scripts/test.sh runs scripts/test-python.sh (which installs it) before this script;
# run alone, this script installs it when .venv has none.
# The examples use the mock servers' default ports 8765, 4000 and 8000 on 127.0.0.1.
# Exits non-zero when any example fails or a claim does not hold.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf 'test-docs: %s\n' "$*" >&2; }

if ! [[ -x .venv/bin/python ]]; then
    log "no venv at .venv: running scripts/setup.sh"
    ./scripts/setup.sh
fi
if ! .venv/bin/python -c 'import tradewire' 2>/dev/null; then
    log "installing the Python package into .venv (as scripts/test-python.sh does)"
    PATH="$ROOT/.venv/bin:$PATH" .venv/bin/python -m pip --disable-pip-version-check -q \
        install --no-build-isolation --no-deps "$ROOT" >&2
fi
.venv/bin/python -m mypy --version >/dev/null 2>&1 \
    || .venv/bin/python -m pip --disable-pip-version-check -q install "mypy>=1.10" >&2

log "cargo build --release -p tradewire-cli; cargo build -p tradewire-docs; make lib (the C library, dist profile)"
cargo build --quiet --release -p tradewire-cli
cargo build --quiet -p tradewire-docs
make -s lib

log "running the examples"
start=$SECONDS
python3 tests/docs/check_docs.py "$@"
log "done in $((SECONDS - start)) s"
