#!/usr/bin/env bash
# Interop: yuma123's yangcli (libssh2) opens a NETCONF-over-SSH session to
# mamori-netconfd with an ed25519 key, exchanges hellos (base:1.1) and runs
# its yang-library <get>; the reply must be the server's module list.
#
# What yangcli 2.13 does NOT do here (observed, documented in docs/netconfd.md):
# with the server's 2024 ietf-*-server modules it fails to parse them
# ("refine" with if-feature, valid YANG 1.1) and, in --batch-mode, stops after
# "Checking Server Modules" without running the script. So this test checks the
# transport, authentication, hello and first RPC, then ends yangcli itself.
#   usage: yangcli.sh PATH/TO/mamori PATH/TO/mamori-netconfd
# SPDX-License-Identifier: Apache-2.0
set -u
MAMORI=${1:?usage: yangcli.sh mamori mamori-netconfd}
NETCONFD=${2:?usage: yangcli.sh mamori mamori-netconfd}
HERE=$(dirname "$0")
. "$HERE/lib.sh"
command -v yangcli >/dev/null 2>&1 || mm_skip "yangcli not installed (Debian: yangcli)"
[ -n "${MM_SOURCE_ROOT:-}" ] || fail "MM_SOURCE_ROOT not set (run through meson test)"
ssh_setup yangcli
ssh_start_daemon --log-level debug
YC_PID=
stop_yc() { [ -n "$YC_PID" ] && kill "$YC_PID" 2>/dev/null && wait "$YC_PID" 2>/dev/null; YC_PID=; }
trap 'stop_yc; cleanup' EXIT
mkdir -p "$TMP/yuma"
echo 'get-config source=running' >"$TMP/script.ycl"
# yangcli: --server ... connects at start; its files go under the temp dir (it still
# makes and removes a session directory in ~/.yuma/tmp, found via the passwd entry).
HOME="$TMP" YUMA_HOME="$TMP/yuma" yangcli --server=127.0.0.1 --ncport="$PORT" --user=admin \
  --public-key="$TMP/admin.pub" --private-key="$TMP/admin" --batch-mode --autoload=false \
  --aliases-file="$TMP/yuma/aliases" --uservars-file="$TMP/yuma/uservars.xml" \
  --run-script="$TMP/script.ycl" --display-mode=xml --log="$TMP/yc.log" --log-level=debug2 \
  </dev/null >"$TMP/yc.out" 2>&1 &
YC_PID=$!
wait_log 'event=nc-session-start .*user=admin transport=netconf-ssh' 300 ||
  fail "yangcli did not open a NETCONF-over-SSH session: $(tail -5 "$TMP/yc.out")"
ok "yangcli authenticated with its ed25519 key and opened the netconf subsystem"
grep -q 'kex=curve25519-sha256' "$TMP/daemon.log" || fail "yangcli kex was not curve25519"
wait_log 'event=nacm user=admin session=[0-9]* action=rpc object=ietf-netconf:get permit=1' 300 ||
  fail "yangcli's <get> did not arrive"
for _ in $(seq 1 300); do
  grep -q 'RPC Data Reply 1 for session' "$TMP/yc.log" 2>/dev/null && break
  sleep 0.1
done
grep -q 'RPC Data Reply 1 for session' "$TMP/yc.log" || fail "yangcli got no reply to its <get>"
grep -q '<name>nc-test</name>' "$TMP/yc.log" || fail "yangcli's reply lacks the served module list"
grep -q 'urn:ietf:params:netconf:base:1.1' "$TMP/yc.log" || fail "hello without base:1.1"
ok "yangcli <get> of yang-library answered with the module list"
stop_yc
wait_log 'event=nc-session-end session=1' 100 || fail "session not ended after yangcli went away"
kill -0 "$DAEMON_PID" || fail "daemon died"
echo PASS
