#!/usr/bin/env bash
# mamori up: starts daemons, restarts a crashing one with growing backoff,
# stops everything on SIGTERM; the default config stays up until stopped;
# a malformed config starts nothing. SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
MAMORI=$(realpath "${1:?path of the mamori binary}")

# --- 1. daemons, crash/restart with backoff, clean stop
cat > "$TMP/suite.json" <<JSON
{
  "mamori-suite:suite": {
    "state-dir": "$TMP/state",
    "restart": { "initial-backoff-ms": 100, "max-backoff-ms": 400, "stable-after-s": 30 },
    "daemon": [
      { "name": "sleeper", "program": "sleep", "argument": ["300"],
        "listen": "nowhere (test)", "connect-hint": "nothing to connect" },
      { "name": "crasher", "program": "sh", "argument": ["-c", "echo {state-dir} > $TMP/arg; exit 3"] },
      { "name": "off", "enabled": false, "program": "false" }
    ]
  }
}
JSON
"$MAMORI" up --config "$TMP/suite.json" > "$TMP/out" 2> "$TMP/log" &
SUP=$!; PIDS+=("$SUP")
wait_for 10 grep -q 'restarts=4' "$TMP/log" || { cat "$TMP/log"; fail "crasher was not restarted 4 times"; }
kill -0 "$SUP" || fail "supervisor exited"
grep -q 'nowhere (test)' "$TMP/out" || fail "banner lacks the listen line"
grep -q 'connect: nothing to connect' "$TMP/out" || fail "banner lacks the connect hint"
grep -q 'daemon-crashed name=crasher exit=3 .*restart_in_ms=100 restarts=1' "$TMP/log" || fail "first backoff not 100 ms"
grep -q 'restart_in_ms=200 restarts=2' "$TMP/log" || fail "backoff did not double"
grep -q 'restart_in_ms=400 restarts=4' "$TMP/log" || fail "backoff not capped at 400 ms"
grep -q 'name=off' "$TMP/log" && fail "a disabled daemon was started"
[ "$(cat "$TMP/arg")" = "$TMP/state" ] || fail "{state-dir} not substituted"
[ -f "$TMP/state/pki/ca.crt" ] || fail "PKI not created on first run"
sleeper=$(sed -n 's/.*daemon-start name=sleeper pid=\([0-9]*\).*/\1/p' "$TMP/log" | head -n 1)
[ -n "$sleeper" ] || fail "sleeper not running"
ok "daemons run, crasher restarted with 100/200/400 ms backoff, PKI created"

kill -TERM "$SUP"
wait_for 10 bash -c "! kill -0 $SUP" || fail "supervisor did not stop within 10 s of SIGTERM"
wait "$SUP"; rc=$?
[ $rc -eq 0 ] || fail "supervisor exit status $rc after SIGTERM"
kill -0 "$sleeper" 2>/dev/null && fail "sleeper still running after stop"
grep -q 'daemon-stopped name=sleeper signal=15' "$TMP/log" || fail "sleeper stop not logged"
ok "SIGTERM stops every daemon and exits 0"

# --- 2. a daemon that ignores SIGTERM is killed after the grace period
cat > "$TMP/stubborn.json" <<JSON
{ "mamori-suite:suite": { "state-dir": "$TMP/state",
  "daemon": [ { "name": "stubborn", "program": "sh", "argument": ["-c", "trap '' TERM; sleep 300 & wait; wait"] } ] } }
JSON
"$MAMORI" up --config "$TMP/stubborn.json" > /dev/null 2> "$TMP/log2" &
SUP=$!; PIDS+=("$SUP")
wait_for 10 grep -q 'daemon-start name=stubborn' "$TMP/log2" || fail "stubborn not started"
stubborn=$(sed -n 's/.*daemon-start name=stubborn pid=\([0-9]*\).*/\1/p' "$TMP/log2" | head -n 1)
# Its trap is set once its own child exists (the shell runs `trap` first).
wait_for 10 pgrep -P "$stubborn" || fail "stubborn's child not started"
child=$(pgrep -P "$stubborn" | head -n 1)
kill -INT "$SUP"
wait_for 15 bash -c "! kill -0 $SUP" || fail "supervisor hung on a stubborn daemon"
grep -q 'daemon-kill name=stubborn' "$TMP/log2" || fail "stubborn daemon not SIGKILLed after grace"
wait_for 5 bash -c "! kill -0 $child" || fail "the stubborn daemon's own child survived"
ok "a daemon ignoring SIGTERM is killed after the grace period"

