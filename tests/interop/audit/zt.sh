#!/usr/bin/env bash
# `mamori audit zt` against a running installation.
#
# In a network namespace of its own, the test runs `mamori up` (the default
# suite) as an unprivileged user with a fresh PKI and state under $TMP:
# every ZT check passes or is not applicable. Then it weakens one setting at
# a time and checks that exactly the named check fails:
#   key file 0644 -> ZT-05b; state dir 0755 -> ZT-05b; NACM write-default
#   permit or enable-nacm false -> ZT-05c; AH policy -> ZT-11;
#   edited audit record -> ZT-12; 10-day server certificate -> ZT-08;
#   netconfd as root -> ZT-05a; on 0.0.0.0 -> ZT-06; stale CRL -> ZT-07 (and
#   ZT-05c: the daemon then refuses every client, the admin's NACM probe too).
# mamori-netconfd cannot be made to accept clients without certificates,
# TLS 1.2 or classical-only groups, so those checks are shown failing on
# peers given with --endpoint: openssl s_server without client auth on
# TLS 1.2 (ZT-01a, ZT-01b, ZT-02a, ZT-02c), s_server TLS 1.3 with
# X25519 only (ZT-02c), and a plaintext listener with a banner (ZT-02b).
#
# usage: zt.sh MAMORI NETCONFD. Needs root (namespaces, setpriv); exit 77
# if impossible here (a failure when CI=true). SPDX-License-Identifier: Apache-2.0
set -u
MAMORI=$(realpath "${1:?mamori}")
NETCONFD=$(realpath "${2:?mamori-netconfd}")
. "$(dirname "$0")/../../cli/lib.sh"

NS=mmau-zt-$$
zt_cleanup() {
  ip netns del "$NS" 2>/dev/null
  cleanup
}
trap zt_cleanup EXIT
need() {
  if [ "${CI:-}" = true ]; then fail "$*"; fi
  skip "$*"
}
[ "$(id -u)" = 0 ] || need "needs root (network namespace, setpriv)"
ip netns add "$NS" 2>/dev/null || need "ip netns add impossible here"
for t in jq openssl setpriv python3; do command -v $t >/dev/null || need "$t not installed"; done
ip -n "$NS" link set lo up
chown nobody: "$TMP"
chmod 0711 "$TMP"
inns() { ip netns exec "$NS" "$@"; }

# zt ARGS...: run the probe inside the namespace; JSON in $TMP/zt.json, exit status in ZRC.
zt() {
  inns "$MAMORI" audit zt --timeout-ms 1500 --json "$@" >"$TMP/zt.json" 2>"$TMP/zt.err"
  ZRC=$?
}
failing() { jq -r '[.checks[] | select(.status=="fail") | .id] | join(" ")' "$TMP/zt.json"; }
# expect_fail "IDS" WHAT ZT-ARGS...: exactly these checks fail, exit 1.
expect_fail() {
  local want=$1 what=$2
  shift 2
  zt "$@"
  local got
  got=$(failing)
  [ "$ZRC" = 1 ] && [ "$got" = "$want" ] \
    || fail "$what: exit $ZRC, failing [$got], want [$want]: $(cat "$TMP/zt.json" "$TMP/zt.err")"
  ok "$what -> $want fails ($(jq -r --arg id "${want##* }" '.checks[] | select(.id==$id) | .evidence' \
       "$TMP/zt.json" | cut -c1-150))"
}

# ---------------------------------------------------------------- the default suite
mkdir -p "$TMP/run" && chown nobody: "$TMP/run"
( cd "$TMP/run" && exec ip netns exec "$NS" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env HOME="$TMP" XDG_STATE_HOME="$TMP/xdg" "$MAMORI" up ) >"$TMP/up.out" 2>"$TMP/up.log" &
SUP=$!
PIDS+=("$SUP")
wait_for 20 grep -q 'netconfd-ready' "$TMP/up.log" || fail "mamori up: netconfd not ready: $(cat "$TMP/up.log")"
NC=$(pgrep -P "$SUP" -x mamori-netconfd)
[ -n "$NC" ] || fail "no netconfd child of mamori up"
P=$TMP/xdg/mamori/pki
S=$TMP/xdg/mamori/netconf
# Some records in the audit log: an admin session.
inns env MM_PKI_DIR="$P" "$MAMORI" nc --host ::1 --server-name localhost get-config >/dev/null \
  || fail "admin get-config"
zt --pid "$NC"
[ "$ZRC" = 0 ] || fail "default suite: exit $ZRC, failing [$(failing)]: $(cat "$TMP/zt.json" "$TMP/zt.err")"
for id in ZT-01a ZT-01b ZT-02a ZT-02b ZT-02c ZT-05a ZT-05b ZT-05c ZT-06 ZT-08 ZT-10 ZT-11 ZT-12; do
  [ "$(jq -r --arg id $id '.checks[] | select(.id==$id) | .status' "$TMP/zt.json")" = pass ] \
    || fail "default suite: $id is not pass"
