# Shared by the nc-ssh interop tests: a mamori-netconfd with NETCONF over SSH
# on a free loopback port in a temp state dir, and user keys made with ssh-keygen.
#   . lib.sh; ssh_setup NAME; ssh_start_daemon [extra daemon options]
# Sets TMP, PORT (SSH), FP (host key fingerprint), KNOWN (known_hosts file),
# KEYS (the bootstrap authorized-keys dir, --ssh-keys-dir), and keys
# $TMP/admin, $TMP/guest, $TMP/stranger (+ .pub).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/skip.sh"
DAEMON_PID=
cleanup() {
  if [ -n "$DAEMON_PID" ]; then
    kill "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
  fi
  [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
fail() {
  echo "FAIL: $*" >&2
  [ -f "$TMP/daemon.log" ] && tail -25 "$TMP/daemon.log" >&2
  exit 1
}
ok() { echo "ok: $*"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A python3 that has module $1 (Debian's python3 may not be first in PATH).
python_with() {
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c "import $1" 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

ssh_setup() {
  command -v ssh-keygen >/dev/null 2>&1 || mm_skip "ssh-keygen not installed (openssh-client)"
  TMP=$(mktemp -d "/tmp/mm-nc-ssh-$1.XXXXXX")
  trap cleanup EXIT
  KEYS="$TMP/state/ssh-authorized-keys"
  mkdir -p "$KEYS"
  chmod 700 "$TMP/state"
  for u in admin guest stranger; do
    ssh-keygen -q -t ed25519 -N '' -C "$u@test" -f "$TMP/$u" >/dev/null || fail "ssh-keygen"
  done
  cp "$TMP/admin.pub" "$KEYS/admin"
  cp "$TMP/guest.pub" "$KEYS/guest"
  chmod 600 "$KEYS/admin" "$KEYS/guest"
}

# ssh_start_daemon [options]: waits for the "ready ... transport=ssh" log line.
# The per-user key files of $KEYS are the bootstrap fallback (--ssh-keys-dir)
# unless NO_BOOTSTRAP_KEYS=1: then only running's client-authentication users.
# Also sets TLS_PORT (the TLS endpoint, for edit-config over TLS).
ssh_start_daemon() {
  PORT=$(free_port)
  local boot=(--ssh-keys-dir "$KEYS")
  [ "${NO_BOOTSTRAP_KEYS:-}" = 1 ] && boot=()
  "$NETCONFD" --state-dir "$TMP/state" --pki-dir "$TMP/pki" --address 127.0.0.1 --port 0 \
    --ssh-port "$PORT" "${boot[@]}" --verify-ms 200 \
    --module-dir "$MM_SOURCE_ROOT/tests/unit/netconf/yang" "$@" >"$TMP/daemon.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 1 300); do
    grep -q 'event=netconfd-ready transport=ssh' "$TMP/daemon.log" && break
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "mamori-netconfd exited"
    sleep 0.1
  done
  grep -q 'event=netconfd-ready transport=ssh' "$TMP/daemon.log" || fail "daemon not ready"
  FP=$(grep -o 'event=netconfd-ready transport=ssh port=[0-9]* hostkey=[^ ]*' "$TMP/daemon.log" |
    head -1 | sed 's/.*hostkey=//')
  [ -n "$FP" ] || fail "no host key fingerprint in the log"
  TLS_PORT=$(grep -o 'event=netconfd-ready port=[0-9]*' "$TMP/daemon.log" | head -1 | sed 's/.*port=//')
  [ "$(stat -c %a "$TMP/state/ssh_host_ed25519_key")" = 600 ] || fail "host key not 0600"
  KNOWN="$TMP/known_hosts"
  echo "[127.0.0.1]:$PORT $(ssh-keygen -y -f "$TMP/state/ssh_host_ed25519_key")" >"$KNOWN"
  HOSTKEY_B64=$(cut -d' ' -f3 "$KNOWN")
  # The fingerprint the daemon logs is the one OpenSSH computes for that key.
  ssh-keygen -l -f "$KNOWN" | grep -qF "$FP" || fail "logged fingerprint != ssh-keygen -l"
}

# wait_log PATTERN [tries]: poll the daemon log for a line (bounded).
wait_log() {
  for _ in $(seq 1 "${2:-200}"); do
    grep -q "$1" "$TMP/daemon.log" && return 0
    sleep 0.1
  done
  return 1
}

# nc_tls ARGS: `mamori nc` over TLS as the PKI's admin (the seed's NACM admin).
nc_tls_admin() {
  MM_PKI_DIR="$TMP/pki" "$MAMORI" nc --transport tls --host localhost --port "$TLS_PORT" \
    --rpc-timeout 20 "$@"
}
