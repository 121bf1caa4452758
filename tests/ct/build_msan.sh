#!/bin/sh
# build_msan.sh CLANG OUTPUT SOURCE_ROOT INJECT AVX2_FLAGS AVX512_FLAGS
# Builds the MemorySanitizer constant-time test of the KEM core
# (tests/ct/scloudplus_msan.c) with the same per-file ISA flags and
# optimisation as the real build (src/scloudplus/meson.build): the shared
# core at the baseline ISA, each kernel with its own flags at -O3. INJECT is
# "" or a -DMM_SCP_CT_INJECT=N flag (sensitivity test). The flag lists are
# single words with spaces between flags.
set -eu
cc=$1 out=$2 root=$3 inject=$4 avx2=$5 avx512=$6
s=$root/src/scloudplus
t=$root/tests/ct
dir=$(mktemp -d "${out}.XXXXXX")
trap 'rm -rf "$dir"' EXIT
common="-std=c17 -D_GNU_SOURCE -fsanitize=memory -fsanitize-memory-track-origins -g
  -fno-omit-frame-pointer -DMM_SCP_HAVE_AVX2 -DMM_SCP_HAVE_AVX512 $inject -I$root/include -I$s"
objs=""
build() { # build FILE FLAGS...
    f=$1
    shift
    o=$dir/$(basename "$f" .c).o
    # shellcheck disable=SC2086
    "$cc" $common "$@" -c "$f" -o "$o"
    objs="$objs $o"
}
for f in scp_params.c scp_cbd.c scp_bw32.c scp_pack.c scp_pke.c scp_kem.c scp_dispatch.c; do
    build "$s/$f" -O2
done
build "$s/scp_kernel_portable.c" -O3
# shellcheck disable=SC2086
build "$s/scp_kernel_avx2.c" -O3 $avx2
# shellcheck disable=SC2086
build "$s/scp_kernel_avx512.c" -O3 $avx512
for f in scloudplus_msan.c msan_keccak.c msan_stubs.c; do
    build "$t/$f" -O2
done
# shellcheck disable=SC2086
"$cc" -fsanitize=memory $objs -o "$out" -lpthread
