#!/bin/bash
# inadyn (Debian's 2.10, HTTP/1.0, custom dyndns2 provider) updates through
# /nic/update over HTTPS, trusting the ddnsd CA.
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"
need_prog curl
need_prog python3
INADYN=$(command -v inadyn || echo /usr/sbin/inadyn)
[ -x "$INADYN" ] || skip "inadyn not installed"

T=$(seed_token)
start_ddnsd

run_inadyn() { # run_inadyn IP
    cat > "$TMP/inadyn.conf" <<CONF
period = 300
verify-address = false
ca-trust-file = $CA
custom apertodns-local {
    ssl             = true
    username        = $HOST
    password        = $T
    ddns-server     = 127.0.0.1:$PORT
    ddns-path       = "/nic/update?hostname=%h&myip=%i"
    checkip-command = "echo $1"
    hostname        = $HOST
}
CONF
    chmod 600 "$TMP/inadyn.conf"
    mkdir -p "$TMP/inadyn-cache"
    "$INADYN" -1 --force -n -l debug -f "$TMP/inadyn.conf" --cache-dir="$TMP/inadyn-cache" \
        -P "$TMP/inadyn.pid" >"$TMP/inadyn.log" 2>&1
}
run_inadyn 198.51.100.44 || fail "inadyn exited with an error"
r=$(api GET /status/$HOST)
[ "$(jget "${r#* }" data.ipv4)" = 198.51.100.44 ] || fail "status after inadyn: $r"
ok "inadyn set 198.51.100.44 over HTTPS"
run_inadyn 198.51.100.45 || fail "second inadyn run"
r=$(api GET /status/$HOST)
[ "$(jget "${r#* }" data.ipv4)" = 198.51.100.45 ] || fail "second inadyn run: $r"
ok "inadyn changed it to 198.51.100.45"
grep -q '"reason":"dyndns2 ipv4=198.51.100.45' "$STATE/audit.log" || fail "inadyn update not audited"
ok "inadyn update audited"
