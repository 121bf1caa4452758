/*
 * scp_kernel_avx512.c - AVX-512 + VAES kernel. Compiled with the AVX-512
 * flags; only called after scp_dispatch.c saw them in CPUID.
 *
 * ExpandA (§4.1) encrypts four counter blocks per VAES instruction, eight
 * registers in flight.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <immintrin.h>
#include <string.h>

#include "scp_internal.h"

#define SCP_K(name) scp_avx512_##name

typedef struct scp_aes_ctx {
    __m128i rk[11];
    __m512i rk4[11]; /* each round key in all four 128-bit lanes */
} scp_aes_ctx;

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
    for (unsigned r = 0; r < 11; r++)
        ctx->rk4[r] = _mm512_broadcast_i32x4(ctx->rk[r]);
    return 0;
}

static void SCP_K(aes_done)(scp_aes_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx); /* seedA is public */
}

#define SCP_WAY 8 /* registers in flight, 4 blocks each */

static inline void SCP_K(enc_x4)(const scp_aes_ctx *ctx, __m512i ctrs, uint16_t *out)
{
    __m512i b = _mm512_xor_si512(ctrs, ctx->rk4[0]);
    for (unsigned r = 1; r < 10; r++)
        b = _mm512_aesenc_epi128(b, ctx->rk4[r]);
    b = _mm512_aesenclast_epi128(b, ctx->rk4[10]);
    _mm512_storeu_si512(out, _mm512_and_si512(b, _mm512_set1_epi16(0x0FFF)));
}

static int SCP_K(expand)(scp_aes_ctx *ctx, uint32_t ctr, size_t nblocks, uint16_t *out)
{
    const __m512i lane = _mm512_set_epi32(0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0);
    const __m512i qmask = _mm512_set1_epi16(0x0FFF);
    const __m512i step = _mm512_set_epi32(0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4);
    size_t t = 0;
    for (; t + 4 * SCP_WAY <= nblocks; t += 4 * SCP_WAY) {
        __m512i c = _mm512_add_epi32(_mm512_set1_epi32(0), lane);
        c = _mm512_add_epi32(c, _mm512_maskz_set1_epi32(0x1111, (int)(ctr + t)));
        __m512i b[SCP_WAY];
        for (unsigned i = 0; i < SCP_WAY; i++) {
            b[i] = _mm512_xor_si512(c, ctx->rk4[0]);
            c = _mm512_add_epi32(c, step);
        }
        for (unsigned r = 1; r < 10; r++)
            for (unsigned i = 0; i < SCP_WAY; i++)
                b[i] = _mm512_aesenc_epi128(b[i], ctx->rk4[r]);
        for (unsigned i = 0; i < SCP_WAY; i++) {
            b[i] = _mm512_and_si512(_mm512_aesenclast_epi128(b[i], ctx->rk4[10]), qmask);
            _mm512_storeu_si512(out + 8 * (t + 4 * i), b[i]);
        }
    }
    for (; t + 4 <= nblocks; t += 4) {
        __m512i c = _mm512_add_epi32(lane, _mm512_maskz_set1_epi32(0x1111, (int)(ctr + t)));
        SCP_K(enc_x4)(ctx, c, out + 8 * t);
    }
    for (; t < nblocks; t++) {
        __m128i b = _mm_xor_si128(_mm_cvtsi32_si128((int)(ctr + t)), ctx->rk[0]);
        for (unsigned r = 1; r < 10; r++)
            b = _mm_aesenc_si128(b, ctx->rk[r]);
        b = _mm_and_si128(_mm_aesenclast_si128(b, ctx->rk[10]), _mm_set1_epi16(0x0FFF));
        _mm_storeu_si128((__m128i *)(out + 8 * t), b);
    }
    return 0;
}

#include "scp_fixedweight.h"
#include "scp_kernel_impl.h"

const scp_kernel scp_kernel_avx512 = {
    .name = "avx512",
    .mul_as = scp_avx512_mul_as,
    .mul_sa = scp_avx512_mul_sa,
    .mul_sb = scp_avx512_mul_sb,
    .mul_cs = scp_avx512_mul_cs,
    .fixed_weight = scp_avx512_fixed_weight,
};