# --- 3. no daemon enabled: says so and stays up until interrupted
printf '{ "mamori-suite:suite": { "state-dir": "%s" } }\n' "$TMP/empty-state" > "$TMP/empty.json"
"$MAMORI" up --config "$TMP/empty.json" > "$TMP/out3" 2> "$TMP/log3" &
SUP=$!; PIDS+=("$SUP")
wait_for 10 grep -q 'no daemon is enabled' "$TMP/out3" || fail "did not say that no daemon is enabled"
# An observation window, not a synchronisation: it must not exit on its own.
wait_for 2 bash -c "! kill -0 $SUP" && fail "mamori up exited by itself"
kill -INT "$SUP"
wait_for 10 bash -c "! kill -0 $SUP" || fail "Ctrl-C did not stop mamori up"
wait "$SUP" || fail "non-zero exit after Ctrl-C"
ok "with no daemon, mamori up stays up until Ctrl-C"

# --- 3b. the embedded default (`make run`): every built daemon starts, and the
# printed connect hint works as typed
mkdir -p "$TMP/run"
# mamori-bgpd joins the default suite only once <state>/bgp/bgpd.json lists
# neighbors: counted through `up --check` without the file, with an empty
# list, then with a neighbor (kept for the run below).
BGPD_BUILT=false
[ -x "$(dirname "$MAMORI")/../bgp/daemon/mamori-bgpd" ] && BGPD_BUILT=true
ndaemons() { XDG_STATE_HOME="$TMP/xdg" "$MAMORI" up --check | sed -n 's/^configuration ok: \([0-9]*\) daemon.*/\1/p'; }
if $BGPD_BUILT; then
  n0=$(ndaemons)
  mkdir -p "$TMP/xdg/mamori/bgp"
  printf '{"local-as": 65199, "router-id": "10.0.15.99", "neighbors": []}\n' > "$TMP/xdg/mamori/bgp/bgpd.json"
  [ "$(ndaemons)" = "$n0" ] || fail "mamori-bgpd added to the default suite without neighbors"
  cat > "$TMP/xdg/mamori/bgp/bgpd.json" <<JSON
{"local-as": 65199, "router-id": "10.0.15.99", "listen-address": "127.0.15.99", "listen-port": 11179,
 "neighbors": [ {"address": "127.0.15.98", "remote-as": 65198, "passive": true} ]}
JSON
  [ "$(ndaemons)" = $((n0 + 1)) ] || fail "mamori-bgpd not added to the default suite with a neighbor configured"
  ok "default suite: mamori-bgpd only when bgpd.json lists neighbors"
fi
( cd "$TMP/run" && XDG_STATE_HOME="$TMP/xdg" exec "$MAMORI" up ) > "$TMP/out3b" 2> "$TMP/log3b" &
SUP=$!; PIDS+=("$SUP")
wait_for 10 grep -q 'Press Ctrl-C' "$TMP/out3b" || fail "default run printed no banner"
[ -f "$TMP/xdg/mamori/pki/server.crt" ] || fail "default state dir not under XDG_STATE_HOME"
if grep -q '^  netconfd ' "$TMP/out3b"; then
  wait_for 20 grep -q 'netconfd-ready' "$TMP/log3b" || { cat "$TMP/log3b"; fail "netconfd did not come up"; }
  hint=$(sed -n 's/.*connect: //p' "$TMP/out3b" | head -n 1)
  [ -n "$hint" ] || fail "no connect hint printed"
  ( cd "$TMP/run" && PATH="$(dirname "$MAMORI"):$PATH" && eval "$hint" ) > "$TMP/hint-out" 2>&1 \
    || { cat "$TMP/hint-out"; fail "the printed connect hint failed: $hint"; }
  grep -q 'ietf-netconf-acm' "$TMP/hint-out" || fail "connect hint returned no configuration"
  ok "default run: netconfd up, connect hint works"
  # The same server over QUIC, when this build has the QUIC transport.
  P="$TMP/xdg/mamori/pki"
  if "$MAMORI" nc --transport quic --host ::1 --port 8831 --server-name localhost \
       --ca "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" hello > "$TMP/quic-out" 2>&1; then
    grep -q 'session-id' "$TMP/quic-out" || fail "QUIC hello printed no session-id"
    ok "default run: NETCONF over QUIC on [::1]:8831"
  else
    grep -q 'not available in this build' "$TMP/quic-out" || { cat "$TMP/quic-out"; fail "NETCONF over QUIC failed"; }
  fi
else
  grep -q 'no daemon is enabled' "$TMP/out3b" || fail "default run lists no daemon and does not say so"
