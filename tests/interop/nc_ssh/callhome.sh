#!/usr/bin/env bash
# Call home (RFC 8071): mamori-netconfd dials `mamori nc --call-home-listen`
# over TLS and over SSH; the client authenticates the server as usual (CA +
# name for TLS, pinned host key for SSH). The daemon is started first, so its
# first dials are refused and it must retry; after each session ends it must
# dial again (reconnect strategy), which a second client session proves.
#   usage: callhome.sh PATH/TO/mamori PATH/TO/mamori-netconfd
# SPDX-License-Identifier: Apache-2.0
set -u
MAMORI=${1:?usage: callhome.sh mamori mamori-netconfd}
NETCONFD=${2:?usage: callhome.sh mamori mamori-netconfd}
HERE=$(dirname "$0")
. "$HERE/lib.sh"
[ -n "${MM_SOURCE_ROOT:-}" ] || fail "MM_SOURCE_ROOT not set (run through meson test)"
ssh_setup callhome
CH_TLS=$(free_port)
CH_SSH=$(free_port)
ssh_start_daemon --call-home "tls:127.0.0.1:$CH_TLS" --call-home "ssh:127.0.0.1:$CH_SSH" \
  --call-home-retry-ms 100
export MM_PKI_DIR="$TMP/pki"
wait_log "event=netconfd-callhome client=127.0.0.1:$CH_TLS transport=tls result=retry" ||
  fail "no refused-and-retry dial while nobody listens"
ok "daemon dials, is refused, retries"

nc_tls() { "$MAMORI" nc --transport tls --host localhost --call-home-listen "$CH_TLS" \
  --rpc-timeout 30 "$@"; }
nc_ssh() { "$MAMORI" nc --transport ssh --host 127.0.0.1 --call-home-listen "$CH_SSH" \
  --user admin --key "$TMP/admin" --host-key-fingerprint "$FP" --rpc-timeout 30 "$@"; }

nc_tls -v hello >"$TMP/h1" 2>"$TMP/h1.err" || fail "TLS call home: $(cat "$TMP/h1.err")"
grep -q '^session-id: [1-9]' "$TMP/h1" || fail "TLS call home: no session-id"
grep -q "event=nc-session-start .*transport=netconf-tls" "$TMP/daemon.log" ||
  fail "no TLS session on the daemon"
ok "TLS call home: session $(sed -n 's/^session-id: //p' "$TMP/h1")"

# Reconnect strategy: the daemon dials again after the session ended.
nc_tls get-config --source running >"$TMP/g1" 2>"$TMP/g1.err" ||
  fail "second TLS call home: $(cat "$TMP/g1.err")"
grep -q '<nacm' "$TMP/g1" || fail "second TLS call home: no data"
[ "$(grep -c "event=netconfd-callhome client=127.0.0.1:$CH_TLS transport=tls result=connected" \
  "$TMP/daemon.log")" -ge 2 ] || fail "no second TLS connection"
ok "TLS call home reconnects after the session ended"

nc_ssh -v hello >"$TMP/h2" 2>"$TMP/h2.err" || fail "SSH call home: $(cat "$TMP/h2.err")"
grep -q '^framing: chunked$' "$TMP/h2" || fail "SSH call home: no base:1.1"
grep -q 'event=nc-session-start .*user=admin transport=netconf-ssh' "$TMP/daemon.log" ||
  fail "no SSH session on the daemon"
ok "SSH call home: hello"

# A client that pins another host key refuses the server that called.
nc_ssh --host-key-fingerprint SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA hello \
  >/dev/null 2>"$TMP/e1" && fail "SSH call home accepted a wrong host key"
grep -q 'fingerprint mismatch' "$TMP/e1" || fail "refusal: $(cat "$TMP/e1")"
nc_ssh get-config --source running | grep -q '<nacm' || fail "SSH call home after a refusal"
ok "SSH call home: wrong pin refused, next dial served"
kill -0 "$DAEMON_PID" || fail "daemon died"
echo PASS
