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
 * Four SHAKE256 streams side by side: Keccak-f[1600] with lane i of the four
 * states in one YMM register (AVX-512VL gives VPROLQ and VPTERNLOGQ at 256
 * bits). Used for the independent streams of keygen and encryption (the
 * sampler's seed stream and the noise stream); checked against OpenSSL's
 * SHAKE256 by tests/unit/scloudplus/test_scloudplus_keccak.c. Keccak has no
 * secret-dependent branch or index: every step is a fixed sequence of XOR,
 * AND-NOT and rotations by constants.
 */
static const uint64_t scp_keccak_rc[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808Aull, 0x8000000080008000ull,
    0x000000000000808Bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008Aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000Aull,
    0x000000008000808Bull, 0x800000000000008Bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800Aull, 0x800000008000000Aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

/* rho offsets, indexed x + 5y */
#define SCP_KR(i)                                                                            \
    ((i) == 0 ? 0 : (i) == 1 ? 1 : (i) == 2 ? 62 : (i) == 3 ? 28 : (i) == 4 ? 27             \
     : (i) == 5 ? 36 : (i) == 6 ? 44 : (i) == 7 ? 6 : (i) == 8 ? 55 : (i) == 9 ? 20          \
     : (i) == 10 ? 3 : (i) == 11 ? 10 : (i) == 12 ? 43 : (i) == 13 ? 25 : (i) == 14 ? 39     \
     : (i) == 15 ? 41 : (i) == 16 ? 45 : (i) == 17 ? 15 : (i) == 18 ? 21 : (i) == 19 ? 8     \
     : (i) == 20 ? 18 : (i) == 21 ? 2 : (i) == 22 ? 61 : (i) == 23 ? 56 : 14)

/* B[y + 5((2x + 3y) mod 5)] = rot(A[x + 5y]) for one (x, y) */
#define SCP_KRP(x, y)                                                                        \
    b[(y) + 5 * ((2 * (x) + 3 * (y)) % 5)] = _mm256_rol_epi64(                                \
        _mm256_xor_si256(a[(x) + 5 * (y)], d[(x)]), SCP_KR((x) + 5 * (y)))
#define SCP_KRP_ROW(y)                                                                       \
    SCP_KRP(0, y);                                                                           \
    SCP_KRP(1, y);                                                                           \
    SCP_KRP(2, y);                                                                           \
    SCP_KRP(3, y);                                                                           \
    SCP_KRP(4, y)

static void scp_keccak_x4(__m256i a[25])
{
    for (unsigned r = 0; r < 24; r++) {
        __m256i c[5], d[5], b[25];
        for (unsigned x = 0; x < 5; x++)
            c[x] = _mm256_ternarylogic_epi64(
                _mm256_ternarylogic_epi64(a[x], a[x + 5], a[x + 10], 0x96), a[x + 15], a[x + 20],
                0x96);
        for (unsigned x = 0; x < 5; x++)
            d[x] = _mm256_xor_si256(c[(x + 4) % 5], _mm256_rol_epi64(c[(x + 1) % 5], 1));
        /* theta's XOR, rho and pi */
        SCP_KRP_ROW(0);
        SCP_KRP_ROW(1);
        SCP_KRP_ROW(2);
        SCP_KRP_ROW(3);
        SCP_KRP_ROW(4);
        /* chi: a ^ (~b & c) is truth table 0xD2 */
        for (unsigned y = 0; y < 25; y += 5)
            for (unsigned x = 0; x < 5; x++)
                a[y + x] = _mm256_ternarylogic_epi64(b[y + x], b[y + (x + 1) % 5],
                                                     b[y + (x + 2) % 5], 0xD2);
        a[0] = _mm256_xor_si256(a[0], _mm256_set1_epi64x((long long)scp_keccak_rc[r]));
    }
}

#define SCP_SHAKE256_RATE 136

/* XOR one rate-sized block of each of the four inputs into the states. */
static void scp_keccak_x4_absorb(__m256i a[25], const uint8_t *const blk[4])
{
    for (unsigned i = 0; i < SCP_SHAKE256_RATE / 8; i++) {
        uint64_t w[4];
        for (unsigned j = 0; j < 4; j++)
            memcpy(&w[j], blk[j] + 8 * i, 8); /* little-endian lanes (x86) */
        a[i] = _mm256_xor_si256(a[i], _mm256_loadu_si256((const __m256i *)w));
    }
}

/*
 * out[j] = SHAKE256(in[j], outlen[j]) for j = 0..3, all inputs inlen bytes
 * (an out[j] with outlen[j] = 0 may be NULL; the in[j] may not).
 */
void scp_avx512_shake256_x4(uint8_t *const out[4], const size_t outlen[4],
                            const uint8_t *const in[4], size_t inlen)
{
    __m256i a[25];
    uint8_t last[4][SCP_SHAKE256_RATE];
    const uint8_t *blk[4];
    size_t off = 0, max = 0;
    for (unsigned i = 0; i < 25; i++)
        a[i] = _mm256_setzero_si256();
    for (; inlen - off >= SCP_SHAKE256_RATE; off += SCP_SHAKE256_RATE) {
        for (unsigned j = 0; j < 4; j++)
            blk[j] = in[j] + off;
        scp_keccak_x4_absorb(a, blk);
        scp_keccak_x4(a);
    }
    for (unsigned j = 0; j < 4; j++) { /* pad10*1 with the SHAKE suffix 1111 */
        memset(last[j], 0, sizeof last[j]);
        if (inlen > off)
            memcpy(last[j], in[j] + off, inlen - off);
        last[j][inlen - off] = 0x1F;
        last[j][SCP_SHAKE256_RATE - 1] |= 0x80;
        blk[j] = last[j];
        max = outlen[j] > max ? outlen[j] : max;
    }
    scp_keccak_x4_absorb(a, blk);
    for (size_t pos = 0; pos < max; pos += SCP_SHAKE256_RATE) {
        uint64_t w[SCP_SHAKE256_RATE / 8][4];
        scp_keccak_x4(a);
        for (unsigned i = 0; i < SCP_SHAKE256_RATE / 8; i++)
            _mm256_storeu_si256((__m256i *)w[i], a[i]);
        for (unsigned j = 0; j < 4; j++) {
            if (outlen[j] <= pos)
                continue; /* lengths are public */
            size_t n = outlen[j] - pos < SCP_SHAKE256_RATE ? outlen[j] - pos : SCP_SHAKE256_RATE;
            for (size_t t = 0; t < n; t += 8) {
                size_t m = n - t < 8 ? n - t : 8;
                memcpy(out[j] + pos + t, &w[t / 8][j], m);
            }
        }
        OPENSSL_cleanse(w, sizeof w);
    }
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(last, sizeof last);
}

/* Two streams of 32-byte seeds (the PKE's shake256_x2 hook). Not wired in:
 * on this machine it measured no better than two OpenSSL calls end to end
 * (docs/scloudplus.md), although the permutation alone is ~820 cycles per
 * four states against OpenSSL's ~740 per state. */
static __attribute__((unused)) int SCP_K(shake256_x2)(uint8_t *o0, size_t l0, const uint8_t s0[32], uint8_t *o1,
                              size_t l1, const uint8_t s1[32])
{
    uint8_t *const out[4] = {o0, o1, NULL, NULL};
    const size_t len[4] = {l0, l1, 0, 0};
    const uint8_t *const in[4] = {s0, s1, s0, s1};
    scp_avx512_shake256_x4(out, len, in, 32);
    return 0;
}

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
    .shake256_x2 = NULL, /* see scp_avx512_shake256_x2 */
};
