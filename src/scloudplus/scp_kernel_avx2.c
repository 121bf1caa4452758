/*
 * scp_kernel_avx2.c - AVX2 + AES-NI kernel. Compiled with -mavx2 -maes;
 * only called after scp_dispatch.c saw both in CPUID.
 *
 * ExpandA (§4.1) runs twelve AES-128 blocks in flight; the products and the
 * sampler are the shared C code, vectorised by the compiler for AVX2.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <cpuid.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mamori/mm_core.h"
#include "scp_aesni.h"
#include "scp_ct.h"
#include "scp_internal.h"

#define SCP_K(name) scp_avx2_##name

typedef struct scp_aes_ctx {
    __m128i rk[11];
} scp_aes_ctx;

static int SCP_K(aes_init)(scp_aes_ctx *ctx, const uint8_t key[16])
{
    scp_aes128_expand(ctx->rk, key);
    return 0;
}

static void SCP_K(aes_done)(scp_aes_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx); /* the key is seedA: public, no cleanse needed */
}

#define SCP_WAY 12

/* SCP_WAY blocks of consecutive counters from ctr; twelve in flight hide the AESENC latency */
static inline void SCP_K(enc_way)(const scp_aes_ctx *ctx, uint32_t ctr, __m128i *out)
{
    const __m128i qmask = _mm_set1_epi16(0x0FFF);
    __m128i b[SCP_WAY];
    for (unsigned i = 0; i < SCP_WAY; i++)
        b[i] = _mm_xor_si128(_mm_cvtsi32_si128((int)(ctr + i)), ctx->rk[0]);
    for (unsigned r = 1; r < 10; r++)
        for (unsigned i = 0; i < SCP_WAY; i++)
            b[i] = _mm_aesenc_si128(b[i], ctx->rk[r]);
    for (unsigned i = 0; i < SCP_WAY; i++)
        _mm_storeu_si128(out + i, _mm_and_si128(_mm_aesenclast_si128(b[i], ctx->rk[10]), qmask));
}

/*
 * VAES with 256-bit registers (Ice Lake, Zen 3 and later): two counter
 * blocks per instruction, eight registers in flight. Chosen at run time
 * when CPUID has VAES (the kernel's baseline stays AVX2 + AES-NI); the
 * environment variable MM_SCLOUDPLUS_AES=aesni forces the AES-NI path, so
 * the tests can check both on a VAES machine. A and seedA are public: the
 * choice and the AES itself carry no secret.
 */
#define SCP_VWAY 8

static int scp_avx2_vaes(void)
{
    static _Atomic int state; /* 0 unknown, 1 AES-NI, 2 VAES */
    int s = state;
    if (s == 0) {
        unsigned a, b, c, d;
        const char *env = getenv("MM_SCLOUDPLUS_AES");
        s = 1;
        if (!(env && !strcmp(env, "aesni")) && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
            (c & bit_VAES))
            s = 2;
        state = s;
    }
    return s == 2;
}

