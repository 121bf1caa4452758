# lib.sh - helpers shared by the provider interop tests (sourced, not run).
#
# SPDX-License-Identifier: Apache-2.0

SKIP=77
PIDS=""
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mm-interop.XXXXXX")

cleanup() {
    for p in $PIDS; do
        kill "$p" 2>/dev/null
    done
    for p in $PIDS; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

. "$(dirname "${BASH_SOURCE[0]}")/../../lib/skip.sh"
skip() { mm_skip "$@"; }

need_prog() {
    command -v "$1" >/dev/null 2>&1 || skip "$1 not found in PATH"
}

# A loopback TCP port nobody listens on now.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
    else
        echo $((20000 + $$ % 20000 + RANDOM % 1000))
    fi
}

# wait_file FILE PATTERN: until FILE contains PATTERN (10 s); used to see a
# server's "listening" line without connecting to it.
wait_file() {
    for _ in $(seq 1 100); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT (10 s).
wait_port() {
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# A self-signed ECDSA P-256 server certificate for localhost in $TMP.
make_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$TMP/server.key" -out "$TMP/server.crt" -days 2 \
        -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
        >/dev/null 2>&1 || fail "openssl req could not make a certificate"
}

# write_cnf FILE PROVIDER_DIR [extra provider lines...]: an openssl.cnf that
# activates default + scloudplus (and nothing from the system file).
write_cnf() {
    f=$1
    dir=$2
    shift 2
    {
        echo "openssl_conf = openssl_init"
        echo "[openssl_init]"
        echo "providers = provider_sect"
        echo "ssl_conf = ssl_sect"
        echo "[provider_sect]"
        echo "default = default_sect"
        echo "scloudplus = scloudplus_sect"
        echo "[default_sect]"
        echo "activate = 1"
        echo "[scloudplus_sect]"
        echo "module = $dir/scloudplus.so"
        for line in "$@"; do
            echo "$line"
        done
        echo "activate = 1"
        echo "[ssl_sect]"
        echo "system_default = system_default_sect"
        echo "[system_default_sect]"
        echo "MinProtocol = TLSv1.2"
    } >"$f"
}

# server_hello_group TRACEFILE: the NamedGroup (decimal) of the ServerHello
# key_share in `openssl s_client -trace` output.
server_hello_group() {
    awk '/ServerHello/ { sh = 1 } sh && /NamedGroup:/ { gsub(/.*\(|\).*/, ""); print; exit }' "$1"
}

# make_pki DIR: ca.crt, server.crt/.key (localhost, 127.0.0.1) and client.crt/.key
# (CN admin), all ECDSA P-256, like `mamori pki init` makes.
make_pki() {
    d=$1
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
            -out ca.crt -days 2 -subj "/CN=test CA" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign &&
        for who in server client; do
            cn=localhost
            ext="subjectAltName=DNS:localhost,IP:127.0.0.1"
            [ "$who" = client ] && cn=admin && ext="subjectAltName=DNS:admin"
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$who.key" \
                -out "$who.csr" -subj "/CN=$cn" &&
            printf '%s\n' "$ext" >"$who.ext" &&
            openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
                -days 2 -extfile "$who.ext" -out "$who.crt" || exit 1
        done
    ) >/dev/null 2>&1 || fail "could not make a test PKI in $d"
}

# need_loadable PROVIDER_DIR: the .so must load into Debian's openssl; a
# sanitizer build (make asan) cannot be loaded by uninstrumented programs, so
# that case is a skip, anything else a failure.
need_loadable() {
    [ -f "$1/scloudplus.so" ] || fail "no scloudplus.so in $1"
    if ! out=$(openssl list -providers -provider-path "$1" -provider default \
        -provider scloudplus 2>&1); then
        case $out in
        *AddressSanitizer* | *"ASan runtime"* | *libasan* | *libubsan*)
            skip "scloudplus.so is a sanitizer build; Debian's programs cannot load it" ;;
        esac
        fail "openssl cannot load scloudplus.so: $out"
    fi
    echo "$out" | grep -q "mamori scloudplus provider" || fail "provider did not load: $out"
}
