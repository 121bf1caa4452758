#!/bin/bash
# classic_peer.sh - mamori's QUIC client (OpenSSL backend, hybrid groups
# first) against a classical QUIC server of another stack: Debian's
# gtlsserver (ngtcp2's example server on GnuTLS 3.7, package ngtcp2-server),
# which knows no post-quantum group. The client's first key share
# (X25519SCloud+128) is unknown there, so the handshake must go through a
# HelloRetryRequest to a classical group and still verify the server.
# ALPN h3: the token gtlsserver speaks (mamori tls probe --alpn).
#
# SPDX-License-Identifier: Apache-2.0
set -u
. "$MM_SOURCE_ROOT/tests/interop/provider/lib.sh"

MAMORI=${MM_BUILD_ROOT:?MM_BUILD_ROOT not set}/src/cli/mamori
[ -x "$MAMORI" ] || fail "mamori not built at $MAMORI"
if ! GTLS=$(PATH="$PATH:/usr/sbin:/sbin" command -v gtlsserver); then
    why="gtlsserver (package ngtcp2-server, bookworm-backports; scripts/bootstrap) is not installed"
    [ "${CI:-}" = true ] && fail "$why"
    skip "$why"
fi

"$MAMORI" pki init --dir "$TMP/pki" >/dev/null || fail "mamori pki init"
P=$TMP/pki
PORT=$(free_port)
(cd "$TMP" && exec "$GTLS" -q 127.0.0.1 "$PORT" "$P/server.key" "$P/server.crt") \
    >"$TMP/gtls.log" 2>&1 &
PIDS="$PIDS $!"

# probe GROUPS OUT: one QUIC handshake; the server may still be starting, so
# try a bounded number of times (each try bounded by --timeout).
probe() {
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        "$MAMORI" tls probe --quic "127.0.0.1:$PORT" --servername localhost --alpn h3 \
            --ca "$P/ca.crt" --timeout 2 ${1:+--groups "$1"} >"$2" 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

probe "" "$TMP/default.out" || fail "default groups against gtlsserver: $(cat "$TMP/default.out")"
grep -q "^group: *x25519$" "$TMP/default.out" ||
    fail "default groups: want x25519 after HRR, got $(grep group "$TMP/default.out")"
grep -q "^verified: *yes" "$TMP/default.out" || fail "server not verified"
echo "ok - hybrid-first client -> HelloRetryRequest -> x25519 with a GnuTLS QUIC server"

probe "X25519MLKEM768:P-256" "$TMP/mlkem.out" || fail "ML-KEM first: $(cat "$TMP/mlkem.out")"
grep -q "^group: *secp256r1$" "$TMP/mlkem.out" ||
    fail "ML-KEM first: want secp256r1 after HRR, got $(grep group "$TMP/mlkem.out")"
echo "ok - X25519MLKEM768-first client -> HelloRetryRequest -> secp256r1"

# No classical fallback offered: no common group, the handshake fails cleanly.
if "$MAMORI" tls probe --quic "127.0.0.1:$PORT" --servername localhost --alpn h3 \
    --ca "$P/ca.crt" --timeout 2 --groups X25519SCloud+128 >"$TMP/none.out" 2>&1; then
    fail "a hybrid-only client connected to a classical server: $(grep group "$TMP/none.out")"
fi
echo "ok - hybrid-only client refused by the classical server"
echo "all classic-peer cases passed"