__attribute__((target("avx2,vaes"))) static void
scp_avx2_expand_vaes(const scp_aes_ctx *ctx, uint32_t ctr, size_t nblocks, uint16_t *out)
{
    const __m256i qmask = _mm256_set1_epi16(0x0FFF);
    const __m256i step = _mm256_set_epi32(0, 0, 0, 2, 0, 0, 0, 2);
    __m256i rk[11];
    for (unsigned r = 0; r < 11; r++)
        rk[r] = _mm256_broadcastsi128_si256(ctx->rk[r]);
    __m256i c = _mm256_set_epi32(0, 0, 0, (int)(ctr + 1), 0, 0, 0, (int)ctr);
    size_t t = 0;
    for (; t + 2 * SCP_VWAY <= nblocks; t += 2 * SCP_VWAY) {
        __m256i b[SCP_VWAY];
        for (unsigned i = 0; i < SCP_VWAY; i++) {
            b[i] = _mm256_xor_si256(c, rk[0]);
            c = _mm256_add_epi32(c, step);
        }
        for (unsigned r = 1; r < 10; r++)
            for (unsigned i = 0; i < SCP_VWAY; i++)
                b[i] = _mm256_aesenc_epi128(b[i], rk[r]);
        for (unsigned i = 0; i < SCP_VWAY; i++)
            _mm256_storeu_si256((__m256i *)(out + 8 * (t + 2 * i)),
                                _mm256_and_si256(_mm256_aesenclast_epi128(b[i], rk[10]), qmask));
    }
    for (; t < nblocks; t += 2) { /* tail: one register at a time */
        __m256i b = _mm256_xor_si256(c, rk[0]);
        c = _mm256_add_epi32(c, step);
        for (unsigned r = 1; r < 10; r++)
            b = _mm256_aesenc_epi128(b, rk[r]);
        b = _mm256_and_si256(_mm256_aesenclast_epi128(b, rk[10]), qmask);
        if (t + 2 <= nblocks)
            _mm256_storeu_si256((__m256i *)(out + 8 * t), b);
        else
            _mm_storeu_si128((__m128i *)(out + 8 * t), _mm256_castsi256_si128(b));
    }
}

static int SCP_K(expand)(scp_aes_ctx *ctx, uint32_t ctr, size_t nblocks, uint16_t *out)
{
    if (scp_avx2_vaes()) {
        scp_avx2_expand_vaes(ctx, ctr, nblocks, out);
        return 0;
    }
    size_t t = 0;
    for (; t + SCP_WAY <= nblocks; t += SCP_WAY)
        SCP_K(enc_way)(ctx, ctr + (uint32_t)t, (__m128i *)(out + 8 * t));
    if (t < nblocks) { /* tail: one more full group into scratch (A is public) */
        __m128i tmp[SCP_WAY];
        SCP_K(enc_way)(ctx, ctr + (uint32_t)t, tmp);
        memcpy(out + 8 * t, tmp, 16 * (nblocks - t));
    }
    return 0;
}

/*
 * Fixed-weight sampler primitives (see scp_fixedweight.h) with AVX2: the
 * one-hot bitmap is VPSLLVQ(1, p - 64 * lane) (counts >= 64 give 0), the hit
 * test is VPTEST.
 */
#define SCP_VW_LANES 4
typedef uint64_t scp_vw __attribute__((vector_size(32)));

static inline void scp_avx2_fw_onehot(scp_vw *oh, const unsigned NV, uint64_t p)
{
    const __m256i pv = _mm256_set1_epi64x((long long)p), one = _mm256_set1_epi64x(1);
    const __m256i lane = _mm256_set_epi64x(192, 128, 64, 0);
    for (unsigned z = 0; z < NV; z++) {
        __m256i base = _mm256_add_epi64(lane, _mm256_set1_epi64x(256 * (long long)z));
        oh[z] = (scp_vw)_mm256_sllv_epi64(one, _mm256_sub_epi64(pv, base));
    }
}

static inline uint64_t scp_avx2_fw_any(const scp_vw *u, const scp_vw *oh, const unsigned NV)
{
    scp_vw x = u[0] & oh[0];
    for (unsigned z = 1; z < NV; z++)
        x |= u[z] & oh[z];
    return (uint64_t)(1 - _mm256_testz_si256((__m256i)x, (__m256i)x));
}

#define SCP_FW_ONEHOT(oh, NV, p) scp_avx2_fw_onehot(oh, NV, p)
#define SCP_FW_ANY(u, oh, NV) scp_avx2_fw_any(u, oh, NV)

#include "scp_fixedweight.h"
#include "scp_kernel_impl.h"

/*
 * Products with AVX2. A is expanded eight rows at a time (scp_kernel_impl.h
 * layout); S^T is copied once into rows padded to 16 with zeros so every
 * dot product runs on whole vectors (the padding lanes of A hold junk
 * from the next row, multiplied by 0).
 */
