#!/bin/bash
# misconfig.sh PROVIDER_DIR - every provider misconfiguration fails loudly in
# Debian's openssl, curl and nginx instead of quietly falling back to X25519:
#   codepoint of a group OpenSSL knows (29 = x25519), a value outside the
#   private-use range, a duplicate, a bad number, a clash with a group of
#   another loaded provider, and a wrong module path.
# Each case: `openssl s_client` and curl (against a healthy nginx) must exit
# non-zero printing the precise reason; nginx with that config must refuse to
# start and log it. allow_any_codepoint = yes must make the out-of-range value
# work (negotiated, checked in nginx's log).
#
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"

PROVDIR=${1:?usage: $0 PROVIDER_DIR}
need_prog openssl
need_prog curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip "nginx not found (apt-get install nginx-light)"
need_loadable "$PROVDIR"
curl --version | grep -q OpenSSL/3 || skip "curl is not built with OpenSSL 3"
make_cert

# nginx_conf DIR PORT: a one-server nginx config using the hybrids.
nginx_conf() {
    mkdir -p "$1/logs"
    cat >"$1/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/logs/error.log info;
env OPENSSL_CONF;
events { worker_connections 16; }
http {
    log_format groups '\$ssl_curve \$request_uri';
    access_log $1/logs/access.log groups;
    client_body_temp_path $1/body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
    server {
        listen 127.0.0.1:$2 ssl;
        server_name localhost;
        ssl_certificate $TMP/server.crt;
        ssl_certificate_key $TMP/server.key;
        ssl_protocols TLSv1.3;
        ssl_ecdh_curve X25519SCloud+128:X25519;
        location / { return 200 "hello from nginx\n"; }
    }
}
CONF
}

# A healthy nginx (good config) for the curl cases.
write_cnf "$TMP/good.cnf" "$PROVDIR"
PORT=$(free_port)
nginx_conf "$TMP/ngx" "$PORT"
OPENSSL_CONF="$TMP/good.cnf" "$NGINX" -p "$TMP/ngx" -c "$TMP/ngx/nginx.conf" \
    -e "$TMP/ngx/logs/error.log" >"$TMP/ngx.out" 2>&1 &
PIDS="$PIDS $!"
wait_port "$PORT" || fail "healthy nginx did not start: $(tail -5 "$TMP/ngx/logs/error.log")"

