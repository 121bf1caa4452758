#!/bin/bash
# The curl recipes of docs/ddnsd.md, run exactly as written against
# mamori-ddnsd in test mode; each line's output is checked.
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"
need_prog curl
need_prog python3
DOC="$MM_SOURCE_ROOT/docs/ddnsd.md"
[ -f "$DOC" ] || fail "$DOC missing"

T=$(seed_token)
export T
start_ddnsd

sed -n '/<!-- recipes:begin -->/,/<!-- recipes:end -->/p' "$DOC" | sed '1,2d;$d' | sed '$d' \
    > "$TMP/recipes.sh"
[ "$(wc -l < "$TMP/recipes.sh")" -ge 12 ] || fail "recipes not found in $DOC"

# Expected output of each recipe line (after the first, which sets variables).
expect=(
  '"protocol":"apertodns"'
  '"status":"healthy"'
  '"ipv4":"203.0.113.1"'
  '"ipv6":"2001:db8::1"'
  '"ipv4":null,"ipv6":"2001:db8::1"'
  '"hostname":"home.example.net","ipv4":null,"ipv6":"2001:db8::1"'
  '"data":[{"hostname":"home.example.net"'
  '"summary":{"total":1,"successful":1,"failed":0}'
  '"value":"tok","ttl":60,"record_count":1'
  '"values":["tok"]'
  '"deleted":true,"values_removed":1,"remaining_count":0'
  'good 198.51.100.7'
)
head -n 1 "$TMP/recipes.sh" > "$TMP/vars.sh"
i=0
while IFS= read -r line; do
    out=$(bash -c ". '$TMP/vars.sh'; $line") || fail "recipe failed: $line"
    want=${expect[$i]}
    case "$out" in
        *"$want"*) ok "recipe $((i + 1)): $want" ;;
        *) fail "recipe $((i + 1)): '$line' gave '$out', wanted '$want'" ;;
    esac
    i=$((i + 1))
done < <(tail -n +2 "$TMP/recipes.sh")
[ "$i" -eq "${#expect[@]}" ] || fail "ran $i recipes, expected ${#expect[@]}"
# the TLS group: hybrid offered first, X25519 negotiated with stock curl (OpenSSL 3.0)
echo "all ${#expect[@]} recipes passed"
