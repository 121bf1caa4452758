/*
 * test_scloudplus_api.c - API behaviour of the Scloud+ KEM: argument
 * checks, round trips on every level/variant/kernel, kernel equivalence,
 * implicit rejection (§10: ss = SHAKE256(z || ct', ss_len)).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "mamori/mm_core.h"
#include "mamori/mm_scloudplus.h"

static const char *const kernels[] = {"portable", "avx2", "avx512"};

typedef struct bufs {
    uint8_t pk[MM_SCLOUDPLUS_MAX_PK_BYTES], sk[MM_SCLOUDPLUS_MAX_SK_BYTES];
    uint8_t ct[MM_SCLOUDPLUS_MAX_CT_BYTES], ss[32], ss2[32];
} bufs;

static bufs *bufs_new(void)
{
    bufs *b = calloc(1, sizeof *b);
    assert_non_null(b);
    return b;
}

static void test_names(void **state)
{
    (void)state;
    enum mm_scloudplus_level lv;
    enum mm_scloudplus_variant v;
    assert_int_equal(mm_scloudplus_level_parse("scloudplus192", &lv), 0);
    assert_int_equal(lv, MM_SCLOUDPLUS_192);
    assert_int_equal(mm_scloudplus_level_parse("256", &lv), 0);
    assert_int_equal(lv, MM_SCLOUDPLUS_256);
    assert_int_equal(mm_scloudplus_level_parse("512", &lv), MM_EINVAL);
    assert_int_equal(mm_scloudplus_level_parse(NULL, &lv), MM_EINVAL);
    assert_int_equal(mm_scloudplus_variant_parse("openhitls", &v), 0);
    assert_int_equal(v, MM_SCLOUDPLUS_VARIANT_OPENHITLS);
    assert_int_equal(mm_scloudplus_variant_parse("other", &v), MM_EINVAL);
    assert_string_equal(mm_scloudplus_variant_name(MM_SCLOUDPLUS_VARIANT_REFERENCE),
                        "reference");
    assert_null(mm_scloudplus_info_get((enum mm_scloudplus_level)3));
    const mm_scloudplus_info *i = mm_scloudplus_info_get(MM_SCLOUDPLUS_256);
    assert_int_equal(i->pk_bytes, MM_SCLOUDPLUS256_PK_BYTES);
    assert_int_equal(i->ct_bytes, MM_SCLOUDPLUS256_CT_BYTES);
    assert_int_equal(mm_scloudplus_kernel_set("sse9"), MM_EINVAL);
    assert_int_equal(mm_scloudplus_kernel_set(NULL), MM_EINVAL);
    assert_int_equal(mm_scloudplus_kernel_set("portable"), 0);
    assert_string_equal(mm_scloudplus_kernel_name(), "portable");
    assert_int_equal(mm_scloudplus_kernel_set("auto"), 0);
    assert_int_equal(mm_scloudplus_kernel_available("portable"), 1);
    assert_int_equal(mm_scloudplus_kernel_available("nope"), 0);
}

static void test_bad_args(void **state)
{
    (void)state;
    bufs *b = bufs_new();
    const enum mm_scloudplus_level bad = (enum mm_scloudplus_level)7;
    const enum mm_scloudplus_variant badv = (enum mm_scloudplus_variant)5;
    uint8_t seed[32] = {0};
    assert_int_equal(mm_scloudplus_keypair(bad, b->pk, b->sk), MM_EINVAL);
    assert_int_equal(mm_scloudplus_keypair(MM_SCLOUDPLUS_128, NULL, b->sk), MM_EINVAL);
    assert_int_equal(mm_scloudplus_keypair(MM_SCLOUDPLUS_128, b->pk, NULL), MM_EINVAL);
    assert_int_equal(mm_scloudplus_keypair_derand(MM_SCLOUDPLUS_128, b->pk, b->sk, NULL, seed),
                     MM_EINVAL);
    assert_int_equal(mm_scloudplus_encaps(MM_SCLOUDPLUS_128, badv, b->ct, b->ss, b->pk),
                     MM_EINVAL);
    assert_int_equal(mm_scloudplus_encaps(bad, 0, b->ct, b->ss, b->pk), MM_EINVAL);
    assert_int_equal(mm_scloudplus_encaps(MM_SCLOUDPLUS_128, 0, b->ct, NULL, b->pk), MM_EINVAL);
    assert_int_equal(mm_scloudplus_encaps_derand(MM_SCLOUDPLUS_128, 0, b->ct, b->ss, b->pk,
                                                 NULL),
                     MM_EINVAL);
    assert_int_equal(mm_scloudplus_decaps(MM_SCLOUDPLUS_128, 0, b->ss, NULL, b->sk), MM_EINVAL);
    assert_int_equal(mm_scloudplus_decaps(bad, 0, b->ss, b->ct, b->sk), MM_EINVAL);
    assert_int_equal(mm_scloudplus_decaps(MM_SCLOUDPLUS_128, badv, b->ss, b->ct, b->sk),
                     MM_EINVAL);
    /* length-checked forms: one byte off in any buffer is refused */
    const mm_scloudplus_info *i = mm_scloudplus_info_get(MM_SCLOUDPLUS_128);
    assert_int_equal(mm_scloudplus_keypair_buf(MM_SCLOUDPLUS_128, b->pk, i->pk_bytes - 1, b->sk,
                                               i->sk_bytes),
                     MM_EINVAL);
    assert_int_equal(mm_scloudplus_keypair_buf(MM_SCLOUDPLUS_128, b->pk, i->pk_bytes, b->sk,
                                               i->sk_bytes),
                     0);
    assert_int_equal(mm_scloudplus_encaps_buf(MM_SCLOUDPLUS_128, 0, b->ct, i->ct_bytes, b->ss,
                                              i->ss_bytes, b->pk, i->pk_bytes + 1),
                     MM_EINVAL);
    assert_int_equal(mm_scloudplus_encaps_buf(MM_SCLOUDPLUS_128, 0, b->ct, i->ct_bytes, b->ss,
                                              32, b->pk, i->pk_bytes),
                     MM_EINVAL);
    assert_int_equal(mm_scloudplus_encaps_buf(MM_SCLOUDPLUS_128, 0, b->ct, i->ct_bytes, b->ss,
                                              i->ss_bytes, b->pk, i->pk_bytes),
                     0);
    assert_int_equal(mm_scloudplus_decaps_buf(MM_SCLOUDPLUS_128, 0, b->ss2, i->ss_bytes, b->ct,
                                              i->ct_bytes - 1, b->sk, i->sk_bytes),
                     MM_EINVAL);
    assert_int_equal(mm_scloudplus_decaps_buf(MM_SCLOUDPLUS_128, 0, b->ss2, i->ss_bytes, b->ct,
                                              i->ct_bytes, b->sk, 0),
                     MM_EINVAL);
    assert_int_equal(mm_scloudplus_decaps_buf(MM_SCLOUDPLUS_128, 0, b->ss2, i->ss_bytes, b->ct,
                                              i->ct_bytes, b->sk, i->sk_bytes),
                     0);
    assert_memory_equal(b->ss, b->ss2, i->ss_bytes);
    free(b);
}

