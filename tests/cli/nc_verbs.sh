#!/usr/bin/env bash
# Issue 10 #15: `mamori nc` against a real mamori-netconfd.
#  - `rpc` prints (and --json carries) the replies of get-schema (text in
#    ietf-netconf-monitoring's <data>), partial-lock (<lock-id>) and get-data
#    (ietf-netconf-nmda's <data>); before, it printed nothing for them;
#  - the verbs get-schema, copy-config, delete-config, partial-lock, get-data;
#  - --with-defaults is documented and works;
#  - the daemon's default listen addresses are both loopbacks, so the connect
#    hint `mamori up` prints (--host localhost) works whether localhost is
#    127.0.0.1 or ::1;
#  - docs/mamori-up.md names only options mamori-netconfd has.
# usage: nc_verbs.sh MAMORI NETCONFD
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
MAMORI=$(realpath "${1:?path of the mamori binary}")
NETCONFD=$(realpath "${2:?path of mamori-netconfd}")
DOCS="${MM_SOURCE_ROOT:-$(dirname "$0")/../..}/docs"

"$MAMORI" pki init --dir "$TMP/pki" > /dev/null || fail "pki init"
# Default addresses (no --address), a free port tried until one binds.
for _ in 1 2 3 4 5; do
  PORT=$(( 20000 + RANDOM % 30000 ))
  rm -rf "$TMP/state"
  "$NETCONFD" --state-dir "$TMP/state" --pki-dir "$TMP/pki" --port "$PORT" > "$TMP/d.log" 2>&1 &
  DPID=$!
  PIDS+=("$DPID")
  wait_for 10 grep -q "event=netconfd-ready" "$TMP/d.log" && break
  kill "$DPID" 2>/dev/null
done
grep -q "event=netconfd-ready" "$TMP/d.log" || fail "daemon did not start: $(cat "$TMP/d.log")"
nc() {
  local host=$1; shift
  "$MAMORI" nc --host "$host" --port "$PORT" --ca "$TMP/pki/ca.crt" --cert "$TMP/pki/client.crt" \
    --key "$TMP/pki/client.key" --server-name localhost --rpc-timeout 10 "$@"
}

# Both loopbacks serve (the connect hint uses localhost).
nc 127.0.0.1 hello > /dev/null || fail "not listening on 127.0.0.1 by default"
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; then
  nc ::1 hello > /dev/null || fail "not listening on ::1 by default"
  ok "default listen on 127.0.0.1 and ::1"
else
  ok "default listen on 127.0.0.1 (this host has no ::1)"
fi
nc localhost hello > /dev/null || fail "the connect hint's --host localhost does not work"

# rpc prints the replies it used to drop.
NM='urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring'
echo "<get-schema xmlns=\"$NM\"><identifier>ietf-netconf-acm</identifier></get-schema>" > "$TMP/gs.xml"
nc localhost rpc --file "$TMP/gs.xml" > "$TMP/gs.out" || fail "rpc get-schema"
grep -q '^module ietf-netconf-acm' "$TMP/gs.out" || fail "rpc get-schema printed no module"
nc localhost rpc --file "$TMP/gs.xml" --json |
  python3 -c 'import json,sys; assert "module ietf-netconf-acm" in json.load(sys.stdin)["data"]' ||
  fail "rpc get-schema --json lacks the data"
PL='urn:ietf:params:xml:ns:netconf:partial-lock:1.0'
echo "<partial-lock xmlns=\"$PL\"><select xmlns:a=\"urn:ietf:params:xml:ns:yang:ietf-netconf-acm\">/a:nacm</select></partial-lock>" > "$TMP/pl.xml"
nc localhost rpc --file "$TMP/pl.xml" > "$TMP/pl.out" || fail "rpc partial-lock"
grep -q 'lock-id' "$TMP/pl.out" || fail "rpc partial-lock printed no lock-id: $(cat "$TMP/pl.out")"
nc localhost rpc --file "$TMP/pl.xml" --json |
  python3 -c 'import json,sys; assert "lock-id" in json.load(sys.stdin)["data"]' ||
  fail "rpc partial-lock --json lacks the lock-id"
echo '<get-data xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-nmda" xmlns:ds="urn:ietf:params:xml:ns:yang:ietf-datastores"><datastore>ds:running</datastore></get-data>' > "$TMP/gd.xml"
nc localhost rpc --file "$TMP/gd.xml" > "$TMP/gd.out" || fail "rpc get-data"
grep -q '<nacm' "$TMP/gd.out" || fail "rpc get-data printed no data"
ok "rpc prints get-schema, partial-lock and get-data replies (and --json)"

# The verbs.
nc localhost get-schema --identifier ietf-netconf-acm | grep -q '^module ietf-netconf-acm' ||
  fail "get-schema verb"
nc localhost get-data --datastore running --xpath /a:nacm \
  --ns a=urn:ietf:params:xml:ns:yang:ietf-netconf-acm | grep -q '<nacm' || fail "get-data verb"
nc localhost get-data --datastore running --max-depth 1 > /dev/null || fail "get-data --max-depth"
nc localhost partial-lock --select /a:nacm --ns a=urn:ietf:params:xml:ns:yang:ietf-netconf-acm |
  grep -q 'locked-node' || fail "partial-lock verb"
nc localhost copy-config --target startup --source running | grep -q '^ok' || fail "copy-config"
nc localhost delete-config --target startup | grep -q '^ok' || fail "delete-config"
nc localhost get-config --source startup > "$TMP/st.out" || fail "get-config startup"
grep -q '<nacm' "$TMP/st.out" && fail "startup still has data after delete-config"
nc localhost delete-config --target running 2> /dev/null
[ $? = 2 ] || fail "delete-config --target running: expected a usage error"
ok "get-schema, get-data, partial-lock, copy-config, delete-config"

# --with-defaults: documented and sent.
"$MAMORI" nc get-config help | grep -q -- '--with-defaults' || fail "get-config help lacks --with-defaults"
"$MAMORI" nc get help | grep -q 'report-all-tagged' || fail "get help lacks the modes"
grep -q -- '--with-defaults' "$DOCS/nc.md" || fail "docs/nc.md lacks --with-defaults"
nc localhost get-config --with-defaults report-all > "$TMP/wd.out" || fail "--with-defaults report-all"
grep -q 'enable-nacm' "$TMP/wd.out" || fail "report-all did not report the defaults"
ok "--with-defaults"

# docs/mamori-up.md: every option in its configuration example exists.
for opt in $(sed -n '/"argument"/p' "$DOCS/mamori-up.md" | grep -o -- '--[a-z-]*'); do
  "$NETCONFD" --help | grep -q -- "  $opt " || fail "docs/mamori-up.md: mamori-netconfd has no $opt"
done
grep -qi 'commented' "$DOCS/mamori-up.md" && fail "docs/mamori-up.md still calls etc/mamori.json commented"
ok "docs/mamori-up.md options exist"
echo PASS
