#!/bin/bash
# DKIM interop matrix, both ways, offline (keys from a key file, no DNS):
#   mamori-signed (rsa-sha256, ed25519-sha256; simple/relaxed; ACDC instances 1 and 2)
#     -> OpenDKIM `opendkim -t` and dkimpy verify pass; tampered copies fail in all three;
#   dkimpy-signed (rsa, ed25519; relaxed/simple) -> mamori verify passes, tampered fails.
# usage: interop.sh MAMORI
# SPDX-License-Identifier: Apache-2.0
set -u
source "$(dirname "$0")/lib.sh"
M=$(realpath "${1:?usage: interop.sh MAMORI}")
need_prog opendkim
need_dkimpy

cd "$TMP" || fail "no temp dir"
# CLI conventions (src/cli/cli.h): help 0, usage error 2, failure 1
"$M" dkim help > /dev/null || fail "dkim help"
"$M" dkim frobnicate > /dev/null 2>&1; [ $? = 2 ] || fail "unknown command is not a usage error"
"$M" dkim sign --key x > /dev/null 2>&1; [ $? = 2 ] || fail "sign without --domain is not a usage error"
"$M" dkim verify --key-file /nonexistent msg.eml > /dev/null 2>&1; [ $? = 1 ] || fail "missing key file is not exit 1"
ok "CLI exit codes: help 0, usage 2, failure 1"
# Keys: mamori keygen writes the private key (0600) and prints the TXT record.
txt_of() { sed -e 's/.*( //' -e 's/ )$//' -e 's/" "//g' -e 's/"//g'; }
"$M" dkim keygen --type rsa --out rsa.pem --domain example.test --selector mr > rsa.zone || fail "keygen rsa"
"$M" dkim keygen --type ed25519 --out ed.pem --domain example.test --selector me > ed.zone || fail "keygen ed25519"
[ "$(stat -c %a rsa.pem)" = 600 ] || fail "private key mode is not 0600"
{
    echo "mr._domainkey.example.test $(txt_of < rsa.zone)"
    echo "me._domainkey.example.test $(txt_of < ed.zone)"
} > keys.txt
ok "keygen rsa-2048 and ed25519, keys 0600"
# dkimpy keys for the other direction (dknewkey formats: PEM RSA and base64 Ed25519 seed)
"$PY" - <<'EOP' >> keys.txt || fail "dkimpy keys"
import base64, nacl.signing, subprocess
sk = nacl.signing.SigningKey.generate()
open('py-ed.key', 'wb').write(base64.b64encode(bytes(sk)))
print('pe._domainkey.example.test v=DKIM1; k=ed25519; p=' + base64.b64encode(bytes(sk.verify_key)).decode())
subprocess.run(['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048',
                '-out', 'py-rsa.pem'], check=True, capture_output=True)
der = subprocess.run(['openssl', 'pkey', '-in', 'py-rsa.pem', '-pubout', '-outform', 'DER'],
                     check=True, capture_output=True).stdout
print('pr._domainkey.example.test v=DKIM1; k=rsa; p=' + base64.b64encode(der).decode())
EOP

# A message with folding, trailing whitespace, empty lines at the end, 8-bit body text.
printf 'From: Alice <alice@example.test>\r\nTo: Bob <bob@example.net>,\r\n  Carol <carol@example.org>\r\nSubject:   interop   test  \r\nDate: Wed, 31 Dec 2025 12:00:00 +0000\r\nMessage-ID: <interop1@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Bob,  \r\n\tthis is\t a test.\r\nGr\xc3\xbc\xc3\x9fe\r\n\r\n\r\n' > msg.eml

# opendkim -t feeds headers through its milter path, which re-spaces header values (spec 2.7),
# so simple header canonicalization is checked against opendkim on a message whose header
# block is already in that normal form; dkimpy and mamori get the odd one too.
printf 'From: Alice <alice@example.test>\r\nTo: Bob <bob@example.net>\r\nSubject: interop test\r\nDate: Wed, 31 Dec 2025 12:00:00 +0000\r\nMessage-ID: <interop2@example.test>\r\n\r\nHello Bob,  \r\n\tthis is\t a test.\r\n\r\n' > plain.eml

