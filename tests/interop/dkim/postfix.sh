#!/bin/bash
# End to end with a real Postfix on loopback (private config and queue in a temp dir):
#   swaks -> Postfix smtpd (listener A, milter mamori-dkimd signing) -> smtp-sink;
#   the delivered message -> Postfix listener B (milter mamori-dkimd verifying) -> smtp-sink.
# Checks the delivered messages' signatures (mamori with the envelope smtp-sink saw, OpenDKIM,
# dkimpy) and the Authentication-Results added on the second pass.
# usage: postfix.sh MAMORI MAMORI-DKIMD   (needs root: Postfix's master runs as root)
# SPDX-License-Identifier: Apache-2.0
set -u
source "$(dirname "$0")/lib.sh"
M=$(realpath "${1:?usage: postfix.sh MAMORI MAMORI-DKIMD}")
D=$(realpath "${2:?usage: postfix.sh MAMORI MAMORI-DKIMD}")
need_prog postfix
need_prog smtp-sink
need_prog swaks
need_prog opendkim
need_dkimpy
if [ "$(id -u)" != 0 ]; then
    # not a missing peer but a missing privilege: skipped even in CI, and said so
    echo "SKIP: Postfix's master process needs root (run the suite as root for this test)" >&2
    exit $SKIP
fi
id postfix >/dev/null 2>&1 || skip "no postfix user"
cd "$TMP" || fail "no temp dir"
chmod 755 "$TMP"

txt_of() { sed -e 's/.*( //' -e 's/ )$//' -e 's/" "//g' -e 's/"//g'; }
"$M" dkim keygen --type rsa --out rsa.pem --domain example.test --selector mr > rsa.zone || fail keygen
"$M" dkim keygen --type ed25519 --out ed.pem --domain example.test --selector me > ed.zone || fail keygen
{
    echo "mr._domainkey.example.test $(txt_of < rsa.zone)"
    echo "me._domainkey.example.test $(txt_of < ed.zone)"
} > keys.txt

MA=$(free_port); MB=$(free_port); PA=$(free_port); PB=$(free_port); SINK=$(free_port)
milter_conf() { # NAME PORT INTERNAL-CLIENTS
    cat > "$1.json" <<EOC
{"mamori-dkim:dkim": {"socket": "inet:$2@127.0.0.1", "authserv-id": "mx.example.net",
  "audit-log": "$TMP/$1-audit.log", "keys": {"key-file": "$TMP/keys.txt"},
  "internal-client": $3,
  "signing-key": [
    {"domain": "example.test", "selector": "mr", "key-file": "$TMP/rsa.pem"},
    {"domain": "example.test", "selector": "me", "key-file": "$TMP/ed.pem"}]}}
EOC
    "$D" -c "$1.json" > "$1.log" 2>&1 &
    PIDS="$PIDS $!"
    wait_port "$2" || { cat "$1.log"; fail "milter $1 did not listen"; }
}
milter_conf signer "$MA" '["127.0.0.1"]'
milter_conf verifier "$MB" '["192.0.2.1"]'

mkdir -p sink && chown postfix sink
smtp-sink -u postfix -d "$TMP/sink/%M." "127.0.0.1:$SINK" 100 > sink.log 2>&1 &
PIDS="$PIDS $!"
wait_port "$SINK" || fail "smtp-sink did not listen"

mkdir -p pf/conf pf/queue pf/data && chown postfix pf/data
cat > pf/conf/main.cf <<EOC
compatibility_level = 3.6
queue_directory = $TMP/pf/queue
data_directory = $TMP/pf/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.example.net
mydomain = example.net
mydestination =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK
smtp_dns_support_level = disabled
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
milter_default_action = tempfail
milter_protocol = 6
maillog_file_prefixes = $TMP
maillog_file = $TMP/pf/maillog
smtp_tls_security_level = none
smtpd_tls_security_level = none
EOC
cat > pf/conf/master.cf <<EOC
127.0.0.1:$PA inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$MA
127.0.0.1:$PB inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$MB
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOC
EXTRA_CLEANUP="postfix -c '$TMP/pf/conf' stop >/dev/null 2>&1"
script -qc "postfix -c '$TMP/pf/conf' start" /dev/null > pf/start.log 2>&1 && [ -s pf/queue/pid/master.pid ] || { cat pf/start.log; fail "postfix start"; }
wait_port "$PA" && wait_port "$PB" || { cat pf/start.log pf/maillog 2>/dev/null; fail "postfix did not listen"; }
ok "private Postfix instance on 127.0.0.1:$PA/$PB with mamori-dkimd as milter, smtp-sink behind it"