#define SCP_PAD(n) (((n) + 15u) & ~15u)

/* Lane k of the result is the sum of the eight int32 lanes of v[k]. */
static inline __m256i scp_avx2_reduce8(const __m256i v[8])
{
    __m256i h01 = _mm256_hadd_epi32(v[0], v[1]), h23 = _mm256_hadd_epi32(v[2], v[3]);
    __m256i h45 = _mm256_hadd_epi32(v[4], v[5]), h67 = _mm256_hadd_epi32(v[6], v[7]);
    __m256i lo = _mm256_hadd_epi32(h01, h23), hi = _mm256_hadd_epi32(h45, h67);
    return _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20),
                            _mm256_permute2x128_si256(lo, hi, 0x31));
}

static inline __attribute__((always_inline)) void
scp_avx2_as_row(const uint16_t *ar, const int16_t *stp, unsigned np, uint16_t *b,
                const unsigned nbar)
{
    __m256i acc[SCP_MAX_NBAR + 5];
    for (unsigned k = 0; k < nbar; k++)
        acc[k] = _mm256_setzero_si256();
    for (unsigned j = 0; j < np; j += 16) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(ar + j));
        for (unsigned k = 0; k < nbar; k++) {
            __m256i sv = _mm256_load_si256((const __m256i *)(stp + (size_t)k * np + j));
            acc[k] = _mm256_add_epi32(acc[k], _mm256_madd_epi16(a, sv));
        }
    }
    int32_t sums[16];
    for (unsigned k = nbar; k < 16; k++)
        acc[k] = _mm256_setzero_si256();
    _mm256_storeu_si256((__m256i *)sums, scp_avx2_reduce8(acc));
    if (nbar > 8)
        _mm256_storeu_si256((__m256i *)(sums + 8), scp_avx2_reduce8(acc + 8));
    for (unsigned k = 0; k < nbar; k++)
        b[k] = (uint16_t)(b[k] + (uint16_t)sums[k]);
}

static int SCP_K(mul_as_fast)(const scp_params *p, const uint8_t seed_a[16], const int16_t *st,
                              uint16_t *b)
{
    scp_aes_ctx ctx;
    const unsigned n = p->n, np = SCP_PAD(n), bpr = n / 8;
    /* On the stack (about 43 KB): S^T padded (secret, wiped) and one block of A. */
    int16_t stp[SCP_MAX_NBAR * SCP_PAD(SCP_MAX_N)] __attribute__((aligned(32)));
    uint16_t a[SCP_ROWS_PER_BLOCK * SCP_MAX_N + 16];
    SCP_K(aes_init)(&ctx, seed_a);
    memset(stp, 0, sizeof(int16_t) * p->nbar * np);
    for (unsigned k = 0; k < p->nbar; k++)
        memcpy(stp + (size_t)k * np, st + (size_t)k * n, sizeof(int16_t) * n);
    memset(a + SCP_ROWS_PER_BLOCK * n, 0, 32);
    for (unsigned i0 = 0; i0 < p->m; i0 += SCP_ROWS_PER_BLOCK) {
        unsigned rows = p->m - i0 < SCP_ROWS_PER_BLOCK ? p->m - i0 : SCP_ROWS_PER_BLOCK;
        SCP_K(expand)(&ctx, i0 * bpr, (size_t)rows * bpr, a);
        for (unsigned i = 0; i < rows; i++) {
            uint16_t *bi = b + (size_t)(i0 + i) * p->nbar;
            if (p->nbar == 8)
                scp_avx2_as_row(a + (size_t)i * n, stp, np, bi, 8);
            else
                scp_avx2_as_row(a + (size_t)i * n, stp, np, bi, SCP_MAX_NBAR);
        }
    }
    scp_wipe(stp, sizeof(int16_t) * p->nbar * np);
    return 0;
}

