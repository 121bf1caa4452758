#!/bin/sh
# Constant-time test of the Scloud+ KEM: run the instrumented program under
# valgrind memcheck; any use of secret (undefined) data in a branch or an
# address is an error. Usage: run_ct.sh PROGRAM [VALGRIND]
# Exit 77 (meson: SKIP) when valgrind is not installed.
prog="$1"
vg="${2:-$(command -v valgrind)}"
if [ -z "$prog" ]; then
    echo "SKIP: valgrind/memcheck.h was not found at build time (apt install valgrind)"
    exit 77
fi
if [ -z "$vg" ] || [ ! -x "$vg" ]; then
    echo "SKIP: valgrind not found; the constant-time test needs valgrind (apt install valgrind)"
    exit 77
fi
exec "$vg" --error-exitcode=1 --errors-for-leak-kinds=none --num-callers=30 "$prog"
