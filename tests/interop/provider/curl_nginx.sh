#!/bin/bash
# curl_nginx.sh PROVIDER_DIR - Debian's nginx as an HTTPS server and Debian's
# curl as its client, both loading scloudplus.so through OPENSSL_CONF; the
# negotiated group is read from nginx's access log ($ssl_curve prints a
# provider group as its codepoint, e.g. 0xfe50).
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

write_cnf "$TMP/openssl.cnf" "$PROVDIR"
# curl takes its groups from the cnf when --curves is not given.
write_cnf "$TMP/client192.cnf" "$PROVDIR"
echo "Groups = SecP256r1SCloud+192:X25519" >>"$TMP/client192.cnf"

PORT=$(free_port)
mkdir -p "$TMP/nginx/logs"
cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log info;
env OPENSSL_CONF;
events { worker_connections 64; }
http {
    log_format groups '\$ssl_protocol \$ssl_curve "\$ssl_curves" \$request_uri';
    access_log $TMP/nginx/logs/access.log groups;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    server {
        listen 127.0.0.1:$PORT ssl;
        server_name localhost;
        ssl_certificate $TMP/server.crt;
        ssl_certificate_key $TMP/server.key;
        ssl_protocols TLSv1.3;
        ssl_ecdh_curve X25519SCloud+128:SecP256r1SCloud+192:SecP384r1SCloud+256:X25519;
        location / { return 200 "hello from nginx\n"; }
    }
}
CONF

OPENSSL_CONF="$TMP/openssl.cnf" "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" \
    -e "$TMP/nginx/logs/error.log" >"$TMP/nginx.out" 2>&1 &
PIDS="$PIDS $!"
wait_port "$PORT" ||
    fail "nginx did not start: $(tail -5 "$TMP/nginx.out" "$TMP/nginx/logs/error.log" 2>/dev/null)"

# fetch NAME CNF CURL_ARGS...: GET /NAME with curl; CNF empty = no OPENSSL_CONF.
fetch() {
    name=$1 cnf=$2
    shift 2
    env ${cnf:+OPENSSL_CONF="$cnf"} curl -sS --max-time 20 --cacert "$TMP/server.crt" \
        --resolve "localhost:$PORT:127.0.0.1" "$@" "https://localhost:$PORT/$name" \
        >"$TMP/$name.body" 2>"$TMP/$name.err" ||
        fail "$name: curl failed: $(cat "$TMP/$name.err")"
    grep -q "hello from nginx" "$TMP/$name.body" || fail "$name: unexpected body"
}

# logged_group NAME: the $ssl_curve of request /NAME.
logged_group() {
    for _ in $(seq 1 20); do
        g=$(awk -v u="/$1" '$NF == u { print $2 }' "$TMP/nginx/logs/access.log" \
            2>/dev/null)
        [ -n "$g" ] && { echo "$g"; return; }
        sleep 0.1
    done
}

check() {
    got=$(logged_group "$1")
    [ "$got" = "$2" ] || fail "$1: nginx logged group '$got', want $2"
    echo "ok - $1: $got"
}

fetch curves128 "$TMP/openssl.cnf" --curves X25519SCloud+128:X25519
check curves128 0xfe50
fetch cnf192 "$TMP/client192.cnf"
check cnf192 0xfe51
# ClientHello > 16 KB through nginx.
fetch curves256 "$TMP/openssl.cnf" --curves SecP384r1SCloud+256
check curves256 0xfe52
# A client without the provider still gets classical X25519 (after HRR).
fetch classic "" --curves X25519
check classic X25519
grep -q "TLSv1.3" "$TMP/nginx/logs/access.log" || fail "not TLS 1.3"
echo "all curl/nginx cases passed"
