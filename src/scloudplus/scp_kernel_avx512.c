/*
 * scp_kernel_avx512.c - AVX-512 (F/BW/VL/VNNI) + VAES kernel. Compiled with
 * those flags; only called after scp_dispatch.c saw them in CPUID.
 *
 * The products fuse ExpandA (§4.1) into VPDPWSSD: one VAES register (four
 * counter blocks) is 32 columns of a row of A, consumed straight from the
 * register, so A is never stored. The buffered expand() below (eight VAES
 * registers in flight) serves the shared code of scp_kernel_impl.h.
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

/*
 * Fixed-weight sampler primitives (see scp_fixedweight.h) with AVX-512: the
 * one-hot bitmap is VPSLLVQ(1, p - 64 * lane), which is 0 in every lane but
 * p / 64 because shift counts >= 64 (including "negative" ones) give 0; the
 * hit test is VPTESTMQ. No index or branch depends on p.
 */
#define SCP_FW_ONEHOT(oh, NV, p)                                                           \
    do {                                                                                   \
        const __m512i pv_ = _mm512_set1_epi64((long long)(p));                             \
        const __m512i lane_ = _mm512_set_epi64(448, 384, 320, 256, 192, 128, 64, 0);        \
        for (unsigned z_ = 0; z_ < (NV); z_++)                                             \
            (oh)[z_] = (scp_vw)_mm512_sllv_epi64(                                          \
                _mm512_set1_epi64(1),                                                      \
                _mm512_sub_epi64(pv_, _mm512_add_epi64(lane_, _mm512_set1_epi64(512 * z_)))); \
    } while (0)
#define SCP_FW_ANY(u, oh, NV) scp_avx512_fw_any(u, oh, NV)

#define SCP_VW_LANES 8
typedef uint64_t scp_vw __attribute__((vector_size(64)));
static inline uint64_t scp_avx512_fw_any(const scp_vw *u, const scp_vw *oh, const unsigned NV)
{
    __mmask8 k = 0;
    for (unsigned z = 0; z < NV; z++)
        k |= _mm512_test_epi64_mask((__m512i)u[z], (__m512i)oh[z]);
    return k;
}

#include "scp_fixedweight.h"
#include "scp_kernel_impl.h"

/*
 * Fused ExpandA + products. A is never stored: the 32 columns
 * [32s, 32s + 32) of row i are the four AES blocks with counters
 * i * n/8 + 4s + {0..3} (§4.1), i.e. exactly one VAES register, which goes
 * straight into VPDPWSSD (pairs of int16 products summed into int32; with
 * A < 2^12 and ternary S no sum can overflow). In the last strip of n = 600
 * the lanes past n are junk and are masked off.
 */
static inline __m512i SCP_K(strip)(const scp_aes_ctx *ctx, uint32_t ctr)
{
    const __m512i lane = _mm512_set_epi32(0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0);
    __m512i b = _mm512_add_epi32(lane, _mm512_maskz_set1_epi32(0x1111, (int)ctr));
    b = _mm512_xor_si512(b, ctx->rk4[0]);
    for (unsigned r = 1; r < 10; r++)
        b = _mm512_aesenc_epi128(b, ctx->rk4[r]);
    b = _mm512_aesenclast_epi128(b, ctx->rk4[10]);
    return _mm512_and_si512(b, _mm512_set1_epi16(0x0FFF));
}

static inline __mmask32 SCP_K(tail_mask)(unsigned n, unsigned s)
{
    unsigned left = n - 32 * s;
    return left >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << left) - 1);
}

/* Sum each of 8 vectors of 16 int32 lanes: lane k of the result is sum(v[k]). */
static inline __m256i SCP_K(reduce8)(const __m512i v[8])
{
    __m512i t[4], u[2];
    for (unsigned k = 0; k < 4; k++)
        t[k] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * k], v[2 * k + 1]),
                                _mm512_unpackhi_epi32(v[2 * k], v[2 * k + 1]));
    for (unsigned k = 0; k < 2; k++)
        u[k] = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2 * k], t[2 * k + 1]),
                                _mm512_unpackhi_epi64(t[2 * k], t[2 * k + 1]));
    /* u[0] chunks hold partial (a,b,c,d), u[1] (e,f,g,h); fold the 4 chunks */
    __m512i w = _mm512_add_epi32(_mm512_shuffle_i32x4(u[0], u[1], 0x88),
                                 _mm512_shuffle_i32x4(u[0], u[1], 0xDD));
    w = _mm512_add_epi32(_mm512_shuffle_i32x4(w, w, 0x08), _mm512_shuffle_i32x4(w, w, 0x0D));
    return _mm512_castsi512_si256(w);
}

static inline void SCP_K(row_sums)(const __m512i *acc, unsigned nbar, uint16_t *b)
{
    __m512i v[8];
    int32_t sums[16];
    for (unsigned g = 0; g < nbar; g += 8) {
        for (unsigned k = 0; k < 8; k++)
            v[k] = g + k < nbar ? acc[g + k] : _mm512_setzero_si512();
        _mm256_storeu_si256((__m256i *)(sums + g), SCP_K(reduce8)(v));
    }
    for (unsigned k = 0; k < nbar; k++)
        b[k] = (uint16_t)(b[k] + (uint16_t)sums[k]);
}

