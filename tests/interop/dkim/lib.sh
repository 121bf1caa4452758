# lib.sh - helpers of the DKIM interop tests (sourced, not run).
# SPDX-License-Identifier: Apache-2.0

SKIP=77
PIDS=""
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mm-dkim-interop.XXXXXX")
PY=/usr/bin/python3   # Debian's python3 has the dkim module; a pyenv shim may not
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

EXTRA_CLEANUP=""
cleanup() {
    [ -n "$EXTRA_CLEANUP" ] && eval "$EXTRA_CLEANUP"
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    [ -n "${KEEP_TMP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }

# A missing peer skips locally and fails in CI.
skip() {
    if [ "${CI:-}" = "true" ]; then fail "peer missing in CI: $*"; fi
    echo "SKIP: $*" >&2
    exit $SKIP
}

need_prog() { command -v "$1" >/dev/null 2>&1 || skip "$1 not found in PATH"; }
need_dkimpy() {
    [ -x "$PY" ] && "$PY" -c 'import dkim, nacl' 2>/dev/null || skip "python3-dkim/python3-nacl missing"
}

CHECKS=0
ok() { CHECKS=$((CHECKS + 1)); echo "ok $CHECKS - $*"; }

# opendkim offline verification: prints the dkim= result of the first signature.
opendkim_verify() {
    cat > "$TMP/opendkim.conf" <<EOC
Mode v
TestPublicKeys $TMP/keys.txt
Syslog no
AlwaysAddARHeader yes
EOC
    opendkim -x "$TMP/opendkim.conf" -vv -t "$1" 2>&1 | tee "$TMP/opendkim.out" >/dev/null
    if grep -q "verification (.*) succeeded" "$TMP/opendkim.out"; then echo pass
    elif grep -q "verification (.*) failed" "$TMP/opendkim.out"; then echo fail
    else echo other; fi
}

# dkimpy verification of signature number $2 (0 = top) with keys.txt as its DNS.
dkimpy_verify() { "$PY" "$HERE/dkimpy_verify.py" "$TMP/keys.txt" "$1" "${2:-0}"; }

# A loopback TCP port nobody listens on now.
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Wait (bounded, 10 s) until something accepts on 127.0.0.1:$1.
wait_port() {
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        read -r -t 0.05 < /dev/zero 2>/dev/null || true
    done
    return 1
}
