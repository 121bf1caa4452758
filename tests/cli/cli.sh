#!/usr/bin/env bash
# The mamori command: help, version --json, pki init/issue through the CLI.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
MAMORI=$(realpath "${1:?path of the mamori binary}")

"$MAMORI" help | grep -q '^  pki ' || fail "help lacks pki"
"$MAMORI" help pki | grep -q 'mamori pki init' || fail "help pki"
"$MAMORI" pki --help | grep -q 'issue --client' || fail "pki --help"
"$MAMORI" bogus 2> "$TMP/e" && fail "unknown noun accepted"
[ "$("$MAMORI" bogus 2>/dev/null; echo $?)" = 2 ] || fail "unknown noun: exit status not 2"
grep -q "unknown noun 'bogus'" "$TMP/e" || fail "unknown noun message"
"$MAMORI" version --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["name"]=="mamori" and d["version"]' \
  || fail "version --json"
ok "help, version, errors"

D="$TMP/pki"
"$MAMORI" pki init --dir "$D" > "$TMP/o" || fail "pki init"
grep -q 'created a local PKI' "$TMP/o" || fail "pki init output"
[ "$(stat -c %a "$D/server.key")" = 600 ] || fail "server.key mode"
if "$MAMORI" pki init --dir "$D" 2> "$TMP/e"; then fail "pki init overwrote without --force"; fi
grep -q -- '--force' "$TMP/e" || fail "refusal does not mention --force"
before=$(sha256sum < "$D/ca.crt")
"$MAMORI" pki init --dir "$D" --force --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["result"]=="created"' || fail "pki init --force --json"
[ "$before" != "$(sha256sum < "$D/ca.crt")" ] || fail "--force did not replace the CA"
"$MAMORI" pki issue --client ops-1 --dir "$D" > /dev/null || fail "pki issue"
openssl verify -CAfile "$D/ca.crt" "$D/clients/ops-1.crt" "$D/server.crt" "$D/client.crt" > /dev/null || fail "openssl verify"
openssl x509 -in "$D/clients/ops-1.crt" -noout -subject | grep -q 'CN = ops-1' || fail "client CN"
if "$MAMORI" pki issue --client 'bad/name' --dir "$D" 2>/dev/null; then fail "bad client name accepted"; fi
if "$MAMORI" pki issue --client x --dir "$TMP/none" 2> "$TMP/e"; then fail "issue without CA"; fi
grep -q 'pki init' "$TMP/e" || fail "missing CA hint"
ok "pki init/issue through the CLI; chain verifies with openssl verify"
