#!/bin/sh
# Constant-time check of the avx512 kernel with MemorySanitizer, and its
# sensitivity test. Usage: run_msan.sh CHECK INJECT_BRANCH INJECT_LOAD
#   CHECK          the KEM core + tests/ct/scloudplus_msan.c, clang -fsanitize=memory
#   INJECT_BRANCH  the same with -DMM_SCP_CT_INJECT=1 (a branch on a secret of S')
#   INJECT_LOAD    the same with -DMM_SCP_CT_INJECT=2 (a load indexed by one)
# CHECK must pass; both injected builds must be reported by MSan, at the
# injected code. Exit 77 (skip) without clang or without AVX-512.
. "$(dirname "$0")/../lib/skip.sh"
if [ $# -lt 3 ]; then
    mm_skip "clang with MemorySanitizer was not found at build time (apt install clang libclang-rt-14-dev)"
fi
# MSan's own default exit code is 77, which would read as "skipped"
export MSAN_OPTIONS="exitcode=66:halt_on_error=1"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$1" >"$out" 2>&1
rc=$?
cat "$out"
if [ $rc -eq 77 ]; then
    mm_skip "this CPU has no AVX-512 + VAES: the avx512 kernel cannot run here"
fi
[ $rc -eq 0 ] || { echo "FAIL: MemorySanitizer reported the avx512 kernel (exit $rc)"; exit 1; }

for inj in "$2:branch" "$3:load"; do
    prog=${inj%%:*} what=${inj##*:}
    "$prog" >"$out" 2>&1
    rc=$?
    if [ $rc -ne 66 ] || ! grep -q "use-of-uninitialized-value" "$out" ||
        ! sed -n '2p' "$out" | grep -q "scp_avx512_mul_sa_fused"; then
        echo "FAIL: the injected secret-dependent $what was not reported (exit $rc):"
        head -5 "$out"
        exit 1
    fi
    echo "ok - injected secret-dependent $what reported: $(sed -n '2p' "$out" | sed 's/^ *//')"
done
echo "ok - avx512 kernel: no secret-dependent branch or address; the check sees both injections"
