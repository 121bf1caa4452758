/*
 * scloudplus_ct.c - constant-time check of the Scloud+ KEM under valgrind.
 *
 * Secret inputs (z, alpha, m, the secret parts of sk) are marked undefined
 * with VALGRIND_MAKE_MEM_UNDEFINED; memcheck then reports any branch or
 * memory index that depends on them ("conditional jump ... depends on
 * uninitialised value", "use of uninitialised value"). run_ct.sh runs this
 * under valgrind --error-exitcode=1 for every kernel valgrind can execute.
 * Public values (pk, the H(pk) copy in sk) stay defined; outputs are marked
 * defined again only to check them after the operation.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "mamori/mm_core.h"
#include "mamori/mm_scloudplus.h"

#define SECRET(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#define PUBLIC(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))

static int ct_level(enum mm_scloudplus_level lv, enum mm_scloudplus_variant v, int round)
{
    const mm_scloudplus_info *info = mm_scloudplus_info_get(lv);
    size_t pke_sk = info->sk_bytes - info->pk_bytes - 64;
    uint8_t *pk = malloc(info->pk_bytes), *sk = malloc(info->sk_bytes);
    uint8_t *ct = malloc(info->ct_bytes), ss[32], ss2[32], z[32], alpha[32], m[32];
    if (!pk || !sk || !ct)
        return 1;
    for (int i = 0; i < 32; i++) {
        z[i] = (uint8_t)(i + 7 * round);
        alpha[i] = (uint8_t)(3 * i + round);
        m[i] = (uint8_t)(5 * i + 11 * round);
    }
    SECRET(z, 32);
    SECRET(alpha, 32);
    int rc = mm_scloudplus_keypair_derand(lv, pk, sk, z, alpha);
    PUBLIC(pk, info->pk_bytes); /* the public key is published */
    SECRET(m, 32);
    rc |= mm_scloudplus_encaps_derand(lv, v, ct, ss, pk, m);
    PUBLIC(ct, info->ct_bytes); /* the ciphertext is sent in the clear */
    for (int flip = 0; flip < 2; flip++) {
        ct[flip * 17] ^= (uint8_t)flip; /* second pass: implicit rejection */
        SECRET(sk, pke_sk);
        SECRET(sk + info->sk_bytes - 32, 32); /* z */
        PUBLIC(sk + pke_sk, info->pk_bytes + 32);
        rc |= mm_scloudplus_decaps(lv, v, ss2, ct, sk);
        PUBLIC(ss, sizeof ss);
        PUBLIC(ss2, sizeof ss2);
        if ((memcmp(ss, ss2, info->ss_bytes) == 0) != (flip == 0)) {
            fprintf(stderr, "ct: %s wrong decapsulation (flip=%d)\n", info->name, flip);
            rc = 1;
        }
    }
    free(pk);
    free(sk);
    free(ct);
    return rc != 0;
}

int main(int argc, char **argv)
{
    static const char *kernels[] = {"portable", "avx2", "avx512"};
    int failed = 0, ran = 0;
    for (int k = 0; k < 3; k++) {
        if (argc > 1 && strcmp(argv[1], kernels[k]))
            continue;
        if (mm_scloudplus_kernel_set(kernels[k]) != 0) {
            printf("ct: kernel %s not available here (valgrind hides AVX-512): skipped\n",
                   kernels[k]);
            continue;
        }
        for (int lv = 0; lv < 3; lv++) {
            for (int v = 0; v < 2; v++) {
                failed |= ct_level((enum mm_scloudplus_level)lv,
                                   (enum mm_scloudplus_variant)v, lv + v);
                ran++;
            }
        }
        printf("ct: kernel %s: keygen/encaps/decaps of 3 levels x 2 variants done\n",
               kernels[k]);
    }
    return failed || ran == 0;
}
