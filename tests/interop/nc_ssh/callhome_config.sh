#!/usr/bin/env bash
# Call home (RFC 8071) configured in running (issue 17): ietf-netconf-server
# call-home/netconf-client entries added by edit-config over TLS make the
# running daemon dial `mamori nc --call-home-listen` without a restart;
# removing an entry ends its connection and stops the dialing.
#   1. TLS netconf-client with two endpoints, the first dead: the reconnect
#      strategy (max-attempts 2) tries it twice, with growing delays, then
#      moves on to the second, where the listener gets the session.
#   2. SSH netconf-client whose own client-authentication users admit a key
#      that the listen endpoints do not: the call-home session logs in with it.
#   3. Persistent: after a session ends the daemon dials again; delete the
#      entry while that session is open: it ends, and no call comes any more.
#   usage: callhome_config.sh PATH/TO/mamori PATH/TO/mamori-netconfd
# SPDX-License-Identifier: Apache-2.0
set -u
MAMORI=${1:?usage: callhome_config.sh mamori mamori-netconfd}
NETCONFD=${2:?usage: callhome_config.sh mamori mamori-netconfd}
HERE=$(dirname "$0")
. "$HERE/lib.sh"
[ -n "${MM_SOURCE_ROOT:-}" ] || fail "MM_SOURCE_ROOT not set (run through meson test)"
ssh_setup chcfg
CH_TLS=$(free_port)
CH_SSH=$(free_port)
DEAD=$(free_port) # nobody listens there
# A bootstrap --call-home client (dead) as well: running's clients are dialed
# besides it (they were once written past it and never dialed).
NO_BOOTSTRAP_KEYS=1 ssh_start_daemon --call-home-retry-ms 100 --call-home "tls:127.0.0.1:$DEAD"
NCS='urn:ietf:params:xml:ns:yang:ietf-netconf-server'
CT='urn:ietf:params:xml:ns:yang:ietf-crypto-types'
NCB='urn:ietf:params:xml:ns:netconf:base:1.0'

# The listen endpoint's TLS server parameters (PKI identity, CA, cert-to-name),
# reused for the call-home endpoint: the transport serves both with the same identity.
nc_tls_admin get-config --filter "<netconf-server xmlns=\"$NCS\"/>" >"$TMP/ncs.xml" ||
  fail "get-config over TLS"
TLS_PARAMS=$(python3 -c '
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"<tls-server-parameters>.*?</tls-server-parameters>", t, re.S)
n = re.search(r"<netconf-server-parameters>.*?</netconf-server-parameters>", t, re.S)
print(m.group(0) + (n.group(0) if n else ""))' "$TMP/ncs.xml") || fail "no tls-server-parameters"

# listen PORT LOG TRANSPORT ARGS...: `mamori nc --call-home-listen` in the
# background; returns once it is listening (its -v line), pid in LPID.
listen() {
  local port=$1 log=$2 tr=$3
  shift 3
  : >"$log.err"
  if [ "$tr" = tls ]; then
    MM_PKI_DIR="$TMP/pki" "$MAMORI" nc --transport tls --host localhost -v \
      --call-home-listen "$port" --rpc-timeout "${LISTEN_S:-30}" "$@" >"$log" 2>"$log.err" &
  else
    "$MAMORI" nc --transport ssh --host 127.0.0.1 -v --call-home-listen "$port" \
      --host-key-fingerprint "$FP" --rpc-timeout "${LISTEN_S:-30}" "$@" >"$log" 2>"$log.err" &
  fi
  LPID=$!
  for _ in $(seq 1 100); do
    grep -q 'waiting for a call home' "$log.err" && return 0
    kill -0 "$LPID" 2>/dev/null || break
    sleep 0.1
  done
  fail "call-home listener on $port did not start: $(cat "$log.err")"
}
# wait_pid PID: bounded wait for a background client to end; its status.
wait_pid() {
  for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && return 99
  wait "$1"
}

# 1. TLS: endpoint "dead" first, "live" second; max-attempts 2, max-wait 2 s.
listen "$CH_TLS" "$TMP/t1" tls hello
cat >"$TMP/add-tls.xml" <<XML
<netconf-server xmlns="$NCS"><call-home><netconf-client><name>nms</name><endpoints>
<endpoint><name>dead</name><tls><tcp-client-parameters><remote-address>127.0.0.1</remote-address>
<remote-port>$DEAD</remote-port></tcp-client-parameters>$TLS_PARAMS</tls></endpoint>
<endpoint><name>live</name><tls><tcp-client-parameters><remote-address>127.0.0.1</remote-address>
<remote-port>$CH_TLS</remote-port></tcp-client-parameters>$TLS_PARAMS</tls></endpoint>
</endpoints><connection-type><persistent/></connection-type>
<reconnect-strategy><max-wait>2</max-wait><max-attempts>2</max-attempts></reconnect-strategy>
</netconf-client></call-home></netconf-server>
XML
nc_tls_admin edit-config --target running --config "$TMP/add-tls.xml" >"$TMP/add.out" 2>&1 ||
  fail "edit-config (call-home tls): $(cat "$TMP/add.out")"
wait_pid "$LPID" || fail "TLS call home not received: $(cat "$TMP/t1.err")"
grep -q '^session-id: [1-9]' "$TMP/t1" || fail "TLS call home: no session"
grep -q "event=netconfd-callhome name=nms result=added endpoints=2 type=persistent" \
  "$TMP/daemon.log" || fail "netconf-client nms not added from running"
