#!/bin/sh
# Constant-time test of the Scloud+ KEM: run the instrumented program under
# valgrind memcheck; any use of secret (undefined) data in a branch or an
# address is an error. Usage: run_ct.sh PROGRAM [VALGRIND]
# Exit 77 (meson: SKIP) when valgrind is not installed.
prog="$1"
vg="${2:-$(command -v valgrind)}"
. "$(dirname "$0")/../lib/skip.sh"
if [ -z "$prog" ]; then
    mm_skip "valgrind/memcheck.h was not found at build time (apt install valgrind)"
fi
if [ -z "$vg" ] || [ ! -x "$vg" ]; then
    mm_skip "valgrind not found; the constant-time test needs valgrind (apt install valgrind)"
fi
exec "$vg" --error-exitcode=1 --errors-for-leak-kinds=none --num-callers=30 "$prog"
