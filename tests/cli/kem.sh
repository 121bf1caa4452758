#!/usr/bin/env bash
# mamori kem through its real interface: KAT files, key files in binary and
# hex, round trips per level, clear errors. SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
MAMORI=$(realpath "${1:?path of the mamori binary}")
"$MAMORI" help | grep -q '^  kem ' || skip "this build has no kem noun"

# --- round trips at every level, binary and hex files
for L in 128 192 256; do
  "$MAMORI" kem keygen --level $L --pk "$TMP/pk$L" --sk "$TMP/sk$L" || fail "keygen $L"
  [ "$(stat -c %a "$TMP/sk$L")" = 600 ] || fail "secret key file not mode 0600"
  "$MAMORI" kem encaps --pk "$TMP/pk$L" --ct "$TMP/ct$L" --ss "$TMP/ss$L" || fail "encaps $L"
  "$MAMORI" kem decaps --sk "$TMP/sk$L" --ct "$TMP/ct$L" --ss "$TMP/ss2$L" || fail "decaps $L"
  cmp -s "$TMP/ss$L" "$TMP/ss2$L" || fail "level $L: decapsulated secret differs"
  # A flipped ciphertext bit gives a different (implicitly rejected) secret.
  python3 - "$TMP/ct$L" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[100] ^= 0x01
open(p, "wb").write(b)
PY
  "$MAMORI" kem decaps --sk "$TMP/sk$L" --ct "$TMP/ct$L" --ss "$TMP/ss3$L" || fail "decaps bad ct"
  cmp -s "$TMP/ss$L" "$TMP/ss3$L" && fail "level $L: tampered ciphertext gave the same secret"
done
# Hex files and stdin/stdout work the same way.
"$MAMORI" kem keygen --level 192 --pk "$TMP/hpk" --sk "$TMP/hsk" --hex || fail "keygen --hex"
"$MAMORI" kem encaps --pk "$TMP/hpk" --hex > "$TMP/enc" || fail "encaps to stdout"
sed -n 's/^ct = //p' "$TMP/enc" > "$TMP/hct"
want=$(sed -n 's/^ss = //p' "$TMP/enc")
got=$("$MAMORI" kem decaps --sk "$TMP/hsk" --ct - < "$TMP/hct") || fail "decaps from stdin"
[ -n "$want" ] && [ "$got" = "$want" ] || fail "hex/stdin round trip: '$got' != '$want'"
ok "keygen/encaps/decaps round trips at 128/192/256 (binary, hex, stdin/stdout); tampered ciphertexts rejected implicitly"

# --- wrong input is refused clearly
head -c 100 "$TMP/pk128" > "$TMP/short"
if "$MAMORI" kem encaps --pk "$TMP/short" > /dev/null 2> "$TMP/e"; then fail "short pk accepted"; fi
[ -s "$TMP/e" ] || fail "short pk: no error message"
printf '# scloudplus128\n\ncount = 0\nseed = 00\n' > "$TMP/bad.rsp"
if "$MAMORI" kem kat "$TMP/bad.rsp" > "$TMP/o" 2>&1; then fail "malformed rsp accepted"; fi
ok "truncated keys and malformed KAT files are refused"

# --- the known-answer files of ../shared, when present
# bench prints cycles as its help says (rdtsc on x86; "n/a" elsewhere): only
# the shape of the output is checked, never a timing.
"$MAMORI" kem bench --level 128 --iterations 3 > "$TMP/bench" || fail "kem bench"
for op in keygen encaps decaps; do
  case $(uname -m) in
  x86_64 | i?86) grep -Eq "^scloudplus128 +[a-z0-9]+ +$op +[0-9]+ cycles +[0-9.]+ us" "$TMP/bench" ;;
  *) grep -Eq "^scloudplus128 +[a-z0-9]+ +$op +(n/a|[0-9]+) cycles" "$TMP/bench" ;;
  esac || fail "kem bench: no cycles for $op: $(cat "$TMP/bench")"
done
"$MAMORI" kem help 2>&1 | grep -q "median cycles" || fail "kem help does not mention cycles"
ok "mamori kem bench prints median cycles and microseconds per operation"

KAT="${MM_SHARED_DIR:-}/kat"
if [ ! -d "$KAT" ]; then
  skip "$KAT is absent (the shared test data, MM_SHARED_DIR): the KAT-file part did not run"
fi
for L in 128 192 256; do
  "$MAMORI" kem kat "$KAT/scloudplus$L.rsp" > "$TMP/kat" || { cat "$TMP/kat"; fail "kat $L"; }
  [ "$(tail -n 1 "$TMP/kat")" = "10 passed, 0 failed" ] || fail "kat $L closing line"
  "$MAMORI" kem kat "$KAT/alt-openhitls/scloudplus$L-openhitls.rsp" > "$TMP/kat" || fail "openhitls kat $L"
  [ "$(tail -n 1 "$TMP/kat")" = "10 passed, 0 failed" ] || fail "openhitls kat $L closing line"
done
# The reference variant must not pass the openHiTLS vectors (they differ in encaps).
if "$MAMORI" kem kat "$KAT/alt-openhitls/scloudplus192-openhitls.rsp" --variant reference > "$TMP/kat"; then
  fail "openHiTLS vectors passed under the reference variant"
fi
grep -q '^0 passed, 10 failed$' "$TMP/kat" || fail "mismatch not reported as 10 failures"
ok "mamori kem kat: all shared KAT files pass, both variants; a wrong variant fails"
