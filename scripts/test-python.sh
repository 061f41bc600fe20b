#!/usr/bin/env bash
# Builds and installs the `tradewire` Python package into <repo>/.venv, checks the type stubs
# against the module (mypy stubtest) and runs the pytest suite in python/tests.
#
#   ./scripts/test-python.sh [pytest arguments...]
#   TRADEWIRE_WHEEL=dist/tradewire-...whl ./scripts/test-python.sh   # test that wheel instead
#
# With TRADEWIRE_WHEEL (scripts/test.sh passes the wheel scripts/dist.sh built), the suite runs
# against the wheel users download, and the extension is not built a second time.
# The venv is made by scripts/setup.sh when missing. The package is installed with pip from the
# repository root, like the README's `pip install .`, but without build isolation (maturin is
# installed into the venv) so that a rebuild reuses target/ and takes seconds.
# Exits non-zero when anything fails, including when pytest collects no tests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

log() { printf 'test-python: %s\n' "$*" >&2; }

if ! [[ -x "$VENV/bin/python" ]]; then
    log "no venv at $VENV: running scripts/setup.sh"
    "$ROOT/scripts/setup.sh"
fi
PY="$VENV/bin/python"
# maturin's PEP 517 hooks run the `maturin` executable of the venv.
export PATH="$VENV/bin:$PATH"
PIP=("$PY" -m pip --disable-pip-version-check --no-input)

log "installing build and test tools (maturin, pytest, mypy)"
"${PIP[@]}" install -q "maturin>=1.9,<2.0" "pytest>=7" "mypy>=1.10" >&2

start=$SECONDS
if [[ -n ${TRADEWIRE_WHEEL:-} ]]; then
    log "pip install $TRADEWIRE_WHEEL"
    "${PIP[@]}" install -q --force-reinstall --no-deps "$TRADEWIRE_WHEEL" >&2
else
    log "pip install $ROOT (release build of the extension)"
    "${PIP[@]}" install -q --no-build-isolation --force-reinstall --no-deps "$ROOT" >&2
fi
log "installed in $((SECONDS - start)) s: $("$PY" -c 'import tradewire; print(tradewire.__version__, tradewire.__file__)')"

# mypy runs in a scratch directory: outside the source tree `tradewire` is the installed
# package, and its cache stays out of the work tree.
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

log "mypy stubtest"
(cd "$SCRATCH" && "$PY" -m mypy.stubtest tradewire --allowlist "$ROOT/python/stubtest-allowlist.txt")

log "mypy --strict python/tests (the stubs as users see them)"
(cd "$SCRATCH" && "$PY" -m mypy --strict "$ROOT/python/tests")

log "pytest python/tests"
set +e
(cd "$ROOT/python/tests" && timeout 900 "$PY" -m pytest -q -p no:cacheprovider "$@" .)
status=$?
set -e
case $status in
    0) log "all tests passed" ;;
    5) log "error: pytest collected no tests"; exit 1 ;;
    *) log "error: pytest failed (exit status $status)"; exit "$status" ;;
esac
