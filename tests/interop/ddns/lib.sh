# lib.sh - helpers of the ddns interop tests (sourced, not run).
#
# Starts mamori-ddnsd in test mode on a free loopback port with a state
# directory in a temp dir, and seeds a token exactly as the issue/docs say:
#   mamori ddns admin token-create --state-dir DIR --host H --scopes all
#
# SPDX-License-Identifier: Apache-2.0

SKIP=77
PIDS=""
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mm-ddns.XXXXXX")
MAMORI="$MM_BUILD_ROOT/src/cli/mamori"
DDNSD="$MM_BUILD_ROOT/src/ddns/daemon/mamori-ddnsd"
STATE="$TMP/state"
HOST=home.example.net

cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    # a peer started through a wrapper (runuser) is stopped by the test's own hook
    if [ -n "${EXTRA_CLEANUP:-}" ]; then eval "$EXTRA_CLEANUP"; fi
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; for f in "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; } >&2; done; exit 1; }
ok() { echo "ok: $*"; }

# A missing peer skips locally but fails in CI.
skip() {
    if [ "${CI:-}" = true ]; then fail "peer missing in CI: $*"; fi
    echo "SKIP: $*" >&2
    exit $SKIP
}
need_prog() { command -v "$1" >/dev/null 2>&1 || skip "$1 not found in PATH"; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for CMD...: until CMD succeeds (10 s, polled).
wait_for() {
    for _ in $(seq 1 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
    return 1
}

# seed_token [ARGS...]: create a token (all scopes for $HOST unless ARGS), print it.
seed_token() {
    local out
    if [ $# -eq 0 ]; then set -- --host "$HOST" --scopes all; fi
    out=$("$MAMORI" ddns admin token-create --state-dir "$STATE" --env test "$@") || fail "token-create"
    printf '%s\n' "$out" | tail -n 1
}

# start_ddnsd [EXTRA ARGS]: start the daemon, sets DPID, PORT, S, B, CA.
start_ddnsd() {
    PORT=${PORT:-$(free_port)}
    STARTS=$((${STARTS:-0} + 1))
    DLOG="$TMP/ddnsd$STARTS.log"
    "$DDNSD" --state-dir "$STATE" --listen "127.0.0.1:$PORT" --test-mode "$@" \
        >"$DLOG" 2>&1 &
    DPID=$!
    PIDS="$PIDS $DPID"
    grep_ready() { grep -q "event=ddnsd-ready port=$PORT" "$DLOG"; }
    wait_for grep_ready || fail "ddnsd did not start"
    S="https://127.0.0.1:$PORT"
    B="$S/.well-known/apertodns/v1"
    CA="$STATE/pki/ca.crt"
    export S B CA
}

stop_ddnsd() {
    kill "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
}

# jget JSON PATH: a value from JSON (python3 stands in for jq, which CI may lack).
jget() {
    python3 -c 'import json,sys
v=json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k) if isinstance(v, dict) else None
print("null" if v is None else (str(v).lower() if isinstance(v, bool) else v))' "$1" "$2"
}

# api METHOD PATH [BODY]: curl with the token; prints "STATUS BODY".
api() {
    local m=$1 p=$2 d=${3:-} bf
    bf=$(mktemp "$TMP/body.XXXXXX") # concurrent calls must not share it
    if [ -n "$d" ]; then
        curl -s --cacert "$CA" -o "$bf" -w '%{http_code}' -X "$m" "$B$p" \
            -H "Authorization: Bearer $T" -H 'Content-Type: application/json' -d "$d"
    else
        curl -s --cacert "$CA" -o "$bf" -w '%{http_code}' -X "$m" "$B$p" \
            -H "Authorization: Bearer $T"
    fi
    printf ' '
    cat "$bf"
    rm -f "$bf"
}

# ------------------------------------------------------------ Knot DNS
# knot_prepare ZONE [ACL-LINES]: a Knot config and zone in $TMP/knot (loopback
# port KPORT, TSIG key apertodns-key with SECRET, update ACL for A/AAAA/TXT
# plus ACL-LINES); skips without knotd/kdig. Then start_knot / stop_knot.
knot_prepare() {
    KNOTD=$(command -v knotd || echo /usr/sbin/knotd)
    [ -x "$KNOTD" ] || skip "knotd not installed (Debian package knot)"
    need_prog kdig
    KZONE=$1
    KPORT=$(free_port)
    SECRET=$(head -c 32 /dev/urandom | base64)
    K="$TMP/knot"
    mkdir -p "$K/run" "$K/storage"
    # zonefile-sync 0 writes every change back to the zone file at once: with
    # -1 and zonefile-load difference-no-serial, Knot 3.2 re-applies the zone
    # file on restart and the dynamic changes are gone (seen here).
    cat > "$K/knot.conf" <<CONF
server:
    rundir: "$K/run"
    listen: 127.0.0.1@$KPORT
log:
  - target: stderr
    any: info
key:
  - id: apertodns-key
    algorithm: hmac-sha256
    secret: $SECRET
acl:
  - id: apertodns-update
    key: apertodns-key
    action: update
    update-type: [A, AAAA, TXT]
${2:-}
template:
  - id: default
    storage: "$K/storage"
    zonefile-sync: 0
database:
    storage: "$K/storage"
zone:
  - domain: $KZONE
    acl: apertodns-update
CONF
    cat > "$K/storage/$KZONE.zone" <<ZF
\$ORIGIN $KZONE.
\$TTL 60
@   SOA ns1 hostmaster 1 3600 600 86400 60
@   NS  ns1
ns1 A   192.0.2.53
ZF
}
start_knot() {
    "$KNOTD" -c "$K/knot.conf" >>"$TMP/knot.log" 2>&1 &
    KPID=$!
    PIDS="$PIDS $KPID"
    knot_soa() { kdig @127.0.0.1 -p "$KPORT" +short +timeout=1 +retry=0 "$KZONE" SOA | grep -q hostmaster; }
    wait_for knot_soa || fail "knotd did not answer"
}
stop_knot() { kill "$KPID"; wait "$KPID" 2>/dev/null; }
# dig_is NAME TYPE EXPECTED: the answer at 127.0.0.1@KPORT (sorted, space-separated).
dig_is() {
    local got
    got=$(kdig @127.0.0.1 -p "$KPORT" +short +timeout=1 +retry=0 "$1" "$2" | sort | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$3" ]
}