# expect_loud NAME CNF PATTERN [CLIENT_GROUP_ARGS...]: s_client, curl and nginx
# under CNF all fail and print PATTERN (a fixed string).
expect_loud() {
    name=$1 cnf=$2 pat=$3
    shift 3
    # openssl s_client
    OPENSSL_CONF="$cnf" timeout 20 openssl s_client -connect "127.0.0.1:$PORT" "$@" \
        </dev/null >"$TMP/$name.s_client" 2>&1 && fail "$name: s_client succeeded"
    grep -qF -- "$pat" "$TMP/$name.s_client" ||
        fail "$name: s_client did not say '$pat': $(head -5 "$TMP/$name.s_client")"
    echo "ok - $name: openssl s_client: $(grep -F -m1 -- "$pat" "$TMP/$name.s_client" | cut -c1-160)"
    # curl (the curves argument, if any, is the client's group list)
    curves=()
    [ $# -gt 0 ] && curves=(--curves "${2}")
    OPENSSL_CONF="$cnf" curl -sS --max-time 20 --cacert "$TMP/server.crt" "${curves[@]}" \
        --resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/$name" \
        >"$TMP/$name.curl" 2>&1 && fail "$name: curl succeeded: $(cat "$TMP/$name.curl")"
    grep -qF -- "${CURL_PAT:-$pat}" "$TMP/$name.curl" ||
        fail "$name: curl did not say '${CURL_PAT:-$pat}': $(cat "$TMP/$name.curl")"
    echo "ok - $name: curl: $(head -1 "$TMP/$name.curl" | cut -c1-160)"
    # nginx must refuse to start
    p2=$(free_port)
    nginx_conf "$TMP/ngx-$name" "$p2"
    OPENSSL_CONF="$cnf" timeout 20 "$NGINX" -p "$TMP/ngx-$name" -c "$TMP/ngx-$name/nginx.conf" \
        -e "$TMP/ngx-$name/logs/error.log" >"$TMP/ngx-$name.out" 2>&1 &&
        fail "$name: nginx started with a bad configuration"
    cat "$TMP/ngx-$name/logs/error.log" >>"$TMP/ngx-$name.out" 2>/dev/null
    grep -qF -- "${NGINX_PAT:-$pat}" "$TMP/ngx-$name.out" ||
        fail "$name: nginx did not say '${NGINX_PAT:-$pat}': $(tail -3 "$TMP/ngx-$name.out")"
    echo "ok - $name: nginx: $(grep -F -m1 -- "${NGINX_PAT:-$pat}" "$TMP/ngx-$name.out" | cut -c1-160)"
}

write_cnf "$TMP/x25519.cnf" "$PROVDIR" "x25519_scloudplus128_codepoint = 29"
expect_loud known "$TMP/x25519.cnf" \
    "x25519_scloudplus128_codepoint = 29 is the codepoint of x25519 (RFC 8446): refused"

write_cnf "$TMP/range.cnf" "$PROVDIR" "secp256r1_scloudplus192_codepoint = 0x6399"
expect_loud range "$TMP/range.cnf" \
    "secp256r1_scloudplus192_codepoint = 0x6399 is outside the private-use range"

write_cnf "$TMP/dup.cnf" "$PROVDIR" "scloudplus128_codepoint = 0xFE50"
expect_loud duplicate "$TMP/dup.cnf" "X25519SCloud+128 and scloudplus128 share codepoint 0xFE50"

write_cnf "$TMP/num.cnf" "$PROVDIR" "scloudplus256_codepoint = 0x1FFFF"
expect_loud number "$TMP/num.cnf" "bad scloudplus256_codepoint = 0x1FFFF"

write_cnf "$TMP/bool.cnf" "$PROVDIR" "allow_any_codepoint = maybe"
expect_loud bool "$TMP/bool.cnf" "bad allow_any_codepoint = maybe"

# A second provider (the same module under another name, on other values)
# already announces a group on 0xFE60.
write_cnf "$TMP/clash.cnf" "$PROVDIR" "x25519_scloudplus128_codepoint = 0xFE60"
sed -i "s|^scloudplus = scloudplus_sect|other = other_sect\nscloudplus = scloudplus_sect|" "$TMP/clash.cnf"
cat >>"$TMP/clash.cnf" <<CNF
[other_sect]
module = $PROVDIR/scloudplus.so
scloudplus128_codepoint = 0xFE60
x25519_scloudplus128_codepoint = 0xFE70
activate = 1
CNF
expect_loud clash "$TMP/clash.cnf" "collides with group"

# Wrong module path: OpenSSL 3.0 ignores a provider it cannot load from the
# config (no code of ours runs). Naming the group makes it loud: libssl
# refuses the unknown group name in each program.
write_cnf "$TMP/path.cnf" "$TMP/no-such-dir"
CURL_PAT="failed setting curves list" NGINX_PAT="SSL_CTX_set1_curves_list" \
    expect_loud path "$TMP/path.cnf" "group 'X25519SCloud+128' cannot be set" \
    -groups X25519SCloud+128:X25519

# allow_any_codepoint = yes makes an out-of-range value usable; server and
# client agree on it.
write_cnf "$TMP/any.cnf" "$PROVDIR" "x25519_scloudplus128_codepoint = 0x6399" \
    "allow_any_codepoint = yes"
P3=$(free_port)
nginx_conf "$TMP/ngx-any" "$P3"
OPENSSL_CONF="$TMP/any.cnf" "$NGINX" -p "$TMP/ngx-any" -c "$TMP/ngx-any/nginx.conf" \
    -e "$TMP/ngx-any/logs/error.log" >"$TMP/ngx-any.out" 2>&1 &
PIDS="$PIDS $!"
wait_port "$P3" || fail "allow_any: nginx did not start: $(tail -3 "$TMP/ngx-any/logs/error.log")"
OPENSSL_CONF="$TMP/any.cnf" curl -sS --max-time 20 --cacert "$TMP/server.crt" \
    --curves X25519SCloud+128 --resolve "localhost:$P3:127.0.0.1" "https://localhost:$P3/any" \
    >"$TMP/any.body" 2>&1 || fail "allow_any: curl failed: $(cat "$TMP/any.body")"
for _ in $(seq 1 50); do
    grep -q "/any" "$TMP/ngx-any/logs/access.log" 2>/dev/null && break
    sleep 0.1
done
grep -q "^0x6399 /any" "$TMP/ngx-any/logs/access.log" ||
    fail "allow_any: nginx logged $(cat "$TMP/ngx-any/logs/access.log")"
echo "ok - allow_any_codepoint: negotiated 0x6399"
echo "all misconfiguration cases are loud"