fi
# The ApertoDNS server of the default suite: its printed hint works as typed.
if grep -q '^  ddnsd ' "$TMP/out3b"; then
  wait_for 20 grep -q 'ddnsd-ready' "$TMP/log3b" || fail "ddnsd did not come up"
  hint=$(sed -n '/^  ddnsd /,/connect:/s/.*connect: //p' "$TMP/out3b" | head -n 1)
  ( PATH="$(dirname "$MAMORI"):$PATH" && eval "$hint" ) > "$TMP/ddns-hint" 2>&1 \
    || { cat "$TMP/ddns-hint"; fail "the printed ddnsd hint failed: $hint"; }
  grep -q healthy "$TMP/ddns-hint" || fail "ddnsd health: $(cat "$TMP/ddns-hint")"
  ok "default run: ddnsd up over HTTPS, its hint works"
  # ddnsd runs Knot DNS as its child (--knot 5300), or says why not.
  if command -v kdig >/dev/null && [ -x "$(command -v knotd || echo /usr/sbin/knotd)" ]; then
    knot_soa() { kdig @127.0.0.1 -p 5300 +short +timeout=1 +retry=0 dyn.home.arpa SOA | grep -q hostmaster; }
    wait_for 20 knot_soa || fail "mamori up did not start Knot DNS with ddnsd"
    ok "default run: Knot DNS (child of ddnsd) answers dyn.home.arpa on 127.0.0.1@5300"
  else
    wait_for 20 grep -q 'ddnsd-knot-missing hint=' "$TMP/log3b" || fail "no hint about the missing knotd"
    ok "default run: knotd not installed, ddnsd says so and serves the API"
  fi
fi
# The BMP collector of the default suite: its metrics answer and its hint works.
if grep -q '^  bmpd ' "$TMP/out3b"; then
  wait_for 20 curl -sf http://127.0.0.1:9179/metrics || fail "bmpd metrics endpoint not up"
  hint=$(sed -n '/^  bmpd /,/connect:/s/.*connect: //p' "$TMP/out3b" | head -n 1)
  wait_for 20 test -f "$TMP/xdg/mamori/bmp/bmp.db" || fail "bmpd store not created"
  ( PATH="$(dirname "$MAMORI"):$PATH" && eval "$hint" ) > "$TMP/bmp-hint" 2>&1 \
    || { cat "$TMP/bmp-hint"; fail "the printed bmpd hint failed: $hint"; }
  ok "default run: bmpd up (metrics, store), its hint works"
fi
# The BGP speaker of the default suite (its config was written above): its hint works.
if $BGPD_BUILT; then
  grep -q '^  bgpd ' "$TMP/out3b" || fail "mamori-bgpd not started although neighbors are configured"
  wait_for 20 test -S "$TMP/xdg/mamori/bgp/control.sock" || { cat "$TMP/log3b"; fail "bgpd control socket not created"; }
  hint=$(sed -n '/^  bgpd /,/connect:/s/.*connect: //p' "$TMP/out3b" | head -n 1)
  ( PATH="$(dirname "$MAMORI"):$PATH" && eval "$hint" ) > "$TMP/bgp-hint" 2>&1 \
    || { cat "$TMP/bgp-hint"; fail "the printed bgpd hint failed: $hint"; }
  grep -q '127.0.15.98' "$TMP/bgp-hint" || fail "bgpd hint does not list the configured neighbor"
  ok "default run: bgpd up with its configured neighbor, its hint works"
fi
wait_for 1 bash -c "! kill -0 $SUP" && fail "mamori up exited by itself"
ncd=$(sed -n 's/.*daemon-start name=netconfd pid=\([0-9]*\).*/\1/p' "$TMP/log3b" | head -n 1)
kill -INT "$SUP"
wait_for 15 bash -c "! kill -0 $SUP" || fail "Ctrl-C did not stop mamori up"
wait "$SUP" || fail "non-zero exit after Ctrl-C"
[ -n "$ncd" ] && kill -0 "$ncd" 2>/dev/null && fail "netconfd survived the stop"
ok "default config stays up until Ctrl-C and stops its daemons"

# --- 4. malformed config: error names file, line and path; nothing starts
printf '{\n "mamori-suite:suite": {\n  "state-dir": "%s",\n  "log-level": "loud"\n }\n}\n' "$TMP/never" > "$TMP/bad.json"
if "$MAMORI" up --config "$TMP/bad.json" > /dev/null 2> "$TMP/err4"; then fail "bad config accepted"; fi
grep -q "$TMP/bad.json:4: /mamori-suite:suite/log-level: " "$TMP/err4" || { cat "$TMP/err4"; fail "error lacks file:line: path"; }
grep -q 'nothing was started' "$TMP/err4" || fail "no 'nothing was started'"
[ -e "$TMP/never" ] && fail "state dir created for a rejected config"
ok "malformed config rejected with file:line: path, nothing started"
