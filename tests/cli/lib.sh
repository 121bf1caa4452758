# Shared helpers for the shell tests. SPDX-License-Identifier: Apache-2.0
# Usage: . lib.sh; then `fail MSG`, `wait_for SECONDS CMD...`, `skip MSG`.
set -u
TMP=$(mktemp -d /tmp/mm-test.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do pkill -9 -P "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# skip MSG: the test cannot run here (exit 77); under CI (CI=true), where
# scripts/bootstrap installs every peer, that is a failure instead.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/skip.sh"
skip() { mm_skip "$@"; }
ok() { echo "ok: $*"; }
# wait_for SECONDS CMD... : poll CMD every 0.1 s until it succeeds.
wait_for() {
  local limit=$1; shift
  local n=$(( limit * 10 ))
  while [ $n -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1; n=$(( n - 1 ))
  done
  return 1
}
