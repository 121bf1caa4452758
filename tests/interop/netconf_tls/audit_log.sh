#!/usr/bin/env bash
# The audit log of a real mamori-netconfd, through the CLI an operator uses:
# a record of any size is written (a 9000-character list key is audited, not
# dropped), `mamori audit verify-log` passes on the live log, and detects an
# edited record, a cut-off tail and a log re-chained without the key.
# usage: audit_log.sh NETCONFD MAMORI
NETCONFD=${1:?usage: audit_log.sh NETCONFD MAMORI}
MAMORI=${2:?usage: audit_log.sh NETCONFD MAMORI}
MODULE_DIR=""
. "$(dirname "$0")/lib.sh"
start_daemon
LOG="$T/state/audit.log"
key=$(head -c 9000 /dev/zero | tr '\0' 'k')
printf '<nacm xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-acm"><groups><group><name>%s</name><user-name>x</user-name></group></groups></nacm>\n' \
  "$key" > "$T/edit.xml"
out=$(nc_admin edit-config --target running --config "$T/edit.xml") || fail "edit-config: $out"
[ "$out" = "ok" ] || fail "edit-config answered: $out"
finish
# The acknowledged change has its record, shortened but there.
grep -q '"action":"create".*kkkk.*bytes]' "$LOG" || fail "no audit record for the 9000-character key"
"$MAMORI" audit verify-log "$LOG" > "$T/v.out" || { cat "$T/v.out"; fail "verify-log on the live log"; }
grep -q 'intact' "$T/v.out" || fail "verify-log did not say intact"
n=$(wc -l < "$LOG")
"$MAMORI" audit verify-log "$LOG" --json | grep -q "\"records\": *$n\|\"records\":$n" ||
  fail "verify-log --json does not count $n records"

cp "$LOG" "$T/orig.log"
# 1. An edited record (a denial turned into a permit, or any other change).
sed -i '2s/"decision":"[a-z]*"/"decision":"forged"/' "$LOG"
"$MAMORI" audit verify-log "$LOG" > "$T/v.out" 2> "$T/v.err"; rc=$?
[ $rc -eq 1 ] || fail "edited record: exit $rc, want 1"
grep -q 'record 2 ' "$T/v.err" || fail "edited record: first bad record not named: $(cat "$T/v.err")"
# 2. The tail cut off.
cp "$T/orig.log" "$LOG"
head -n $((n - 2)) "$T/orig.log" > "$LOG"
"$MAMORI" audit verify-log "$LOG" 2> "$T/v.err" >/dev/null; rc=$?
[ $rc -eq 1 ] || fail "truncated log: exit $rc, want 1"
grep -q 'truncated' "$T/v.err" || fail "truncation not named: $(cat "$T/v.err")"
# 3. No key: cannot check (exit 2), and says why.
cp "$T/orig.log" "$LOG"
mv "$LOG.key" "$T/key"
"$MAMORI" audit verify-log "$LOG" 2> "$T/v.err" >/dev/null; rc=$?
[ $rc -eq 2 ] || fail "missing key: exit $rc, want 2"
"$MAMORI" audit verify-log "$LOG" --key "$T/key" >/dev/null || fail "--key KEYFILE"
[ "$(stat -c %a "$T/key")" = 600 ] || fail "audit key is not 0600"
echo "PASS"