done
jq -e '.checks[] | select(.id=="ZT-12") | .evidence | test("chain intact, [1-9][0-9]* records")' \
  "$TMP/zt.json" >/dev/null || fail "ZT-12 did not verify any record"
ok "default suite (mamori up as nobody): $(jq -r '[.checks[] | select(.status=="pass")] | length' \
   "$TMP/zt.json") checks pass, the rest not applicable"
inns "$MAMORI" audit zt --pid "$NC" --timeout-ms 1500 >"$TMP/zt.txt"
grep -q '^ZT-01a pass' "$TMP/zt.txt" && grep -q 'of 17 checks failed' "$TMP/zt.txt" \
  || fail "text output: $(cat "$TMP/zt.txt")"

# ---------------------------------------------------------------- weakened settings
chmod 0644 "$P/server.key"
expect_fail "ZT-05b" "server key mode 0644" --pid "$NC"
chmod 0600 "$P/server.key"
chmod 0755 "$S"
expect_fail "ZT-05b" "state directory mode 0755" --pid "$NC"
chmod 0700 "$S"

inns ip xfrm policy add src 10.9.0.1/32 dst 10.9.0.2/32 dir out \
  tmpl src 10.9.0.1 dst 10.9.0.2 proto ah mode transport || fail "AH policy"
expect_fail "ZT-11" "AH policy in the daemon's namespace" --pid "$NC"
inns ip xfrm policy flush

# NACM: write-default permit, then enable-nacm false, set by the admin over NETCONF.
nacm_set() {  # nacm_set LEAF VALUE
  printf '<nacm xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-acm"><%s>%s</%s></nacm>\n' \
    "$1" "$2" "$1" >"$TMP/nacm.xml"
  inns env MM_PKI_DIR="$P" "$MAMORI" nc --host ::1 --server-name localhost edit-config \
    --target running --config "$TMP/nacm.xml" >"$TMP/nacm.out" 2>&1 || fail "nacm $1=$2: $(cat "$TMP/nacm.out")"
}
nacm_set write-default permit
expect_fail "ZT-05c" "NACM write-default permit" --pid "$NC"
nacm_set write-default deny
nacm_set enable-nacm false
expect_fail "ZT-05c" "NACM disabled" --pid "$NC"
jq -e '.checks[] | select(.id=="ZT-05c") | .evidence | test("kill-session. by an unconfigured identity was not denied")' \
  "$TMP/zt.json" >/dev/null || fail "NACM disabled: the unconfigured identity probe did not notice"
nacm_set enable-nacm true
zt --pid "$NC"
[ "$ZRC" = 0 ] || fail "NACM restored: still failing [$(failing)]"

cp -p "$S/audit.log" "$TMP/audit.bak"
[ "$(wc -l <"$S/audit.log")" -ge 2 ] || fail "audit log has fewer than 2 records"
sed -i '1s/"permit":true/"permit":false/; 1s/"permit": *true/"permit":false/' "$S/audit.log"
cmp -s "$S/audit.log" "$TMP/audit.bak" && sed -i '1s/./X/' "$S/audit.log"
expect_fail "ZT-12" "an edited audit record" --pid "$NC"
cp -p "$TMP/audit.bak" "$S/audit.log"

# A server certificate that runs out in 10 days; the supervisor restarts the daemon.
cp -p "$P/server.crt" "$TMP/server.crt.bak"
openssl req -new -key "$P/server.key" -subj /CN=localhost 2>/dev/null \
  | openssl x509 -req -CA "$P/ca.crt" -CAkey "$P/ca.key" -days 10 -set_serial 77 \
      -extfile <(printf 'subjectAltName=DNS:localhost,IP:::1,IP:127.0.0.1\n') -out "$TMP/short.crt" \
      2>/dev/null || fail "short certificate"
install -o nobody -m 0644 "$TMP/short.crt" "$P/server.crt"
kill -9 "$NC"
# The restarted daemon: a second daemon-start line (restarts=1) from the
# supervisor, then its own ready line (netconfd logs one per listener, so
# counting ready lines says nothing about a restart).
wait_for 20 grep -q 'daemon-start name=netconfd .*restarts=1' "$TMP/up.log" || fail "netconfd not restarted"
NC=$(sed -n 's/.*daemon-start name=netconfd pid=\([0-9]*\).*restarts=1.*/\1/p' "$TMP/up.log" | tail -n 1)
wait_for 20 grep -q "mamori-netconfd\[$NC\].*netconfd-ready" "$TMP/up.log" || fail "restarted netconfd not ready"
expect_fail "ZT-08" "server certificate valid for 10 days" --pid "$NC"
cp -p "$TMP/server.crt.bak" "$P/server.crt"

