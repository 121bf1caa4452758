#!/usr/bin/env bash
# `mamori audit` command line: help, usage errors, exit statuses, text and
# JSON output, the progress line, verify-log's hook. No root needed.
# usage: cli.sh MAMORI. SPDX-License-Identifier: Apache-2.0
MAMORI=$(realpath "${1:?mamori}")
. "$(dirname "$0")/../../cli/lib.sh"
CONF=${MM_SOURCE_ROOT:?}/tests/unit/audit/conf

"$MAMORI" audit help | grep -q '^  ah ' || fail "help lists no ah verb"
"$MAMORI" audit ah --help | grep -q 'draft-herbert-deprecate-auth-header' || fail "ah help"
"$MAMORI" help audit | grep -q 'verify-log' || fail "mamori help audit"
"$MAMORI" audit >/dev/null 2>&1; [ $? = 2 ] || fail "no verb must exit 2"
"$MAMORI" audit frobnicate 2>"$TMP/e"; [ $? = 2 ] || fail "unknown verb must exit 2"
grep -q "unknown verb 'frobnicate'" "$TMP/e" || fail "unknown verb message"
"$MAMORI" audit ah 2>"$TMP/e"; [ $? = 2 ] || fail "ah without a source must exit 2"
grep -q 'nothing to audit' "$TMP/e" || fail "ah without a source: message"
"$MAMORI" audit ah --pcap 2>/dev/null; [ $? = 2 ] || fail "--pcap without a value must exit 2"
"$MAMORI" audit ah --live lo --duration x 2>/dev/null; [ $? = 2 ] || fail "bad --duration"
ok "help and usage errors"

# verify-log: the core provides it, or the hook says it is missing.
"$MAMORI" audit verify-log --help >"$TMP/v" 2>&1
rc=$?
if grep -q 'not available in this build' "$TMP/v"; then
  [ $rc = 2 ] || fail "verify-log missing: exit $rc"
  ok "verify-log: not available in this build (exit 2)"
else
  [ $rc = 0 ] || fail "verify-log --help: exit $rc: $(cat "$TMP/v")"
  ok "verify-log is connected"
fi

# Configs: found (1), clean (0), unreadable (2).
"$MAMORI" audit ah --config "$CONF/swanctl-ah.conf" >"$TMP/out"
[ $? = 1 ] || fail "swanctl with AH: exit status"
grep -q '^AH_CONFIGURED config: .*swanctl-ah.conf:15 connections.gw-gw.children.net-net. 192.0.2.1 -> 198.51.100.7' \
  "$TMP/out" || fail "swanctl finding: $(cat "$TMP/out")"
grep -q '^recommendation: .*ESP-NULL' "$TMP/out" || fail "recommendation missing"
"$MAMORI" audit ah --swanctl "$CONF/swanctl-esp.conf" >"$TMP/out"
[ $? = 0 ] || fail "ESP-only swanctl: exit status"
grep -q '^NO_AH' "$TMP/out" || fail "ESP-only swanctl: verdict"
"$MAMORI" audit ah --ipsec-conf "$CONF/ipsec-libreswan.conf" --json >"$TMP/j"
[ $? = 1 ] || fail "libreswan: exit status"
[ "$(jq '.findings | length' "$TMP/j")" = 3 ] || fail "libreswan: $(cat "$TMP/j")"
"$MAMORI" audit ah --config "$TMP/nope.conf" >"$TMP/out"
[ $? = 2 ] || fail "missing config must exit 2"
grep -q "error: .*nope.conf: cannot read: No such file" "$TMP/out" || fail "missing config message"
ok "config scanning: exit 1 / 0 / 2 with file:line findings"

# A capture written here: pcap header (LINKTYPE_RAW) and one IPv4 + AH record.
le32() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))\\x$(printf %02x $((($1 >> 16) & 255)))\\x$(printf %02x $((($1 >> 24) & 255)))"; }
{
  printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00'; le32 0; le32 0; le32 65535; le32 101
  le32 1700000000; le32 0; le32 44; le32 44
  printf '\x45\x00\x00\x2c\x00\x00\x00\x00\x40\x33\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02'
  printf '\x06\x04\x00\x00\x00\x00\xbe\xef\x00\x00\x00\x2a'
  printf '\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5'
} >"$TMP/one.pcap"
"$MAMORI" audit ah --pcap "$TMP/one.pcap" --progress >"$TMP/out" 2>"$TMP/err"
[ $? = 1 ] || fail "one AH packet: exit status: $(cat "$TMP/out" "$TMP/err")"
grep -q 'AH_IN_USE packet: .*one.pcap 10.0.0.1 -> 10.0.0.2 spi 0x0000beef' "$TMP/out" \
  || fail "packet finding: $(cat "$TMP/out")"
grep -q '1 packets, frames 1-1, seq 42-42' "$TMP/out" || fail "packet counts"
grep -q 'one.pcap: 0/0 MiB (100%), 1 frames' "$TMP/err" || fail "progress line: $(cat "$TMP/err")"
# The same file cut inside the record: the error names it, exit 2.
head -c 60 "$TMP/one.pcap" >"$TMP/cut.pcap"
"$MAMORI" audit ah --pcap "$TMP/cut.pcap" --json >"$TMP/j"
[ $? = 2 ] || fail "truncated capture must exit 2"
jq -e '.errors[0] | test("after frame 0: truncated")' "$TMP/j" >/dev/null \
  || fail "truncated capture message: $(cat "$TMP/j")"
printf 'not a capture' >"$TMP/text.pcap"
"$MAMORI" audit ah --pcap "$TMP/text.pcap" >/dev/null; [ $? = 2 ] || fail "text file must exit 2"
ok "captures: finding, progress line, truncated and bogus files exit 2"