tamper_body() { sed 's/a test/A test/' "$1" > "$2"; }

for spec in "rsa.pem mr relaxed/relaxed" "rsa.pem mr simple/simple" "rsa.pem mr relaxed/simple" \
            "ed.pem me relaxed/relaxed" "ed.pem me simple/relaxed"; do
    set -- $spec
    out="m-$2-${3/\//-}.eml"
    "$M" dkim sign --key "$1" --domain example.test --selector "$2" --canon "$3" msg.eml > "$out" \
        || fail "mamori sign $spec"
    if [ "${3%%/*}" = simple ]; then
        "$M" dkim sign --key "$1" --domain example.test --selector "$2" --canon "$3" plain.eml \
            > od.eml || fail "mamori sign $spec (plain)"
    else
        cp "$out" od.eml
    fi
    r=$(opendkim_verify od.eml); [ "$r" = pass ] || { cat opendkim.out; fail "opendkim on mamori $spec: $r"; }
    r=$(dkimpy_verify "$out"); [ "${r%% *}" = pass ] || fail "dkimpy on mamori $spec: $r"
    "$M" dkim verify --key-file keys.txt "$out" > /dev/null || fail "mamori on mamori $spec"
    ok "mamori-signed $2 $3 verifies with opendkim, dkimpy and mamori"
    tamper_body "$out" bad.eml
    tamper_body od.eml bad-od.eml
    r=$(opendkim_verify bad-od.eml); [ "$r" = fail ] || fail "opendkim passed a tampered body ($spec): $r"
    r=$(dkimpy_verify bad.eml); [ "${r%% *}" != pass ] || fail "dkimpy passed a tampered body ($spec)"
    "$M" dkim verify --key-file keys.txt bad.eml > v.out && fail "mamori passed a tampered body ($spec)"
    grep -q "dkim=fail" v.out || fail "mamori: tampered body is not dkim=fail ($spec)"
    ok "tampered copy of $2 $3 fails in all three"
done

# dkimpy -> mamori
for spec in "py-rsa.pem pr rsa-sha256 relaxed simple" "py-rsa.pem pr rsa-sha256 simple simple" \
            "py-ed.key pe ed25519-sha256 relaxed relaxed" "py-ed.key pe ed25519-sha256 relaxed simple"; do
    set -- $spec
    out="p-$2-$4-$5.eml"
    "$PY" /usr/bin/dkimsign --signalg "$3" --hcanon "$4" --bcanon "$5" "$2" example.test "$1" \
        < msg.eml > "$out" || fail "dkimsign $spec"
    "$M" dkim verify --key-file keys.txt "$out" > v.out || { cat v.out; fail "mamori on dkimpy $spec"; }
    grep -q "dkim=pass" v.out || fail "mamori A-R lacks dkim=pass ($spec)"
    if [ "$4" = relaxed ]; then
        r=$(opendkim_verify "$out"); [ "$r" = pass ] || fail "control: opendkim on dkimpy $spec: $r"
    fi
    tamper_body "$out" bad.eml
    "$M" dkim verify --key-file keys.txt bad.eml > v.out && fail "mamori passed tampered dkimpy $spec"
    ok "dkimpy-signed $3 $4/$5 verifies with mamori (tampered copy fails)"
done

# z= copies (for explain) are ordinary DKIM to the peers; explain names the changed field
"$M" dkim sign --copy-headers --key ed.pem --domain example.test --selector me msg.eml > z.eml || fail "sign z="
r=$(opendkim_verify z.eml); [ "$r" = pass ] || fail "opendkim on z=: $r"
r=$(dkimpy_verify z.eml); [ "${r%% *}" = pass ] || fail "dkimpy on z=: $r"
sed 's/interop   test/interop test!/' z.eml > zh.eml
"$M" dkim explain --key-file keys.txt zh.eml > ex.out
grep -q "changed Subject" ex.out || { cat ex.out; fail "explain did not name the changed Subject"; }
tamper_body z.eml zb.eml
"$M" dkim explain --key-file keys.txt zb.eml > ex.out
grep -q "body hash: DIFFERS" ex.out || { cat ex.out; fail "explain did not blame the body"; }
ok "z= signatures pass opendkim/dkimpy; explain names a changed Subject and a changed body"

