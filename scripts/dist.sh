#!/usr/bin/env bash
# Builds what `pip install tradewire` downloads, into dist/:
#   - one abi3 wheel (CPython 3.9 and newer) tagged manylinux2014 (glibc 2.17), that installs
#     and runs with no Rust toolchain, no compiler and no OpenSSL on the machine: OpenSSL is
#     compiled from source and linked statically (python crate feature `vendored-openssl`),
#     and the extension is linked by `zig cc` against glibc 2.17's symbols (maturin --zig)
#     and the system's libgcc_s (see below);
#   - the sdist (`pip install tradewire-X.tar.gz` builds it with cargo, like `pip install .`).
# Then checks the wheel with `auditwheel show` (it must be manylinux_2_17 with nothing to
# graft) and that it holds the type stubs, py.typed and the licences.
#
#   ./scripts/dist.sh            # prints the wheel's path on stdout, everything else on stderr
#
# Uses the venv of scripts/setup.sh (maturin, ziglang and auditwheel, pinned in
# scripts/dist-requirements.txt). Builds with the `dist` profile (Cargo.toml) without debug
# line tables (the wheel is stripped anyway, and they cost build time), in
# target/x86_64-unknown-linux-gnu/dist, so rebuilds are incremental.
# Exits non-zero when the build or a check fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"

log() { printf 'dist: %s\n' "$*" >&2; }
die() { printf 'dist: error: %s\n' "$*" >&2; exit 1; }

[[ -x $VENV/bin/maturin && -x $VENV/bin/auditwheel ]] && "$VENV/bin/python" -c 'import ziglang' 2>/dev/null \
    || ./scripts/setup.sh
export PATH="$VENV/bin:$PATH"

VERSION="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"
[[ -n $VERSION ]] || die "no version in Cargo.toml's [workspace.package]"
TARGET=x86_64-unknown-linux-gnu
mkdir -p dist
rm -f "dist/tradewire-$VERSION"-*.whl "dist/tradewire-$VERSION.tar.gz"

# zig cc links its own copy of LLVM's libunwind in place of libgcc_s. glibc's pthread_exit
# (which CPython calls on a thread that wakes up during interpreter shutdown, e.g. one
# blocked in Client.recv) unwinds with the system's libgcc_s, and the extension's frames
# would then be handed to the other unwinder: a crash at exit
# (python/tests/test_resilience.py, test_interpreter_exits_cleanly_...). Linking the
# system's libgcc_s.so.1 (which the manylinux policy allows) makes both the same unwinder.
LIBGCC_S="$(cc -print-file-name=libgcc_s.so.1)"
[[ -f $LIBGCC_S ]] || die "no libgcc_s.so.1 (cc -print-file-name): install gcc"

log "maturin build (abi3, manylinux2014, zig, vendored OpenSSL), version $VERSION"
start=$SECONDS
CARGO_PROFILE_DIST_DEBUG=0 maturin build --quiet --zig --target "$TARGET" \
    --compatibility manylinux2014 --features vendored-openssl --out dist \
    -- -C link-arg="$LIBGCC_S" >&2
log "wheel built in $((SECONDS - start)) s"

log "maturin sdist"
maturin sdist --out dist >/dev/null 2>&1 || maturin sdist --out dist >&2

shopt -s nullglob
wheels=(dist/"tradewire-$VERSION"-cp39-abi3-manylinux*_x86_64.whl)
sdists=(dist/"tradewire-$VERSION.tar.gz")
((${#wheels[@]} == 1)) || die "expected one abi3 manylinux wheel in dist/, found: ${wheels[*]:-none}"
((${#sdists[@]} == 1)) || die "expected dist/tradewire-$VERSION.tar.gz"
wheel="${wheels[0]}"

log "auditwheel show"
report="$(auditwheel show "$wheel")"
grep -q 'manylinux_2_17_x86_64' <<<"$report" \
    || die "auditwheel does not accept $wheel as manylinux_2_17:"$'\n'"$report"
# A wheel that auditwheel would have to repair depends on a library outside the policy.
if grep -q 'repair' <<<"$report"; then
    die "$wheel needs libraries outside the manylinux policy:"$'\n'"$report"
fi

unpacked="$(mktemp -d)"
trap 'rm -rf "$unpacked"' EXIT
unzip -q "$wheel" 'tradewire/_native.abi3.so' -d "$unpacked"
readelf -d "$unpacked/tradewire/_native.abi3.so" | grep -q 'NEEDED.*\[libgcc_s.so.1\]' \
    || die "the extension does not use the system's libgcc_s (its own unwinder crashes at exit)"

log "checking the wheel's contents"
"$VENV/bin/python" - "$wheel" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
need = ["tradewire/__init__.py", "tradewire/py.typed", "tradewire/_native.pyi",
        "tradewire/_native.abi3.so"]
missing = [n for n in need if n not in names]
licences = [n for n in names if n.endswith(("LICENSE-MIT", "LICENSE-APACHE"))]
if missing or len(licences) != 2:
    sys.exit(f"dist: error: the wheel lacks {missing} (licences found: {licences})")
EOF

size=$(stat -c %s "$wheel")
log "ok: $wheel ($((size / 1024)) KiB), ${sdists[0]}"
printf '%s\n' "$ROOT/$wheel"