static void test_roundtrip_all_kernels(void **state)
{
    (void)state;
    bufs *b = bufs_new();
    int kernels_run = 0;
    for (int k = 0; k < 3; k++) {
        if (mm_scloudplus_kernel_set(kernels[k]) != 0) {
            printf("NOTE: kernel %s not available on this CPU: skipped\n", kernels[k]);
            continue;
        }
        kernels_run++;
        for (int lv = 0; lv < 3; lv++) {
            for (int v = 0; v < 2; v++) {
                const mm_scloudplus_info *i = mm_scloudplus_info_get(lv);
                assert_int_equal(mm_scloudplus_keypair(lv, b->pk, b->sk), 0);
                assert_int_equal(mm_scloudplus_encaps(lv, v, b->ct, b->ss, b->pk), 0);
                assert_int_equal(mm_scloudplus_decaps(lv, v, b->ss2, b->ct, b->sk), 0);
                assert_memory_equal(b->ss, b->ss2, i->ss_bytes);
            }
        }
    }
    assert_true(kernels_run >= 1);
    mm_scloudplus_kernel_set("auto");
    free(b);
}

/* Every kernel gives the same bytes for the same derandomised inputs. */
static void test_kernels_agree(void **state)
{
    (void)state;
    bufs *ref = bufs_new(), *b = bufs_new();
    uint8_t z[32], alpha[32], m[32];
    for (int lv = 0; lv < 3; lv++) {
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i < 32; i++) {
                z[i] = (uint8_t)(i * 13 + lv + r);
                alpha[i] = (uint8_t)(i * 7 + 3 * lv + 5 * r);
                m[i] = (uint8_t)(255 - i - r);
            }
            const mm_scloudplus_info *inf = mm_scloudplus_info_get(lv);
            int first = 1;
            for (int k = 0; k < 3; k++) {
                if (mm_scloudplus_kernel_set(kernels[k]) != 0)
                    continue;
                bufs *o = first ? ref : b;
                assert_int_equal(mm_scloudplus_keypair_derand(lv, o->pk, o->sk, z, alpha), 0);
                assert_int_equal(mm_scloudplus_encaps_derand(lv, r, o->ct, o->ss, o->pk, m), 0);
                assert_int_equal(mm_scloudplus_decaps(lv, r, o->ss2, o->ct, o->sk), 0);
                assert_memory_equal(o->ss, o->ss2, inf->ss_bytes);
                if (!first) {
                    assert_memory_equal(ref->pk, b->pk, inf->pk_bytes);
                    assert_memory_equal(ref->sk, b->sk, inf->sk_bytes);
                    assert_memory_equal(ref->ct, b->ct, inf->ct_bytes);
                    assert_memory_equal(ref->ss, b->ss, inf->ss_bytes);
                }
                first = 0;
            }
        }
    }
    mm_scloudplus_kernel_set("auto");
    free(ref);
    free(b);
}

