# mm_skip MSG - a test that cannot run here: exit 77 (meson SKIP), except
# under CI (CI=true), where scripts/bootstrap installs every peer and a test
# that does not run is a failure. Sourced by the shell tests.
# SPDX-License-Identifier: Apache-2.0
mm_skip() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL (CI=true, this test would have been skipped): $*" >&2
    exit 1
  fi
  echo "SKIP: $*" >&2
  exit 77
}
