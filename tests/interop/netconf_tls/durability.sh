#!/usr/bin/env bash
# An edit-config acknowledged with <ok/> survives kill -9 of the daemon.
# usage: durability.sh NETCONFD MAMORI
NETCONFD=${1:?usage: durability.sh NETCONFD MAMORI}
MAMORI=${2:?usage: durability.sh NETCONFD MAMORI}
MODULE_DIR=${MM_NC_TEST_YANG:?MM_NC_TEST_YANG not set}
. "$(dirname "$0")/lib.sh"
start_daemon
for i in 1 2 3; do
  printf '<top xmlns="urn:mamori:test:nc"><item><id>durable-%s</id><value>%s</value></item></top>\n' \
    "$i" "$i" > "$T/edit.xml"
  out=$(nc_admin edit-config --target running --config "$T/edit.xml") || fail "edit-config: $out"
  [ "$out" = "ok" ] || fail "edit-config answered: $out"
done
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
DPID=""
start_daemon
out=$(nc_admin get-config) || fail "get-config after restart: $out"
for i in 1 2 3; do
  grep -q "<id>durable-$i</id>" <<<"$out" || fail "edit durable-$i lost after kill -9"
done
finish
echo "PASS: 3 acknowledged edits survived kill -9"