# wait_sink N: until N messages were dumped (bounded, 20 s)
wait_sink() {
    for _ in $(seq 1 400); do
        [ "$(ls sink | wc -l)" -ge "$1" ] && return 0
        read -r -t 0.05 < /dev/zero 2>/dev/null || true
    done
    tail -20 pf/maillog; fail "sink has $(ls sink | wc -l) messages, expected $1"
}

swaks --server "127.0.0.1:$PA" --from alice@example.test --to bob@example.net,carol@example.org \
    --header "Subject: postfix end to end" --header "Message-ID: <e2e1@example.test>" \
    --body "Hello through Postfix." > swaks1.log 2>&1 || { cat swaks1.log; fail "swaks to A"; }
wait_sink 1
d1=$(ls sink/* | head -1)
# smtp-sink writes the envelope it received as X-Mail-Args / X-Rcpt-Args
mf=$(sed -n 's/^X-Mail-Args: \(<[^>]*>\).*/\1/p' "$d1" | head -1)
mapfile -t rcpts < <(sed -n 's/^X-Rcpt-Args: \(<[^>]*>\).*/\1/p' "$d1")
[ "$mf" = "<alice@example.test>" ] && [ "${#rcpts[@]}" = 2 ] || fail "sink envelope: $mf ${rcpts[*]}"
[ "$(grep -c '^DKIM-Signature:' "$d1")" = 2 ] || { cat "$d1"; fail "delivered message lacks 2 signatures"; }
rargs=(); for r in "${rcpts[@]}"; do rargs+=(--rcpt "$r"); done
"$M" dkim verify --key-file keys.txt --mail-from "$mf" "${rargs[@]}" "$d1" > v1.out \
    || { cat v1.out; fail "mamori on the delivered message"; }
grep -q "x-acdc=pass" v1.out || fail "ACDC envelope of the delivered message: $(cat v1.out)"
r=$(opendkim_verify "$d1"); [ "$r" = pass ] || { cat opendkim.out; fail "opendkim on delivered: $r"; }
for i in 0 1; do r=$(dkimpy_verify "$d1" $i); [ "${r%% *}" = pass ] || fail "dkimpy sig $i: $r"; done
ok "signed by the milter in Postfix; delivered copy verifies (mamori + ACDC with the sink's envelope, opendkim, dkimpy)"

# second pass: the delivered message, re-injected for the same envelope, is verified
grep -v '^X-\(Client-Addr\|Client-Proto\|Helo-Args\|Mail-Args\|Rcpt-Args\):' "$d1" > resend.eml
swaks --server "127.0.0.1:$PB" --from alice@example.test --to bob@example.net,carol@example.org \
    --data resend.eml > swaks2.log 2>&1 || { cat swaks2.log; fail "swaks to B"; }
wait_sink 2
d2=$(ls -t sink/* | head -1)
ar=$(sed -n '/^Authentication-Results: mx.example.net/,/^[^ \t]/p' "$d2")
[ "$(grep -o 'dkim=pass' <<< "$ar" | wc -l)" = 2 ] || { cat "$d2"; fail "A-R: $ar"; }
grep -q 'x-acdc=pass' <<< "$ar" || fail "A-R ACDC: $ar"
ok "verifying milter in Postfix adds Authentication-Results: dkim=pass x2, x-acdc=pass"

# replay: the same signed message to a recipient outside the signed envelope
swaks --server "127.0.0.1:$PB" --from alice@example.test --to mallory@evil.test \
    --data resend.eml > swaks3.log 2>&1 || { cat swaks3.log; fail "swaks replay"; }
wait_sink 3
d3=$(ls -t sink/* | head -1)
grep -q 'acdc-envelope-rcpt-not-authorized' "$d3" || { cat "$d3"; fail "replay not flagged"; }
ok "replay through Postfix to another recipient is flagged (x-acdc fail)"
echo "all $CHECKS checks passed"
