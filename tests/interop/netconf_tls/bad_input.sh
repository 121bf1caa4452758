#!/usr/bin/env bash
# Garbage, bad chunk headers, oversized chunks and a missing message-id on
# some sessions while another session keeps working.
# usage: bad_input.sh NETCONFD BAD_INPUT_CLIENT
NETCONFD=${1:?usage: bad_input.sh NETCONFD CLIENT}
CLIENT=${2:?usage: bad_input.sh NETCONFD CLIENT}
MODULE_DIR=""
. "$(dirname "$0")/lib.sh"
MAX=65536
start_daemon --max-message $MAX
"$CLIENT" "$PORT" "$T/pki/ca.crt" "$T/pki/client.crt" "$T/pki/client.key" $MAX || fail "bad input"
kill -0 "$DPID" || fail "daemon died"
finish
echo "PASS"