# ACDC (provisional profile): classic verifiers see ordinary DKIM (v=1, unknown tags ignored).
"$M" dkim sign --key ed.pem --domain example.test --selector me --acdc 1 \
    --mail-from '<alice@example.test>' --rcpt '<list@lists.test>' --rcpt '<bob@example.net>' \
    msg.eml > acdc1.eml || fail "mamori ACDC sign instance 1"
"$M" dkim sign --key rsa.pem --domain example.test --selector mr --acdc 2 \
    --mail-from '<list-bounces@lists.test>' --rcpt '<carol@example.org>' \
    --received-for '<list@lists.test>' acdc1.eml > acdc2.eml || fail "mamori ACDC sign instance 2"
for i in 0 1; do
    r=$(dkimpy_verify acdc2.eml $i); [ "${r%% *}" = pass ] || fail "dkimpy on ACDC signature $i: $r"
done
r=$(opendkim_verify acdc2.eml); [ "$r" = pass ] || { cat opendkim.out; fail "opendkim on ACDC: $r"; }
ok "ACDC instances 1 and 2 verify as classic DKIM in dkimpy (both) and opendkim"
"$M" dkim verify --key-file keys.txt --mail-from '<list-bounces@lists.test>' \
    --rcpt '<carol@example.org>' acdc2.eml > v.out || { cat v.out; fail "mamori ACDC chain"; }
grep -q "x-acdc=pass" v.out || fail "mamori: ACDC result not pass"
"$M" dkim verify --key-file keys.txt --mail-from '<list-bounces@lists.test>' \
    --rcpt '<mallory@evil.test>' acdc2.eml > v.out && fail "mamori passed a replayed ACDC envelope"
grep -q "acdc-envelope-rcpt-not-authorized" v.out || fail "replay not named"
ok "mamori: ACDC chain passes for its envelope, replay to another recipient is detected"

# An intermediary edits (subject tag, footer), records the change, signs instance 2 over it.
sed -e 's/^Subject:   interop   test  /Subject: [list] interop test/' acdc1.eml > edited.eml
printf -- '-- \r\nlist footer\r\n' >> edited.eml
"$M" dkim sign --key rsa.pem --domain example.test --selector mr --acdc 2 --diff-from acdc1.eml \
    --mail-from '<list-bounces@lists.test>' --rcpt '<carol@example.org>' \
    --received-for '<list@lists.test>' edited.eml > hop2.eml || fail "sign with --diff-from"
grep -q '^ACDC-Diff: n=2' hop2.eml || fail "no change record written"   # [P] name, src/dkim/acdc_names.c
r=$(dkimpy_verify hop2.eml 0); [ "${r%% *}" = pass ] || fail "dkimpy on the hop's signature: $r"
r=$(opendkim_verify hop2.eml); [ "$r" = pass ] || { cat opendkim.out; fail "opendkim on the hop's signature: $r"; }
r=$(dkimpy_verify hop2.eml 1); [ "${r%% *}" != pass ] || fail "dkimpy passed the author's signature after the edit"
"$M" dkim verify --key-file keys.txt --mail-from '<list-bounces@lists.test>' \
    --rcpt '<carol@example.org>' hop2.eml > v.out
grep -q 'x-acdc=pass' v.out && grep -q 'x-acdc.instances=2' v.out || { cat v.out; fail "ACDC chain over the edit"; }
ok "edited hop: change record + instance 2; classic verifiers pass the hop's signature, mamori the whole chain"

echo "all $CHECKS checks passed"
