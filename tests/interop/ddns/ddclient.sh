#!/bin/bash
# ddclient (Debian's 3.10, dyndns2 protocol) updates through /nic/update over
# HTTPS, verifying the server against the ddnsd CA.
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"
need_prog curl
need_prog python3
DDCLIENT=$(command -v ddclient || echo /usr/sbin/ddclient)
[ -x "$DDCLIENT" ] || skip "ddclient not installed"
perl -MIO::Socket::SSL -e 1 2>/dev/null || skip "perl IO::Socket::SSL missing"

T=$(seed_token)
start_ddnsd

run_ddclient() { # run_ddclient IP (the log goes to $TMP/ddclient.out: fail() shows *.log)
    cat > "$TMP/ddclient.conf" <<CONF
daemon=0
ssl=yes
ssl_ca_file=$CA
use=ip, ip=$1
protocol=dyndns2
server=127.0.0.1:$PORT
login=$HOST
password=$T
$HOST
CONF
    chmod 600 "$TMP/ddclient.conf"
    timeout 60 "$DDCLIENT" -daemon=0 -noquiet -verbose -force -file "$TMP/ddclient.conf" \
        -cache "$TMP/ddclient.cache" >"$TMP/ddclient.log" 2>&1
}
run_ddclient 198.51.100.23
grep -q "SUCCESS" "$TMP/ddclient.log" || fail "ddclient did not report success"
r=$(api GET /status/$HOST)
[ "$(jget "${r#* }" data.ipv4)" = 198.51.100.23 ] || fail "status after ddclient: $r"
ok "ddclient set 198.51.100.23 over HTTPS"
run_ddclient 198.51.100.24
r=$(api GET /status/$HOST)
[ "$(jget "${r#* }" data.ipv4)" = 198.51.100.24 ] || fail "second ddclient run: $r"
ok "ddclient changed it to 198.51.100.24"
grep -q '"reason":"dyndns2 ipv4=198.51.100.24' "$STATE/audit.log" || fail "ddclient update not audited"
ok "ddclient update audited"
# a wrong password: ddclient sees badauth and nothing changes
T_REAL=$T
T=mamori_test_wrongwrongwrongwrongwrongwrong
run_ddclient 198.51.100.25
T=$T_REAL
grep -qi "badauth" "$TMP/ddclient.log" || fail "ddclient did not see badauth"
r=$(api GET /status/$HOST)
[ "$(jget "${r#* }" data.ipv4)" = 198.51.100.24 ] || fail "a bad password changed the record: $r"
ok "wrong password: badauth, record unchanged"