/*
 * The fixed-weight sampler over many seeds: the kernels' blocks differ (the
 * avx512 one is batched, 16 slots at a time), so rows must complete at every
 * position of a batch and of a block; 48 seeds x 8-12 rows per sampling
 * cover that. keygen (S) and encaps (S', both variants) per seed.
 */
static void test_kernels_agree_many_seeds(void **state)
{
    (void)state;
    bufs *ref = bufs_new(), *b = bufs_new();
    uint8_t z[32], alpha[32], m[32];
    for (int lv = 0; lv < 3; lv++) {
        const mm_scloudplus_info *inf = mm_scloudplus_info_get(lv);
        for (int seed = 0; seed < 48; seed++) {
            const int r = seed & 1;
            for (int i = 0; i < 32; i++) {
                z[i] = (uint8_t)(i + seed);
                alpha[i] = (uint8_t)(i * 29 + seed * 101 + lv);
                m[i] = (uint8_t)(i * 17 + seed * 3 + lv);
            }
            int first = 1;
            for (int k = 0; k < 3; k++) {
                if (mm_scloudplus_kernel_set(kernels[k]) != 0)
                    continue;
                bufs *o = first ? ref : b;
                assert_int_equal(mm_scloudplus_keypair_derand(lv, o->pk, o->sk, z, alpha), 0);
                assert_int_equal(mm_scloudplus_encaps_derand(lv, r, o->ct, o->ss, o->pk, m), 0);
                if (!first) {
                    assert_memory_equal(ref->pk, b->pk, inf->pk_bytes);
                    assert_memory_equal(ref->sk, b->sk, inf->sk_bytes);
                    assert_memory_equal(ref->ct, b->ct, inf->ct_bytes);
                    assert_memory_equal(ref->ss, b->ss, inf->ss_bytes);
                }
                first = 0;
            }
        }
    }
    mm_scloudplus_kernel_set("auto");
    free(ref);
    free(b);
}

static void shake256(uint8_t *out, size_t outlen, const uint8_t *a, size_t alen,
                     const uint8_t *b, size_t blen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_shake256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, a, alen), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, b, blen), 1);
    assert_int_equal(EVP_DigestFinalXOF(ctx, out, outlen), 1);
    EVP_MD_CTX_free(ctx);
}

/* Flip one bit anywhere in ct: ss = SHAKE256(z || ct', ss_len), z = last 32 bytes of sk. */
static void test_implicit_rejection(void **state)
{
    (void)state;
    bufs *b = bufs_new();
    uint8_t want[32];
    for (int lv = 0; lv < 3; lv++) {
        for (int v = 0; v < 2; v++) {
            const mm_scloudplus_info *i = mm_scloudplus_info_get(lv);
            assert_int_equal(mm_scloudplus_keypair(lv, b->pk, b->sk), 0);
            assert_int_equal(mm_scloudplus_encaps(lv, v, b->ct, b->ss, b->pk), 0);
            size_t where[] = {0, i->ct_bytes / 2, i->ct_bytes - 1};
            for (size_t w = 0; w < 3; w++) {
                b->ct[where[w]] ^= (uint8_t)(1u << (w + lv));
                assert_int_equal(mm_scloudplus_decaps(lv, v, b->ss2, b->ct, b->sk), 0);
                shake256(want, i->ss_bytes, b->sk + i->sk_bytes - 32, 32, b->ct, i->ct_bytes);
                assert_memory_equal(b->ss2, want, i->ss_bytes);
                assert_memory_not_equal(b->ss2, b->ss, i->ss_bytes);
                b->ct[where[w]] ^= (uint8_t)(1u << (w + lv));
            }
            /* and the other variant rejects this ciphertext implicitly too (levels where
             * the variants differ), never with an error */
            assert_int_equal(mm_scloudplus_decaps(lv, !v, b->ss2, b->ct, b->sk), 0);
        }
    }
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_roundtrip_all_kernels),
        cmocka_unit_test(test_kernels_agree),
        cmocka_unit_test(test_kernels_agree_many_seeds),
        cmocka_unit_test(test_implicit_rejection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
