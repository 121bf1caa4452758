#!/usr/bin/env bash
# Work bounds over a real TLS session (issue 10 item 3): a <get> whose filter
# has 80 000 sibling elements is answered with rpc-error too-big (never a
# silent close) under the default limit, and at once; the configured
# --max-elements is the limit, exactly; the same session and others go on.
# usage: limits.sh NETCONFD MAMORI
NETCONFD=${1:?usage: limits.sh NETCONFD MAMORI}
MAMORI=${2:?usage: limits.sh NETCONFD MAMORI}
MODULE_DIR=""
. "$(dirname "$0")/lib.sh"

filter() { # N: a <get> with a subtree filter of N sibling elements
  { printf '<get><filter type="subtree"><nacm xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-acm">'
    for ((i = 0; i < $1; i++)); do printf '<x/>'; done
    printf '</nacm></filter></get>\n'; } > "$T/get-$1.xml"
}
start_daemon
filter 80000
nc_admin rpc --file "$T/get-80000.xml" > "$T/out" 2>&1 && fail "80 000-element filter accepted"
grep -q 'too-big' "$T/out" || { cat "$T/out"; fail "no too-big rpc-error for 80 000 elements"; }
nc_admin get-config > /dev/null || fail "server stopped answering after the big filter"
finish

# The flag is the limit: 40 elements in the message pass, far more do not.
start_daemon --max-elements 40
filter 20
nc_admin rpc --file "$T/get-20.xml" > "$T/out" 2>&1 || { cat "$T/out"; fail "small filter refused under --max-elements 40"; }
filter 60
nc_admin rpc --file "$T/get-60.xml" > "$T/out" 2>&1 && fail "60-element filter accepted under --max-elements 40"
grep -q 'too-big' "$T/out" || fail "no too-big under --max-elements"
"$NETCONFD" --max-elements 0 --help >/dev/null 2>&1; [ $? -eq 2 ] || fail "--max-elements 0 not refused"
finish
echo "PASS"