# Before the first connection: exactly max-attempts failures on "dead".
awk '/result=connected .*name=nms /{exit} {print}' "$TMP/daemon.log" >"$TMP/first-round"
[ "$(grep -c "client=127.0.0.1:$DEAD transport=tls result=retry .*name=nms endpoint=dead" \
  "$TMP/first-round")" = 2 ] || fail "endpoint dead not tried exactly max-attempts (2) times"
grep "name=nms endpoint=dead" "$TMP/daemon.log" | grep -q 'retry_ms=200' ||
  fail "no growing delay between attempts"
grep -q "client=127.0.0.1:$CH_TLS transport=tls result=connected .*name=nms endpoint=live" \
  "$TMP/daemon.log" || fail "no connection to endpoint live"
ok "TLS call home from running: dead endpoint tried twice, then live one called"

# 2. SSH netconf-client with its own user: admin with the stranger key.
listen "$CH_SSH" "$TMP/s1" ssh --user admin --key "$TMP/stranger" get-config --source running
cat >"$TMP/add-ssh.xml" <<XML
<netconf-server xmlns="$NCS"><call-home><netconf-client><name>nms-ssh</name><endpoints>
<endpoint><name>a</name><ssh><tcp-client-parameters><remote-address>127.0.0.1</remote-address>
<remote-port>$CH_SSH</remote-port></tcp-client-parameters>
<ssh-server-parameters><server-identity><host-key><name>ed25519</name><public-key>
<inline-definition><public-key-format xmlns:ct="$CT">ct:ssh-public-key-format</public-key-format>
<public-key>$HOSTKEY_B64</public-key><hidden-private-key/></inline-definition></public-key>
</host-key></server-identity><client-authentication><users><user><name>admin</name>
<public-keys><inline-definition><public-key><name>k</name>
<public-key-format xmlns:ct="$CT">ct:ssh-public-key-format</public-key-format>
<public-key>$(cut -d' ' -f2 "$TMP/stranger.pub")</public-key></public-key></inline-definition>
</public-keys></user></users></client-authentication></ssh-server-parameters></ssh></endpoint>
</endpoints><connection-type><persistent/></connection-type></netconf-client></call-home>
</netconf-server>
XML
nc_tls_admin edit-config --target running --config "$TMP/add-ssh.xml" >"$TMP/add2.out" 2>&1 ||
  fail "edit-config (call-home ssh): $(cat "$TMP/add2.out")"
wait_pid "$LPID" || fail "SSH call home not served: $(cat "$TMP/s1.err")"
grep -q '<nacm' "$TMP/s1" || fail "SSH call home: no data"
grep -q 'event=nc-session-start .*user=admin transport=netconf-ssh' "$TMP/daemon.log" ||
  fail "no SSH call-home session as admin"
# That key belongs to nms-ssh only: the listen endpoint does not take it.
"$MAMORI" nc --transport ssh --host 127.0.0.1 --port "$PORT" --host-key-fingerprint "$FP" \
  --user admin --key "$TMP/stranger" hello >/dev/null 2>&1 &&
  fail "a call-home client's user logged in on the listen endpoint"
ok "SSH call home from running, authenticated by the netconf-client's own users"

# 3. Persistent: the daemon calls again; remove nms while that session is open.
BEFORE=$(grep -c "result=connected .*name=nms endpoint=live" "$TMP/daemon.log")
listen "$CH_TLS" "$TMP/t2" tls subscribe --duration 60
for _ in $(seq 1 300); do
  [ "$(grep -c "result=connected .*name=nms endpoint=live" "$TMP/daemon.log")" -gt "$BEFORE" ] &&
    grep -q 'event=nc-session-start .*transport=netconf-tls' <(tail -5 "$TMP/daemon.log") && break
  sleep 0.1
done
[ "$(grep -c "result=connected .*name=nms endpoint=live" "$TMP/daemon.log")" -gt "$BEFORE" ] ||
  fail "no second call after the first session ended (persistent)"
HELD=$LPID
cat >"$TMP/del.xml" <<XML
<netconf-server xmlns="$NCS"><call-home><netconf-client xmlns:nc="$NCB" nc:operation="delete">
<name>nms</name></netconf-client></call-home></netconf-server>
XML
nc_tls_admin edit-config --target running --config "$TMP/del.xml" >"$TMP/del.out" 2>&1 ||
  fail "delete netconf-client: $(cat "$TMP/del.out")"
wait_log "event=netconfd-callhome name=nms result=removed connected=yes" ||
  fail "removal not applied"
wait_pid "$HELD"
[ $? = 99 ] && fail "call-home session of the removed client still open"
ok "removing the netconf-client ended its open session"
CONNECTS=$(grep -c "result=connected .*name=nms " "$TMP/daemon.log")
# Dialing has stopped: a listener gets nothing within 3 s (the daemon was
# calling within 100 ms before), and the daemon logs no attempt for nms.
LISTEN_S=3 listen "$CH_TLS" "$TMP/t3" tls hello
wait_pid "$LPID" && fail "the removed client was called again"
grep -q 'no call home within 3 s' "$TMP/t3.err" || fail "listener: $(cat "$TMP/t3.err")"
[ "$(grep -c "result=connected .*name=nms " "$TMP/daemon.log")" = "$CONNECTS" ] ||
  fail "daemon connected to the removed client"
grep -q "event=netconfd-callhome name=nms-ssh result=removed" "$TMP/daemon.log" &&
  fail "an unrelated netconf-client was disturbed"
ok "removed netconf-client is no longer called"
kill -0 "$DAEMON_PID" || fail "daemon died"
echo PASS
