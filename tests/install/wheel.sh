#!/usr/bin/env bash
# Installs the wheel of scripts/dist.sh as a user would, on a machine without Rust: into fresh
# venvs of pyenv's CPython 3.9 and of the newest CPython pyenv has, with `pip install
# --no-index` (the wheel alone, nothing fetched or built), then runs tests/install/session.py
# with PATH reduced to the venv (no cargo, no cc) and an empty environment:
#   - ws and wss sessions against the wheel's own tradewire.testing servers, the wss server's
#     certificate trusted through SSL_CERT_FILE;
#   - as root, a wss session whose certificate is trusted only because it was added to the
#     system's CA bundle (/etc/ssl/certs/ca-certificates.crt, replaced by a bind mount in a
#     private mount namespace: the machine's file is never touched), and the same session
#     without it, which must fail: the statically linked OpenSSL finds the distribution's
#     trust store (native-tls probes the usual places), not only its own compiled-in one.
# Also checks that the extension needs no libssl/libcrypto from the system.
#
#   tests/install/wheel.sh [WHEEL]      (default: the wheel of this version in dist/)
#
# Exits non-zero on the first failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/install"
log() { printf 'install-wheel: %s\n' "$*" >&2; }
die() { printf 'install-wheel: error: %s\n' "$*" >&2; exit 1; }

VERSION="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml")"
wheel="${1:-}"
if [[ -z $wheel ]]; then
    shopt -s nullglob
    found=("$ROOT"/dist/"tradewire-$VERSION"-cp39-abi3-manylinux*_x86_64.whl)
    ((${#found[@]} == 1)) || die "no single wheel of $VERSION in dist/: run scripts/dist.sh"
    wheel="${found[0]}"
fi
[[ -f $wheel ]] || die "$wheel: no such file"

command -v pyenv >/dev/null || die "pyenv is required (it provides CPython 3.9 and the newest)"
PYENV_ROOT="$(pyenv root)"
mapfile -t versions < <(pyenv versions --bare | grep -E '^3\.[0-9]+\.[0-9]+$' | sort -V)
oldest="$(printf '%s\n' "${versions[@]}" | grep -E '^3\.9\.' | tail -n1)"
newest="${versions[-1]}"
[[ -n $oldest ]] || die "pyenv has no CPython 3.9"

TMP="$(mktemp -d)"
server=""
cleanup() {
    exec 3>&- 2>/dev/null || true
    [[ -n $server ]] && wait "$server" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

log "$(basename "$wheel"): $(($(stat -c %s "$wheel") / 1024)) KiB"
unzip -q -o "$wheel" 'tradewire/_native.abi3.so' -d "$TMP/unpacked"
if readelf -d "$TMP/unpacked/tradewire/_native.abi3.so" | grep NEEDED | grep -Eq 'libssl|libcrypto'; then
    die "the extension loads the system's OpenSSL: $(readelf -d "$TMP/unpacked/tradewire/_native.abi3.so" | grep NEEDED)"
fi

# Runs the venv's python with an empty environment and PATH = the venv's bin directory.
bare() {
    local venv="$1"; shift
    env -i HOME="$TMP" PATH="$venv/bin" LANG=C.UTF-8 "$venv/bin/python" "$@"
}

for v in $(printf '%s\n' "$oldest" "$newest" | sort -uV); do
    venv="$TMP/venv-$v"
    log "CPython $v: fresh venv, pip install --no-index the wheel"
    "$PYENV_ROOT/versions/$v/bin/python" -m venv "$venv"
    bare "$venv" -m pip install -q --no-index --disable-pip-version-check "$wheel" >&2
    bare "$venv" -c 'import shutil, sys
tools = [t for t in ("cargo", "rustc", "cc", "gcc") if shutil.which(t)]
sys.exit(f"on PATH: {tools}" if tools else 0)' || die "the test PATH is not bare"
    got="$(bare "$venv" -c 'import tradewire; print(tradewire.__version__)')"
    [[ $got == "$VERSION" ]] || die "CPython $v: tradewire.__version__ is $got, Cargo.toml says $VERSION"
    bare "$venv" "$HERE/session.py" local >&2 || die "CPython $v: the live session failed"
done

if [[ $(id -u) -ne 0 ]] || ! unshare --mount true 2>/dev/null; then
    log "skipped: the system trust store test needs root (a private mount namespace)"
else
    log "CPython $newest: wss trusted through the system CA bundle only"
    venv="$TMP/venv-$newest"
    mkfifo "$TMP/stop"
    bare "$venv" "$HERE/session.py" serve-tls "$TMP/cert.pem" <"$TMP/stop" >"$TMP/url" &
    server=$!
    exec 3>"$TMP/stop"
    for _ in $(seq 100); do
        [[ -s $TMP/url && -s $TMP/cert.pem ]] && break
        sleep 0.1
    done
    url="$(head -n1 "$TMP/url")"
    [[ $url == wss://* ]] || die "the wss server printed no URL"
    system_bundle=/etc/ssl/certs/ca-certificates.crt
    [[ -f $system_bundle ]] || die "no $system_bundle"
    cat "$system_bundle" "$TMP/cert.pem" >"$TMP/bundle.pem"
    if bare "$venv" "$HERE/session.py" client "$url" >"$TMP/without.log" 2>&1; then
        die "the wss session succeeded without the certificate in any trust store"
    fi
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare --mount --propagation private sh -c \
        'mount --bind "$1" /etc/ssl/certs/ca-certificates.crt && shift && exec "$@"' \
        sh "$TMP/bundle.pem" env -i HOME="$TMP" PATH="$venv/bin" LANG=C.UTF-8 \
        "$venv/bin/python" "$HERE/session.py" client "$url" >&2 \
        || die "the wss session failed with the certificate in the system bundle"
fi
log "ok: $(basename "$wheel") works on CPython $oldest and $newest without Rust or a compiler"