/* c1[:, 16-column vector j] += S'[:, rows of the block] * A_block: all mbar rows in registers */
static inline __attribute__((always_inline)) void
scp_avx2_sa_block(const uint16_t *a, unsigned rows, unsigned n, const __m256i *bs, uint16_t *c1,
                  const unsigned mbar)
{
    for (unsigned j = 0; j < n; j += 16) {
        __m256i acc[SCP_MAX_MBAR];
        for (unsigned r = 0; r < mbar; r++)
            acc[r] = _mm256_setzero_si256();
        for (unsigned i = 0; i < rows; i++) {
            __m256i av = _mm256_loadu_si256((const __m256i *)(a + (size_t)i * n + j));
            for (unsigned r = 0; r < mbar; r++)
                acc[r] = _mm256_add_epi16(acc[r], _mm256_mullo_epi16(av, bs[i * mbar + r]));
        }
        for (unsigned r = 0; r < mbar; r++) {
            __m256i *dst = (__m256i *)(c1 + (size_t)r * SCP_PAD(n) + j);
            _mm256_storeu_si256(dst, _mm256_add_epi16(_mm256_loadu_si256(dst), acc[r]));
        }
    }
}

static int SCP_K(mul_sa_fast)(const scp_params *p, const uint8_t seed_a[16], const int16_t *sp,
                              uint16_t *c1)
{
    scp_aes_ctx ctx;
    const unsigned n = p->n, np = SCP_PAD(n), bpr = n / 8, m = p->m, mbar = p->mbar;
    /* On the stack (about 48 KB): the broadcast S' entries and the partial
     * C1 (secret, wiped), one block of A (public). */
    __m256i bs[SCP_ROWS_PER_BLOCK * SCP_MAX_MBAR];
    uint16_t acc[SCP_MAX_MBAR * SCP_PAD(SCP_MAX_N)] __attribute__((aligned(32)));
    uint16_t a[SCP_ROWS_PER_BLOCK * SCP_MAX_N + 16];
    SCP_K(aes_init)(&ctx, seed_a);
    memset(acc, 0, sizeof(uint16_t) * mbar * np);
    memset(a + SCP_ROWS_PER_BLOCK * n, 0, 32);
    for (unsigned i0 = 0; i0 < m; i0 += SCP_ROWS_PER_BLOCK) {
        unsigned rows = m - i0 < SCP_ROWS_PER_BLOCK ? m - i0 : SCP_ROWS_PER_BLOCK;
        SCP_K(expand)(&ctx, i0 * bpr, (size_t)rows * bpr, a);
        for (unsigned i = 0; i < rows; i++)
            for (unsigned r = 0; r < mbar; r++)
                bs[i * mbar + r] = _mm256_set1_epi16(sp[(size_t)r * m + i0 + i]);
        if (mbar == 8)
            scp_avx2_sa_block(a, rows, n, bs, acc, 8);
        else
            scp_avx2_sa_block(a, rows, n, bs, acc, SCP_MAX_MBAR);
    }
    for (unsigned r = 0; r < mbar; r++)
        for (unsigned j = 0; j < n; j++)
            c1[(size_t)r * n + j] = (uint16_t)(c1[(size_t)r * n + j] + acc[(size_t)r * np + j]);
    scp_wipe(bs, sizeof bs);
    scp_wipe(acc, sizeof(uint16_t) * mbar * np);
    return 0;
}

const scp_kernel scp_kernel_avx2 = {
    .name = "avx2",
    .mul_as = scp_avx2_mul_as_fast,
    .mul_sa = scp_avx2_mul_sa_fast,
    .mul_sb = scp_avx2_mul_sb,
    .expand_a = scp_avx2_expand_a,
    .mul_cs = scp_avx2_mul_cs,
    .fixed_weight = scp_avx2_fixed_weight,
    .cbd = scp_cbd,
};
