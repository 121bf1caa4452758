#!/bin/bash
# Coalesced RFC 2136 pushes to a real Knot DNS (push.c, ddnsd.c): changes
# queued behind the head of the push queue go out as one UPDATE message per
# batch, each name with only its final state. Counts, not timings:
#  1. Knot down, 500 updates of 50 names acknowledged through the HTTPS API
#     (all queued durably); Knot up: every name answers its last address and
#     the number of UPDATE messages Knot answered (ddnsd's log counter) is a
#     handful, not 500.
#  2. Knot up, the same load again while it serves: final state answered.
#  3. A batch holding a name Knot refuses (an owner outside the update ACL): the
#     coalesced message is refused as a whole, ddnsd splits it, the other
#     names' changes are applied and the refused one is logged alone.
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"
need_prog curl
need_prog python3

ZONE=co.example.test
knot_prepare "$ZONE" "$(cat <<ACL
  # Updates only of the names h0..h49: a message touching any other owner
  # (blocked.$ZONE) is refused as a whole.
    update-owner: name
    update-owner-match: equal
    update-owner-name: [$(seq -s, -f "h%g.$ZONE." 0 49)]
ACL
)"
# all_served ROUND: every name hI answers the address of its last update in that round
all_served() {
    local i want got
    for i in $(seq 0 49); do
        want=$(last_addr "$1" "$i")
        got=$(kdig @127.0.0.1 -p "$KPORT" +short +timeout=1 +retry=0 "h$i.$ZONE" A)
        [ "$got" = "$want" ] || { echo "h$i: got '$got' want '$want'" >"$TMP/served.txt"; return 1; }
    done
}
# Update k (0..9) of name i in round r sets A 203.0.113.X, X distinct per (r, k).
addr() { echo "203.0.$((100 + $1)).$((10 * $3 + $2 + 1))"; }
last_addr() { addr "$1" "$2" 9; }
# load ROUND: 500 updates (10 per name, names interleaved), one keep-alive connection.
load() {
    local cfg="$TMP/load$1.cfg" k i
    : >"$cfg"
    for k in $(seq 0 9); do
        for i in $(seq 0 49); do
            printf 'next\ncacert = "%s"\nurl = "%s/update"\n-X POST\n-H "Authorization: Bearer %s"\n-H "Content-Type: application/json"\ndata = "{\\"hostname\\":\\"h%s.%s\\",\\"ipv4\\":\\"%s\\"}"\n-o /dev/null\n-w "%%{http_code}\\n"\n' \
                "$CA" "$B" "$T" "$i" "$ZONE" "$(addr "$1" "$i" "$k")" >>"$cfg"
        done
    done
    sed -i '1d' "$cfg" # no "next" before the first
    curl -sS -K "$cfg" >"$TMP/load$1.codes" 2>"$TMP/load$1.err"
    [ "$(grep -c '^200$' "$TMP/load$1.codes")" = 500 ] \
        || fail "round $1: not 500 acknowledged: $(sort "$TMP/load$1.codes" | uniq -c | tr '\n' ' ') $(sort -u "$TMP/load$1.err" | head -5)"
}
messages() { grep -c 'event=ddnsd-push-sent' "$DLOG"; }
drained() { curl -s --cacert "$CA" "$B/health" | grep -q '"dns_queue":0'; }

"$MAMORI" ddns admin zone-add --state-dir "$STATE" --zone "$ZONE" --server-ip 127.0.0.1 \
    --port "$KPORT" --key-name apertodns-key --key-secret "$SECRET" >/dev/null || fail "zone-add"
hosts=()
for i in $(seq 0 49); do hosts+=(--host "h$i.$ZONE"); done
T=$(seed_token "${hosts[@]}" --host "blocked.$ZONE" --scopes all)
start_ddnsd

# 1. Knot down while the 500 changes are acknowledged: all of them queued.
load 1
pending=$(curl -s --cacert "$CA" "$B/health" | sed -n 's/.*"dns_queue":\([0-9]*\).*/\1/p')
ok "round 1: 500 updates of 50 names acknowledged with Knot down ($pending queued)"
[ "$(messages)" = 0 ] || fail "UPDATEs answered with Knot down?"
start_knot
# Backoff is at most 30 s after the failed attempts: wait (bounded) for the drain.
for _ in 1 2 3 4; do wait_for drained && break; done
drained || fail "queue not drained after Knot came back"
all_served 1 || fail "round 1: $(cat "$TMP/served.txt")"
m1=$(messages)
ok "round 1: all 50 names answer their last address; $m1 UPDATE messages for 500 changes"
[ "$m1" -ge 1 ] && [ "$m1" -le 20 ] || fail "round 1: $m1 UPDATE messages, expected <= 20 (500 changes, 256 per message)"
# Each message holds at most the 50 names' final states (a delete+add each),
# however many changes of them it coalesced.
rr=$(grep 'event=ddnsd-push-sent' "$DLOG" | sed -n 's/.* rrs=\([0-9]*\).*/\1/p' | sort -n | tail -1)
[ "$rr" -le 100 ] || fail "round 1: a message with $rr RRs: superseded changes were not collapsed"
ok "round 1: superseded changes collapsed (at most $rr RRs per message for 50 names)"

# 2. Knot serving while the load arrives.
load 2
wait_for drained || fail "round 2: queue not drained"
all_served 2 || fail "round 2: $(cat "$TMP/served.txt")"
m2=$(($(messages) - m1))
ok "round 2 (Knot up): all 50 names answer their last address; $m2 UPDATE messages for 500 changes"

# 3. A refused name inside a coalesced message does not cost the others.
stop_knot
r=$(api POST /update "{\"hostname\":\"h1.$ZONE\",\"ipv4\":\"198.51.100.1\"}")
[ "${r%% *}" = 200 ] || fail "update h1: $r"
r=$(api POST /update "{\"hostname\":\"blocked.$ZONE\",\"ipv4\":\"198.51.100.66\"}")
[ "${r%% *}" = 200 ] || fail "update blocked: $r"
r=$(api POST /update "{\"hostname\":\"h2.$ZONE\",\"ipv4\":\"198.51.100.2\"}")
[ "${r%% *}" = 200 ] || fail "update h2: $r"
start_knot
for _ in 1 2 3 4; do wait_for drained && break; done
drained || fail "round 3: queue not drained"
[ "$(kdig @127.0.0.1 -p "$KPORT" +short "h1.$ZONE" A)" = 198.51.100.1 ] || fail "h1 lost with the refused name"
[ "$(kdig @127.0.0.1 -p "$KPORT" +short "h2.$ZONE" A)" = 198.51.100.2 ] || fail "h2 lost with the refused name"
[ -z "$(kdig @127.0.0.1 -p "$KPORT" +short "blocked.$ZONE" A)" ] || fail "Knot accepted the denied owner"
grep -q 'event=ddnsd-push-split zone=.* changes=3' "$DLOG" || fail "the refused coalesced message was not split"
grep -q "event=ddnsd-push-refused zone=$ZONE name=blocked.$ZONE" "$DLOG" || fail "refused name not logged alone"
[ "$(grep -c 'event=ddnsd-push-refused' "$DLOG")" = 1 ] || fail "more than the one name refused"
ok "refused coalesced UPDATE split: h1 and h2 applied, blocked.$ZONE refused and logged alone"
