/*
 * scloudplus_msan.c - constant-time check of the kernel that runs on AVX-512
 * machines, by MemorySanitizer.
 *
 * valgrind cannot execute AVX-512, so tests/ct/scloudplus_ct.c never covers
 * the avx512 kernel. This program is built with clang -fsanitize=memory
 * together with the whole KEM core (every kernel, natively executed: the
 * instructions checked are the ones that run), with tests/ct/msan_keccak.c
 * instead of OpenSSL's SHA-3 (MSan needs every instruction that touches a
 * secret instrumented) and tests/ct/msan_stubs.c for the few libcrypto
 * symbols the core references. Secrets (z, alpha, m, the secret parts of
 * sk) are poisoned with __msan_poison; MSan then reports any conditional
 * branch, and any load or store address, that depends on them
 * (use-of-uninitialized-value). Public outputs (pk, ct) are unpoisoned as a
 * real protocol publishes them; the shared secrets only to compare them.
 *
 * Exit 0: all kernels the CPU has, 3 levels x 2 variants, clean. MSan
 * reports abort with MSAN_OPTIONS' exitcode (run_msan.sh sets 66). Exit 77
 * (skip) when the CPU has no AVX-512 (the kernel under test cannot run).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sanitizer/msan_interface.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_scloudplus.h"
#include "scp_internal.h"

#define SECRET(p, n) __msan_poison((p), (n))
#define PUBLIC(p, n) __msan_unpoison((p), (n))

static int hexeq(const uint8_t *got, const char *hex)
{
    for (size_t i = 0; hex[2 * i]; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || got[i] != v)
            return 0;
    }
    return 1;
}

/* The stand-in SHA-3 must be SHA-3 (FIPS 202 empty-message digests). */
static int keccak_selftest(void)
{
    uint8_t o[64];
    int ok = 1;
    scp_sha3_256(o, (const uint8_t *)"", 0);
    ok &= hexeq(o, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
    scp_sha3_512_2(o, (const uint8_t *)"", 0, NULL, 0);
    ok &= hexeq(o, "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a6"
                   "15b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26");
    scp_shake256(o, 32, (const uint8_t *)"", 0);
    ok &= hexeq(o, "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f");
    return ok;
}

static uint8_t pk[MM_SCLOUDPLUS_MAX_PK_BYTES], sk[MM_SCLOUDPLUS_MAX_SK_BYTES];
static uint8_t ct[MM_SCLOUDPLUS_MAX_CT_BYTES];

static int check(enum mm_scloudplus_level lv, enum mm_scloudplus_variant v, int round)
{
    const mm_scloudplus_info *info = mm_scloudplus_info_get(lv);
    const size_t pke_sk = info->sk_bytes - info->pk_bytes - 64;
    uint8_t z[32], alpha[32], m[32], ss[32], ss2[32];
    int rc = 0;
    for (int i = 0; i < 32; i++) {
        z[i] = (uint8_t)(i * 13 + round);
        alpha[i] = (uint8_t)(i * 7 + 3 * round);
        m[i] = (uint8_t)(i * 5 + 11 * round);
    }
    SECRET(z, sizeof z);
    SECRET(alpha, sizeof alpha);
    rc |= mm_scloudplus_keypair_derand(lv, pk, sk, z, alpha);
    PUBLIC(pk, info->pk_bytes);
    SECRET(m, sizeof m);
    rc |= mm_scloudplus_encaps_derand(lv, v, ct, ss, pk, m);
    PUBLIC(ct, info->ct_bytes);
    for (int flip = 0; flip < 2; flip++) {
        ct[flip * 29] ^= (uint8_t)flip; /* second pass: implicit rejection */
        SECRET(sk, pke_sk);
        SECRET(sk + info->sk_bytes - 32, 32); /* z */
        PUBLIC(sk + pke_sk, info->pk_bytes + 32);
        rc |= mm_scloudplus_decaps(lv, v, ss2, ct, sk);
        PUBLIC(ss, sizeof ss);
        PUBLIC(ss2, sizeof ss2);
        if ((memcmp(ss, ss2, info->ss_bytes) == 0) != (flip == 0)) {
            fprintf(stderr, "msan-ct: %s wrong decapsulation (flip=%d)\n", info->name, flip);
            rc = 1;
        }
    }
    return rc != 0;
}

int main(int argc, char **argv)
{
    /* avx2 and portable are covered by valgrind (scloudplus_ct.c); avx2's VPTEST
     * would need the same MSan treatment as VPTERNLOG (see scp_ct.h) */
    static const char *kernels[] = {"avx512"};
    int failed = 0;
    if (!keccak_selftest()) {
        fprintf(stderr, "msan-ct: the stand-in SHA-3 is wrong\n");
        return 1;
    }
    if (!mm_scloudplus_kernel_available("avx512")) {
        printf("SKIP: this CPU has no AVX-512 (+VAES): the avx512 kernel cannot run here\n");
        return 77;
    }
    for (int k = 0; k < 1; k++) {
        if (argc > 1 && strcmp(argv[1], kernels[k]))
            continue;
        if (mm_scloudplus_kernel_set(kernels[k]) != 0)
            return fprintf(stderr, "msan-ct: cannot select kernel %s\n", kernels[k]), 1;
        for (int lv = 0; lv < 3; lv++)
            for (int v = 0; v < 2; v++)
                failed |= check((enum mm_scloudplus_level)lv, (enum mm_scloudplus_variant)v,
                                lv * 2 + v);
        printf("msan-ct: kernel %s: keygen/encaps/decaps, 3 levels x 2 variants: %s\n",
               kernels[k], failed ? "FAILED" : "no secret-dependent branch or address");
    }
    return failed;
}