/* B rows i .. i + R - 1 += A rows * S, for compile-time R <= 3 and nbar. */
static inline __attribute__((always_inline)) void
SCP_K(as_block)(const scp_params *p, const scp_aes_ctx *ctx, const int16_t *st, uint16_t *b,
               unsigned i, const unsigned R, const unsigned nbar)
{
    const unsigned n = p->n, bpr = n / 8, strips = (n + 31) / 32;
    __m512i acc[3][SCP_MAX_NBAR], a[3];
    for (unsigned r = 0; r < R; r++)
        for (unsigned k = 0; k < nbar; k++)
            acc[r][k] = _mm512_setzero_si512();
    for (unsigned s = 0; s < strips; s++) {
        for (unsigned r = 0; r < R; r++)
            a[r] = SCP_K(strip)(ctx, (i + r) * bpr + 4 * s);
        __mmask32 msk = SCP_K(tail_mask)(n, s);
        for (unsigned k = 0; k < nbar; k++) {
            __m512i sv = _mm512_maskz_loadu_epi16(msk, st + (size_t)k * n + 32 * s);
            for (unsigned r = 0; r < R; r++)
                acc[r][k] = _mm512_dpwssd_epi32(acc[r][k], a[r], sv);
        }
    }
    for (unsigned r = 0; r < R; r++)
        SCP_K(row_sums)(acc[r], nbar, b + (size_t)(i + r) * nbar);
}

static int SCP_K(mul_as_fused)(const scp_params *p, const uint8_t seed_a[16], const int16_t *st,
                               uint16_t *b)
{
    scp_aes_ctx ctx;
    SCP_K(aes_init)(&ctx, seed_a);
    unsigned i = 0;
    if (p->nbar == 8) { /* two rows share each load of S (three rows spill) */
        for (; i + 2 <= p->m; i += 2)
            SCP_K(as_block)(p, &ctx, st, b, i, 2, 8);
        for (; i < p->m; i++)
            SCP_K(as_block)(p, &ctx, st, b, i, 1, 8);
    } else { /* nbar = 11: two rows need 22 accumulators and spill; one row per pass */
        for (; i < p->m; i++)
            SCP_K(as_block)(p, &ctx, st, b, i, 1, SCP_MAX_NBAR);
    }
    SCP_K(aes_done)(&ctx);
    return 0;
}

/* C1[:, strip s] += S' * A[:, strip s], all m rows, accumulators in registers. */
static inline __attribute__((always_inline)) void
SCP_K(sa_strip)(const scp_params *p, const scp_aes_ctx *ctx, const int16_t *sp, uint16_t *c1,
                unsigned s, const unsigned mbar)
{
    const unsigned n = p->n, m = p->m, bpr = n / 8;
    __m512i lo[SCP_MAX_MBAR], hi[SCP_MAX_MBAR];
    for (unsigned r = 0; r < mbar; r++)
        lo[r] = hi[r] = _mm512_setzero_si512();
    for (unsigned i = 0; i < m; i += 2) {
        __m512i a0 = SCP_K(strip)(ctx, i * bpr + 4 * s);
        __m512i a1 = SCP_K(strip)(ctx, (i + 1) * bpr + 4 * s);
        __m512i plo = _mm512_unpacklo_epi16(a0, a1), phi = _mm512_unpackhi_epi16(a0, a1);
        for (unsigned r = 0; r < mbar; r++) {
            int32_t pair; /* (S'[r][i], S'[r][i+1]) */
            memcpy(&pair, sp + (size_t)r * m + i, sizeof pair);
            __m512i sv = _mm512_set1_epi32(pair);
            lo[r] = _mm512_dpwssd_epi32(lo[r], plo, sv);
            hi[r] = _mm512_dpwssd_epi32(hi[r], phi, sv);
        }
    }
    const __m512i low16 = _mm512_set1_epi32(0xFFFF);
    __mmask32 msk = SCP_K(tail_mask)(n, s);
    for (unsigned r = 0; r < mbar; r++) {
        /* packus after masking to 16 bits is a plain truncation, and undoes the unpack order */
        __m512i v = _mm512_packus_epi32(_mm512_and_si512(lo[r], low16),
                                        _mm512_and_si512(hi[r], low16));
        uint16_t *dst = c1 + (size_t)r * n + 32 * s;
        __m512i old = _mm512_maskz_loadu_epi16(msk, dst);
        _mm512_mask_storeu_epi16(dst, msk, _mm512_add_epi16(old, v));
    }
}

static int SCP_K(mul_sa_fused)(const scp_params *p, const uint8_t seed_a[16], const int16_t *sp,
                               uint16_t *c1)
{
    scp_aes_ctx ctx;
    SCP_K(aes_init)(&ctx, seed_a);
    for (unsigned s = 0; s < (p->n + 31u) / 32; s++) {
        if (p->mbar == 8)
            SCP_K(sa_strip)(p, &ctx, sp, c1, s, 8);
        else
            SCP_K(sa_strip)(p, &ctx, sp, c1, s, SCP_MAX_MBAR);
    }
    SCP_K(aes_done)(&ctx);
    return 0;
}

const scp_kernel scp_kernel_avx512 = {
    .name = "avx512",
    .mul_as = scp_avx512_mul_as_fused,
    .mul_sa = scp_avx512_mul_sa_fused,
    .mul_sb = scp_avx512_mul_sb,
    .mul_cs = scp_avx512_mul_cs,
    .fixed_weight = scp_avx512_fixed_weight,
};