# ---------------------------------------------------------------- other daemons
# start_nc NAME USER ARGS...: mamori-netconfd in the namespace; pid in NCX.
start_nc() {
  local name=$1 user=$2
  shift 2
  mkdir -p "$TMP/$name" && chown nobody: "$TMP/$name"
  # Started directly (not through a shell function) so that $! is the daemon itself.
  if [ "$user" = root ]; then
    ip netns exec "$NS" "$NETCONFD" --state-dir "$TMP/$name/state" --port 0 "$@" \
      >"$TMP/$name.log" 2>&1 &
  else
    ip netns exec "$NS" setpriv --reuid=nobody --regid=nogroup --clear-groups \
      "$NETCONFD" --state-dir "$TMP/$name/state" --port 0 "$@" >"$TMP/$name.log" 2>&1 &
  fi
  NCX=$!
  PIDS+=("$NCX")
  wait_for 20 grep -q 'netconfd-ready' "$TMP/$name.log" || fail "$name: not ready: $(cat "$TMP/$name.log")"
}
start_nc rootd root --pki-dir "$TMP/rootd/pki" --address 127.0.0.1
expect_fail "ZT-05a" "netconfd running as root" --pid "$NCX"
start_nc anyd nobody --pki-dir "$TMP/anyd/pki" --address 0.0.0.0
expect_fail "ZT-06" "netconfd listening on 0.0.0.0" --pid "$NCX"

mkdir -p "$TMP/ca" && : >"$TMP/ca/index.txt" && echo 01 >"$TMP/ca/crlnumber"
printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s/ca/index.txt\ncrlnumber = %s/ca/crlnumber\ndefault_md = sha256\n' \
  "$TMP" "$TMP" >"$TMP/ca/ca.cnf"
openssl ca -config "$TMP/ca/ca.cnf" -gencrl -keyfile "$P/ca.key" -cert "$P/ca.crt" \
  -crl_lastupdate 20200101000000Z -crl_nextupdate 20200102000000Z -out "$TMP/stale.crl" \
  >/dev/null 2>&1 || fail "stale CRL"
chmod 0644 "$TMP/stale.crl"
start_nc crld nobody --pki-dir "$P" --address 127.0.0.1 --crl "$TMP/stale.crl"
# A stale CRL makes the daemon refuse every client, the admin too: the NACM
# probe (ZT-05c) cannot log in and fails with it.
expect_fail "ZT-05c ZT-07" "netconfd with a CRL past its nextUpdate" --pid "$NCX"
jq -e '.checks[] | select(.id=="ZT-05c") | .evidence | test("admin failed")' "$TMP/zt.json" \
  >/dev/null || fail "stale CRL: ZT-05c should fail because the admin is locked out"

# ---------------------------------------------------------------- weak peers (--endpoint)
listening() { inns ss -ltn "sport = :$1" | grep -q LISTEN; }
ip netns exec "$NS" openssl s_server -accept 127.0.0.1:47101 -cert "$P/server.crt" -key "$P/server.key" \
  -tls1_2 -quiet -naccept 100 </dev/null >"$TMP/s1.log" 2>&1 &
PIDS+=($!)
wait_for 10 listening 47101 || fail "s_server TLS 1.2 did not start: $(cat "$TMP/s1.log")"
expect_fail "ZT-01a ZT-01b ZT-02a ZT-02c" "TLS 1.2 peer without client authentication" \
  --no-discover --endpoint 127.0.0.1:47101
ip netns exec "$NS" openssl s_server -accept 127.0.0.1:47102 -cert "$P/server.crt" -key "$P/server.key" \
  -tls1_3 -groups X25519 -Verify 1 -CAfile "$P/ca.crt" -quiet -naccept 100 \
  </dev/null >"$TMP/s2.log" 2>&1 &
PIDS+=($!)
wait_for 10 listening 47102 || fail "s_server X25519 did not start: $(cat "$TMP/s2.log")"
expect_fail "ZT-02c" "TLS 1.3 peer with X25519 only" --no-discover --endpoint 127.0.0.1:47102
# A plaintext service that greets first (like SSH or SMTP).
ip netns exec "$NS" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 47103)); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b"SSH-2.0-plaintext\r\n"); c.close()
' >"$TMP/plain.log" 2>&1 &
PIDS+=($!)
wait_for 10 listening 47103 || fail "plaintext listener did not start: $(cat "$TMP/plain.log")"
zt --no-discover --endpoint 127.0.0.1:47103
[ "$ZRC" = 1 ] || fail "plaintext peer: exit $ZRC"
failing | grep -qw ZT-02b || fail "plaintext peer: ZT-02b does not fail: $(cat "$TMP/zt.json")"
jq -e '.checks[] | select(.id=="ZT-02b") | .evidence | test("SSH-2.0-plaintext")' "$TMP/zt.json" \
  >/dev/null || fail "ZT-02b evidence lacks the banner"
ok "plaintext listener -> ZT-02b fails (banner quoted)"

# Usage errors and nothing to probe: exit 2.
inns "$MAMORI" audit zt --pid 1 >/dev/null 2>&1
[ $? = 2 ] || fail "--pid of a non-mamori process must exit 2"
inns "$MAMORI" audit zt --endpoint nonsense >/dev/null 2>&1
[ $? = 2 ] || fail "bad --endpoint must exit 2"
ok "usage errors exit 2"
