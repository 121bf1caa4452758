#!/usr/bin/env bash
# Issue 10 #7: a client killed with -9 while holding the candidate lock.
# Over QUIC nothing tells the server (UDP, no FIN/RST): the session, and its
# lock, must end when the idle timeout runs out (default 120 s, PING
# keep-alive; shortened here with --idle-timeout-ms, which is also what a
# running configuration without quic-session/idle-timeout gets). Before,
# the idle timeout was 0 and the lock was held until the daemon stopped.
# Over TLS the kernel resets the connection; the lock goes at once.
# usage: dead_peer.sh NETCONFD MAMORI NC_SESSION
NETCONFD=${1:?usage: dead_peer.sh NETCONFD MAMORI NC_SESSION}
MAMORI=${2:?}
NC_SESSION=${3:?}
MODULE_DIR=""
. "$(dirname "$0")/lib_transport.sh"
"$MAMORI" pki init --dir "$T/pki" >/dev/null || fail "pki init"
start_daemon_quic --idle-timeout-ms 1500

LOCK='<lock><target><candidate/></target></lock>'
SUB='<create-subscription xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0"/>'
MON='<netconf-state xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"><sessions/></netconf-state>'
for tr in quic tls; do
  session "$tr" "$T/holder-$tr.out" "$SUB" "$LOCK" '@hold'
  HOLDER=$SPID
  wait_for "$T/holder-$tr.out" '^holding' || fail "$tr: holder did not lock: $(cat "$T/holder-$tr.out")"
  [ "$(grep -c '^reply: ok' "$T/holder-$tr.out")" = 2 ] || fail "$tr: subscribe/lock refused"
  HSID=$(sed -n 's/^session-id \([0-9]*\)/\1/p' "$T/holder-$tr.out")
  port=$PORT; [ "$tr" = quic ] && port=$QPORT
  nc_admin --transport "$tr" --port "$port" --server-name localhost lock --target candidate \
    > "$T/denied.out" 2>&1 && fail "$tr: second lock granted while the holder is alive"
  grep -q "lock-denied" "$T/denied.out" || fail "$tr: expected lock-denied: $(cat "$T/denied.out")"
  if [ "$tr" = tls ] && command -v ss > /dev/null; then
    # The daemon's end of the TLS connection probes a silent peer (TCP
    # keep-alive at a third of --idle-timeout-ms: 1 s here; Linux's default
    # would be 2 hours, and only with SO_KEEPALIVE set).
    # ss shows one timer per socket: while a reply is in flight that is the
    # retransmission timer, so look until the keep-alive one shows (bounded).
    for _ in $(seq 1 50); do
      ss -tno state established "( sport = :$PORT )" > "$T/ss.out"
      grep -q "timer:(keepalive,[0-9.]*m\?s" "$T/ss.out" && break
      sleep 0.1
    done
    grep -q "timer:(keepalive,[0-9.]*m\?s" "$T/ss.out" ||
      fail "no TCP keep-alive on the daemon's TLS socket: $(cat "$T/ss.out")"
    grep -o "timer:(keepalive[^)]*)" "$T/ss.out"
  fi
  kill -9 "$HOLDER"
  wait "$HOLDER" 2>/dev/null
  # Bounded poll on the condition: another session gets the lock.
  got=""
  for _ in $(seq 1 150); do
    if nc_admin --transport "$tr" --port "$port" --server-name localhost lock --target candidate \
      > "$T/lock.out" 2>&1; then got=1; break; fi
    sleep 0.2
  done
  [ -n "$got" ] || fail "$tr: the killed client's lock was never released: $(cat "$T/lock.out")"
  # ...and its session, with its subscription, is gone.
  nc_admin --server-name localhost get --filter "$MON" > "$T/mon.out" || fail "monitoring"
  grep -q "<session-id>$HSID</session-id>" "$T/mon.out" && fail "$tr: session $HSID still listed"
  echo "ok: $tr lock released after kill -9"
done
grep -q "event=nc_quic_closed.*reason=\"idle timeout\"" "$T/daemon.log" ||
  fail "the QUIC session did not end by idle timeout"
# The NETCONF client (mamori nc, nc_session: the same library) advertises an
# idle timeout of its own (it advertised none).
grep -q "event=nc_quic_connected .*peer_idle_timeout_ms=120000" "$T/daemon.log" ||
  fail "the client advertised no idle timeout"
finish
echo "PASS"
