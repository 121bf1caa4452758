/*
 * scp_kernel_avx2.c - AVX2 + AES-NI kernel. Compiled with -mavx2 -maes;
 * only called after scp_dispatch.c saw both in CPUID.
 *
 * ExpandA (§4.1) runs eight AES-128 blocks in flight; the products and the
 * sampler are the shared C code, vectorised by the compiler for AVX2.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <immintrin.h>
#include <string.h>

#include "scp_internal.h"

#define SCP_K(name) scp_avx2_##name

typedef struct scp_aes_ctx {
    __m128i rk[11];
} scp_aes_ctx;

/* One AES-128 key-schedule step (FIPS 197 §5.2) with AESKEYGENASSIST. */
static __m128i scp_aes128_next(__m128i key, __m128i assist)
{
    assist = _mm_shuffle_epi32(assist, 0xFF);
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    return _mm_xor_si128(key, assist);
}

#define SCP_KEYSTEP(i, rcon)                                                                 \
    ctx->rk[i] = scp_aes128_next(ctx->rk[i - 1], _mm_aeskeygenassist_si128(ctx->rk[i - 1], rcon))

static int SCP_K(aes_init)(scp_aes_ctx *ctx, const uint8_t key[16])
{
    ctx->rk[0] = _mm_loadu_si128((const __m128i *)key);
    SCP_KEYSTEP(1, 0x01);
    SCP_KEYSTEP(2, 0x02);
    SCP_KEYSTEP(3, 0x04);
    SCP_KEYSTEP(4, 0x08);
    SCP_KEYSTEP(5, 0x10);
    SCP_KEYSTEP(6, 0x20);
    SCP_KEYSTEP(7, 0x40);
    SCP_KEYSTEP(8, 0x80);
    SCP_KEYSTEP(9, 0x1B);
    SCP_KEYSTEP(10, 0x36);
    return 0;
}

static void SCP_K(aes_done)(scp_aes_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx); /* the key is seedA: public, no cleanse needed */
}

#define SCP_WAY 8

static int SCP_K(expand)(scp_aes_ctx *ctx, uint32_t ctr, size_t nblocks, uint16_t *out)
{
    const __m128i qmask = _mm_set1_epi16(0x0FFF);
    size_t t = 0;
    for (; t + SCP_WAY <= nblocks; t += SCP_WAY) {
        __m128i b[SCP_WAY];
        for (unsigned i = 0; i < SCP_WAY; i++)
            b[i] = _mm_xor_si128(_mm_cvtsi32_si128((int)(ctr + t + i)), ctx->rk[0]);
        for (unsigned r = 1; r < 10; r++)
            for (unsigned i = 0; i < SCP_WAY; i++)
                b[i] = _mm_aesenc_si128(b[i], ctx->rk[r]);
        for (unsigned i = 0; i < SCP_WAY; i++) {
            b[i] = _mm_and_si128(_mm_aesenclast_si128(b[i], ctx->rk[10]), qmask);
            _mm_storeu_si128((__m128i *)(out + 8 * (t + i)), b[i]);
        }
    }
    for (; t < nblocks; t++) {
        __m128i b = _mm_xor_si128(_mm_cvtsi32_si128((int)(ctr + t)), ctx->rk[0]);
        for (unsigned r = 1; r < 10; r++)
            b = _mm_aesenc_si128(b, ctx->rk[r]);
        b = _mm_and_si128(_mm_aesenclast_si128(b, ctx->rk[10]), qmask);
        _mm_storeu_si128((__m128i *)(out + 8 * t), b);
    }
    return 0;
}

#include "scp_fixedweight.h"
#include "scp_kernel_impl.h"

const scp_kernel scp_kernel_avx2 = {
    .name = "avx2",
    .mul_as = scp_avx2_mul_as,
    .mul_sa = scp_avx2_mul_sa,
    .mul_sb = scp_avx2_mul_sb,
    .mul_cs = scp_avx2_mul_cs,
    .fixed_weight = scp_avx2_fixed_weight,
};
