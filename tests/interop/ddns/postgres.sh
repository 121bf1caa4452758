#!/bin/bash
# Two mamori-ddnsd instances share one PostgreSQL store (a real server from
# Debian's postgresql: initdb in a temp dir, unprivileged loopback port):
# every update made through one is seen through the other, concurrent
# updates through both are all counted, and admin changes reach both.
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"
need_prog curl
need_prog python3
. "$MM_SOURCE_ROOT/tests/lib/pg.sh"
mm_pg_find
[ -n "$PGBIN" ] || skip "PostgreSQL server binaries not installed"
EXTRA_CLEANUP=mm_pg_stop
mm_pg_init "$TMP/pg" || fail "initdb: $(tail -3 "$TMP/pg/initdb.out")"
mm_pg_start || fail "postgres did not start"
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U mamori ddns || fail "createdb"
URI=$(mm_pg_uri ddns)
ok "PostgreSQL up on 127.0.0.1:$PGPORT"

STATE="$TMP/a"
T=$(seed_token --store "$URI" --host "$HOST" --scopes all)
start_ddnsd --store "$URI"
A_B=$B; A_PID=$DPID
# Instance B: its own state dir (audit log, PKI copy), the same token key and store.
mkdir -p "$TMP/b" && chmod 700 "$TMP/b"
cp -p "$TMP/a/token.key" "$TMP/b/token.key"
cp -rp "$TMP/a/pki" "$TMP/b/pki"
STATE="$TMP/b"; unset PORT
start_ddnsd --store "$URI"
B_B=$B
ok "two ddnsd instances on one store: $A_B and $B_B"

via() { # via BASE METHOD PATH [BODY]
    local base=$1; shift
    B=$base api "$@"
}
for i in $(seq 1 10); do
    if [ $((i % 2)) = 1 ]; then w=$A_B; o=$B_B; else w=$B_B; o=$A_B; fi
    r=$(via "$w" POST /update "{\"hostname\":\"$HOST\",\"ipv4\":\"203.0.113.$i\",\"ttl\":$((60 + i))}")
    [ "${r%% *}" = 200 ] || fail "update $i: $r"
    r=$(via "$o" GET /status/$HOST)
    [ "$(jget "${r#* }" data.ipv4)" = "203.0.113.$i" ] || fail "update $i not seen by the other instance: $r"
    [ "$(jget "${r#* }" data.ttl)" = $((60 + i)) ] || fail "ttl of update $i: $r"
done
ok "10 alternating updates, each seen at once by the other instance"

r=$(via "$A_B" GET /status/$HOST)
before=$(jget "${r#* }" data.update_count_total)
for i in $(seq 1 20); do
    via "$A_B" POST /update "{\"hostname\":\"$HOST\",\"ttl\":$((100 + i))}" > "$TMP/ca$i" &
    via "$B_B" POST /update "{\"hostname\":\"$HOST\",\"ttl\":$((200 + i))}" > "$TMP/cb$i" &
done
wait_all() { for f in "$TMP"/ca* "$TMP"/cb*; do grep -q '^[0-9][0-9][0-9] ' "$f" || return 1; done; }
wait_for wait_all || fail "concurrent updates did not all answer"
n200=$(grep -l '^200 ' "$TMP"/ca* "$TMP"/cb* | wc -l)
[ "$n200" = 40 ] || fail "only $n200 of 40 concurrent updates acknowledged: $(head -c 300 "$TMP"/ca1 "$TMP"/cb1)"
r=$(via "$B_B" GET /status/$HOST)
after=$(jget "${r#* }" data.update_count_total)
[ $((after - before)) = 40 ] || fail "40 concurrent updates counted as $((after - before))"
ok "40 concurrent updates through both instances: all acknowledged, all counted"

# Admin changes on the shared store reach both instances.
"$MAMORI" ddns admin host-add --state-dir "$TMP/a" --store "$URI" --host second.example.net >/dev/null \
    || fail "host-add"
T2=$(seed_token --store "$URI" --host second.example.net --scopes all)
T_SAVE=$T; T=$T2
r=$(via "$B_B" POST /update '{"hostname":"second.example.net","ipv6":"2001:db8::2"}')
[ "${r%% *}" = 200 ] || fail "token created through the store not accepted by B: $r"
r=$(via "$A_B" GET /domains)
case "$r" in *second.example.net*2001:db8::2*) ;; *) fail "A does not list B's change: $r" ;; esac
T=$T_SAVE
ok "admin token and host reach both instances"
"$MAMORI" ddns admin token-revoke --state-dir "$TMP/a" --store "$URI" --id 2 >/dev/null || fail "revoke"
T=$T2
r=$(via "$A_B" GET /domains)
[ "${r%% *}" = 401 ] || fail "revoked token still accepted: $r"
ok "revocation is effective on both at once"
