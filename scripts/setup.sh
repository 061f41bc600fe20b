#!/usr/bin/env bash
# Install everything tradewire's build and tests need on a Debian machine (or in CI).
#
#   ./scripts/setup.sh
#
# Idempotent and fast when everything is already there:
#   - Debian packages: pkg-config, cmake (the installed-library tests), libssl-dev (native-tls /
#     openssl-sys), python3-venv when the python3 on PATH cannot make a venv, nodejs + npm when
#     missing, tinyproxy and dante-server (the proxy tests' HTTP CONNECT and SOCKS5 servers),
#     redis-server (the bridge's tests start their own on a free port; the service the package
#     installs is not used), and the system libraries that Debian's Rust 1.85 (which
#     scripts/check-msrv.sh downloads, unpacks and builds with: the declared rust-version) loads:
#     libcurl4, libssh2-1, libsqlite3-0 (its cargo), libllvm19's libedit2, libffi8, libxml2,
#     libz3-4, libzstd1; gcc, libc6-dev and binutils (it links build scripts with them).
#     `apt-get update` runs only when something must be installed.
#   - As root: the system user `tradewire-proxy` (no home, no shell, locked for login) with the
#     password the SOCKS5 username tests give dante (dante checks usernames against the system's
#     users); skipped when it exists or when not root (those tests then skip).
#   - <repo>/.venv made with the python3 on PATH (pyenv's or the system's), then
#     `pip install -r tests/peers/requirements.txt -r scripts/dist-requirements.txt` (the peer
#     servers' packages; maturin, ziglang and auditwheel for scripts/dist.sh), skipped when the
#     requirements are unchanged since the last successful install and the packages still import.
#   - tests/peers/node_modules from tests/peers/package-lock.json (`npm ci`, skipped when the lock
#     file is unchanged since the last successful install).
#
# Messages go to stderr. Environment:
#   PYTHON=/path/to/python3   interpreter used to create the venv (default: python3 on PATH)
#   TRADEWIRE_SETUP_FORCE=1   redo the pip and npm steps even if they look up to date
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="$ROOT/tests/peers"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
FORCE="${TRADEWIRE_SETUP_FORCE:-0}"

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

hash_of() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- Debian packages
deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    # The second line: what scripts/check-msrv.sh's Rust 1.85 needs of the system.
    for pkg in pkg-config cmake libssl-dev tinyproxy dante-server redis-server \
        libcurl4 libssh2-1 libsqlite3-0 libedit2 libffi8 libxml2 libz3-4 libzstd1 gcc libc6-dev binutils; do
        deb_installed "$pkg" || missing+=("$pkg")
    done
else
    log "dpkg-query not found: not a Debian system, skipping system packages (need pkg-config, OpenSSL headers)"
fi

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    missing+=(python3)
    PYTHON=python3
fi
if command -v "$PYTHON" >/dev/null 2>&1 \
    && ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    # Debian's own python3 needs python3-venv for ensurepip; pyenv's python has it built in.
    missing+=(python3-venv)
fi
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and apt-get is not available: install them by hand"
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "missing ${missing[*]}: run as root or install sudo"
        SUDO=(sudo)
    fi
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq >&2
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    # A freshly installed Debian python3 is /usr/bin/python3.
    command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
else
    log "system packages present"
fi

# ---------------------------------------------------------------- SOCKS5 test user
# dante's `socksmethod: username` checks the system's users; tests/rust/support/proxy_servers.rs
# logs in as this one. Its password is a test fixture, not a secret: the account has no shell.
PROXY_USER=tradewire-proxy
PROXY_PASSWORD=tw-proxy-test-pw
if [[ $(id -u) -eq 0 ]] && command -v useradd >/dev/null 2>&1; then
    if ! id "$PROXY_USER" >/dev/null 2>&1; then
        log "creating the system user $PROXY_USER for the SOCKS5 username tests"
        useradd --system --no-create-home --shell /usr/sbin/nologin "$PROXY_USER"
        printf '%s:%s\n' "$PROXY_USER" "$PROXY_PASSWORD" | chpasswd
    fi
else
    log "not root: no $PROXY_USER user (the SOCKS5 username tests will skip)"
fi

# ---------------------------------------------------------------- Python venv
if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "venv present: $VENV ($("$VENV/bin/python" --version 2>&1))"
else
    if [[ -e "$VENV" ]]; then
        log "venv at $VENV is broken (its interpreter does not run): recreating"
        rm -rf "$VENV"
    fi
    log "creating venv $VENV with $(command -v "$PYTHON") ($("$PYTHON" --version 2>&1))"
    "$PYTHON" -m venv "$VENV"
fi

REQS=("$PEERS/requirements.txt" "$ROOT/scripts/dist-requirements.txt")
PIP_STAMP="$VENV/.tradewire-peers-requirements.sha256"
req_hash="$(cat "${REQS[@]}" | sha256sum | cut -d' ' -f1)"
if [[ $FORCE != 1 && -f $PIP_STAMP && "$(cat "$PIP_STAMP")" == "$req_hash" ]] \
    && "$VENV/bin/python" -c 'import websockets.asyncio.server, ziglang' >/dev/null 2>&1; then
    log "python requirements up to date"
else
    log "pip install -r tests/peers/requirements.txt -r scripts/dist-requirements.txt"
    rm -f "$PIP_STAMP"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
        -r "${REQS[0]}" -r "${REQS[1]}" >&2
    printf '%s\n' "$req_hash" >"$PIP_STAMP"
fi

# ---------------------------------------------------------------- Node packages
LOCK="$PEERS/package-lock.json"
NPM_STAMP="$PEERS/node_modules/.tradewire-package-lock.sha256"
if [[ -f $LOCK ]]; then
    lock_hash="$(hash_of "$LOCK")"
    if [[ $FORCE != 1 && -f $NPM_STAMP && "$(cat "$NPM_STAMP")" == "$lock_hash" && -d $PEERS/node_modules/ws ]]; then
        log "node packages up to date"
    else
        log "npm ci in tests/peers"
        (cd "$PEERS" && npm ci --no-audit --no-fund --loglevel=error) >&2
        printf '%s\n' "$lock_hash" >"$NPM_STAMP"
    fi
else
    log "tests/peers/package-lock.json missing: npm install (commit the lock file it writes)"
    (cd "$PEERS" && npm install --no-audit --no-fund --loglevel=error) >&2
fi

log "done (peers: $VENV/bin/python, $PEERS/node_modules)"
