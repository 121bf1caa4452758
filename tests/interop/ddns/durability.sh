#!/bin/bash
# kill -9 loses no acknowledged update: a client updates in a loop and logs
# every update the server acknowledged (HTTP 200); the daemon is killed with
# SIGKILL mid-stream and restarted; the stored state must hold the last
# acknowledged update (or the one in flight), and its audit record must exist.
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"
need_prog curl
need_prog python3

T=$(seed_token)
start_ddnsd

# Each update has a distinct TTL, so every one changes the record.
(
    for i in $(seq 1 2000); do
        code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -X POST "$B/update" \
            -H "Authorization: Bearer $T" -H 'Content-Type: application/json' \
            -d "{\"hostname\":\"$HOST\",\"ipv4\":\"203.0.113.$((i % 250 + 1))\",\"ttl\":$((60 + i))}")
        [ "$code" = 200 ] || exit 0
        echo "$i" >> "$TMP/acked"
    done
) &
LOOP=$!
PIDS="$PIDS $LOOP"
enough() { [ "$(wc -l < "$TMP/acked" 2>/dev/null || echo 0)" -ge 40 ]; }
wait_for enough || wait_for enough || fail "the client did not get 40 updates acknowledged"
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
wait "$LOOP"
last=$(tail -n 1 "$TMP/acked")
n=$(wc -l < "$TMP/acked")
ok "killed with SIGKILL after $n acknowledged updates (last i=$last)"

start_ddnsd
r=$(api GET /status/$HOST)
ttl=$(jget "${r#* }" data.ttl)
ip=$(jget "${r#* }" data.ipv4)
count=$(jget "${r#* }" data.update_count_total)
want_ttl=$((60 + last))
# The request in flight at the kill may have committed without its reply arriving.
if [ "$ttl" != "$want_ttl" ] && [ "$ttl" != "$((want_ttl + 1))" ]; then
    fail "after restart ttl=$ttl, last acknowledged ttl=$want_ttl"
fi
[ "$ip" = "203.0.113.$(( (ttl - 60) % 250 + 1 ))" ] || fail "ipv4 $ip does not match ttl $ttl"
[ "$count" -ge "$n" ] || fail "update_count_total $count < $n acknowledged"
ok "state after restart: ttl=$ttl ipv4=$ip updates=$count (>= $n acknowledged)"
grep -q "ttl=$want_ttl\"" "$STATE/audit.log" || grep -q "ttl=$want_ttl" "$STATE/audit.log" \
    || fail "no audit record of the last acknowledged update"
ok "audit record of the last acknowledged update present"
