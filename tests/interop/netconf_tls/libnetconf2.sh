#!/usr/bin/env bash
# libnetconf2 (CESNET) as a NETCONF-over-TLS client of mamori-netconfd.
# usage: libnetconf2.sh NETCONFD [LIBNETCONF2_CLIENT]
NETCONFD=${1:?usage: libnetconf2.sh NETCONFD [CLIENT]}
CLIENT=${2:-}
. "$(dirname "$0")/../../lib/skip.sh"
if [ -z "$CLIENT" ]; then
  mm_skip "libnetconf2 (libnetconf2-dev) is not installed; the client was not built"
fi
MODULE_DIR=${MM_NC_TEST_YANG:?MM_NC_TEST_YANG not set}
. "$(dirname "$0")/lib.sh"
start_daemon
"$CLIENT" "$PORT" "$T/pki/ca.crt" "$T/pki/client.crt" "$T/pki/client.key" 2>"$T/client.err" \
  || { grep -v confirm-event "$T/client.err" | tail -20; fail "libnetconf2 client"; }
grep -q "group=x25519\|group=X25519" "$T/daemon.log" || fail "no key exchange group logged"
finish
echo "PASS"
