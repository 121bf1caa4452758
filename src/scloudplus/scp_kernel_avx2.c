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

/* The fixed-weight sampler's block is the batched one below (same contract
 * as the generic block of scp_fixedweight.h, same output). */
#define SCP_VW_LANES 4
typedef uint64_t scp_vw __attribute__((vector_size(32)));
struct scp_fw_state;
static inline __attribute__((always_inline)) void
scp_avx2_fw_block_x(struct scp_fw_state *s, const unsigned NV, const uint32_t *e,
                    unsigned nslots, uint64_t rows, uint64_t two_h);
#define SCP_FW_BLOCK(s, NV, e, n, rows, two_h) scp_avx2_fw_block_x(s, NV, e, n, rows, two_h)

#include "scp_fwparse_avx2.h"
#include "scp_fixedweight.h"
#include "scp_kernel_impl.h"

/* Per dword lane: the number of set bits of a value below 256 (SWAR; no
 * table, no POPCNT needed). */
static inline __m256i scp_avx2_popc8(__m256i x)
{
    x = _mm256_sub_epi32(x, _mm256_and_si256(_mm256_srli_epi32(x, 1), _mm256_set1_epi32(0x55)));
    x = _mm256_add_epi32(_mm256_and_si256(x, _mm256_set1_epi32(0x33)),
                         _mm256_and_si256(_mm256_srli_epi32(x, 2), _mm256_set1_epi32(0x33)));
    return _mm256_and_si256(_mm256_add_epi32(x, _mm256_srli_epi32(x, 4)), _mm256_set1_epi32(0x0F));
}

/* Per dword lane: the number of set bits of a value below 65536 (SWAR; no
 * table, no POPCNT needed). */
static inline __m256i scp_avx2_popc16(__m256i x)
{
    x = _mm256_sub_epi32(x, _mm256_and_si256(_mm256_srli_epi32(x, 1), _mm256_set1_epi32(0x5555)));
    x = _mm256_add_epi32(_mm256_and_si256(x, _mm256_set1_epi32(0x3333)),
                         _mm256_and_si256(_mm256_srli_epi32(x, 2), _mm256_set1_epi32(0x3333)));
    x = _mm256_and_si256(_mm256_add_epi32(x, _mm256_srli_epi32(x, 4)), _mm256_set1_epi32(0x0F0F));
    return _mm256_and_si256(_mm256_add_epi32(x, _mm256_srli_epi32(x, 8)), _mm256_set1_epi32(0x1F));
}

static inline uint64_t scp_avx2_popc16_u(uint64_t x) /* scalar, x < 65536 */
{
    x = x - ((x >> 1) & 0x5555);
    x = (x & 0x3333) + ((x >> 2) & 0x3333);
    x = (x + (x >> 4)) & 0x0F0F;
    return (x + (x >> 8)) & 0x1F;
}

/* per dword lane: all-ones if bit `lane` of x is set */
static inline __m256i scp_avx2_lanemask(uint32_t x, __m256i lanebit)
{
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)x), lanebit), lanebit);
}

/* 16-bit mask from the sign bits of the dword lanes of lo (lanes 0-7) and hi (8-15) */
static inline uint32_t scp_avx2_msk16(__m256i lo, __m256i hi)
{
    return (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(lo)) |
           (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(hi)) << 8;
}

/*
 * Batched fixed-weight block with AVX2: the avx512 kernel's batched block
 * (scp_kernel_avx512.c, docs/scloudplus.md) with sixteen slots per batch,
 * one dword lane each in two registers (lanes 0-7, 8-15), and the
 * instructions AVX2 has:
 *  - "already in the current row": the row bitmap T (dwords, NV registers)
 *    is looked up with VPERMD per register and VPBLENDVB by the register
 *    number (register permutes, no memory access), then a variable shift;
 *  - duplicates inside the batch: rotations of the keys (position for a
 *    valid slot, a unique out-of-range value otherwise) compared with
 *    VPCMPEQD give each lane the bitmask of the earlier lanes it repeats
 *    (seven rotations inside each half, eight of the low half against the
 *    high half);
 *  - the exclusive prefix count of the takes is a SWAR popcount of the take
 *    mask under a per-lane "lanes below" mask; signs, the completion of the
 *    row (at most one per batch: 2h > 16) and the next row's takes follow as
 *    in the avx512 block, as 16-bit masks (VMOVMSKPS);
 *  - per slot, its one-hot bitmap (VPSLLVQ) is ORed into the current and next
 *    row's used/negative bitmaps under four all-ones/zero masks loaded by
 *    broadcast; at the end of the batch the completed row moves to F and the
 *    next row becomes current with masks; F is merged once per block.
 * No branch and no address depends on a secret; trip counts depend only on
 * the slot counts. Sixteen slots per batch instead of eight halve the
 * per-batch chain (hit test -> masks -> bitmaps), which took as long as the
 * per-slot work.
 */
static inline __attribute__((always_inline)) void
scp_avx2_fw_block_x(struct scp_fw_state *s, const unsigned NV, const uint32_t *e,
                    unsigned nslots, uint64_t rows, uint64_t two_h)
{
    __m256i T[5], N[5], FT[5], FN[5], qoff[5];
    __attribute__((aligned(32))) uint64_t pb[16];
    __attribute__((aligned(32))) uint32_t mk[4][16];
    uint64_t cnt = s->cnt, row = s->row, fdone = 0, frow = 0;
    const __m256i lane = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    const __m256i lane8 = _mm256_add_epi32(lane, _mm256_set1_epi32(8));
    const __m256i one32 = _mm256_set1_epi32(1), one64 = _mm256_set1_epi64x(1);
    const __m256i lbA = _mm256_sllv_epi32(one32, lane), lbB = _mm256_sllv_epi32(one32, lane8);
    const __m256i belowA = _mm256_sub_epi32(lbA, one32), belowB = _mm256_sub_epi32(lbB, one32);
    const __m256i seven = _mm256_set1_epi32(7), zero = _mm256_setzero_si256();
    const __m256i posmask = _mm256_set1_epi32(SCP_FW_POS_MASK);
    for (unsigned z = 0; z < NV; z++) {
        T[z] = (__m256i)s->used[z];
        N[z] = (__m256i)s->neg[z];
        FT[z] = FN[z] = zero;
        qoff[z] = _mm256_add_epi64(_mm256_set_epi64x(192, 128, 64, 0),
                                   _mm256_set1_epi64x(256 * (long long)z));
    }
    for (unsigned b = 0; b < nslots; b += 16) {
        const unsigned left = nslots - b, nl = left >= 16 ? 16 : left; /* public */
        const __m256i lv = _mm256_set1_epi32((int)nl);
        /* masked-off lanes are neither read nor faulted on */
        const __m256i evA = _mm256_maskload_epi32((const int *)(e + b), _mm256_cmpgt_epi32(lv, lane));
        const __m256i evB =
            _mm256_maskload_epi32((const int *)(e + b + 8), _mm256_cmpgt_epi32(lv, lane8));
        const uint32_t kv = scp_avx2_msk16(evA, evB);
        const __m256i posA = _mm256_and_si256(evA, posmask), posB = _mm256_and_si256(evB, posmask);
        const __m256i keyA = _mm256_castps_si256(_mm256_blendv_ps(
            _mm256_castsi256_ps(_mm256_add_epi32(lane, _mm256_set1_epi32(0x10000))),
            _mm256_castsi256_ps(posA), _mm256_castsi256_ps(evA)));
        const __m256i keyB = _mm256_castps_si256(_mm256_blendv_ps(
            _mm256_castsi256_ps(_mm256_add_epi32(lane8, _mm256_set1_epi32(0x10000))),
            _mm256_castsi256_ps(posB), _mm256_castsi256_ps(evB)));
        /* conf lane k: bit i set if lane i < k has the same key */
        __m256i confA = zero, confB = zero;
        for (int d = 1; d < 8; d++) {
            const __m256i ld = _mm256_sub_epi32(lane, _mm256_set1_epi32(d));
            const __m256i rot = _mm256_and_si256(ld, seven);
            const __m256i cbA = _mm256_sllv_epi32(one32, ld); /* 0 if k < d */
            const __m256i cbB = _mm256_sllv_epi32(_mm256_set1_epi32(0x100), ld);
            confA = _mm256_or_si256(confA, _mm256_and_si256(_mm256_cmpeq_epi32(
                keyA, _mm256_permutevar8x32_epi32(keyA, rot)), cbA));
            confB = _mm256_or_si256(confB, _mm256_and_si256(_mm256_cmpeq_epi32(
                keyB, _mm256_permutevar8x32_epi32(keyB, rot)), cbB));
        }
        for (int d = 0; d < 8; d++) { /* every low lane is before every high lane */
            const __m256i rot = _mm256_and_si256(_mm256_add_epi32(lane, _mm256_set1_epi32(d)), seven);
            confB = _mm256_or_si256(confB, _mm256_and_si256(_mm256_cmpeq_epi32(
                keyB, _mm256_permutevar8x32_epi32(keyA, rot)), _mm256_sllv_epi32(one32, rot)));
        }
        /* bit pos of T, from the registers */
        const __m256i wiA = _mm256_srli_epi32(posA, 5), wiB = _mm256_srli_epi32(posB, 5);
        __m256i wA = _mm256_permutevar8x32_epi32(T[0], wiA);
        __m256i wB = _mm256_permutevar8x32_epi32(T[0], wiB);
        for (unsigned z = 1; z < NV; z++) {
            const __m256i zb = _mm256_set1_epi32(8 * (int)z - 1);
            wA = _mm256_blendv_epi8(wA, _mm256_permutevar8x32_epi32(T[z], wiA),
                                    _mm256_cmpgt_epi32(wiA, zb));
            wB = _mm256_blendv_epi8(wB, _mm256_permutevar8x32_epi32(T[z], wiB),
                                    _mm256_cmpgt_epi32(wiB, zb));
        }
        const __m256i p31 = _mm256_set1_epi32(31);
        const uint32_t tbit = scp_avx2_msk16(
            _mm256_slli_epi32(_mm256_srlv_epi32(wA, _mm256_and_si256(posA, p31)), 31),
            _mm256_slli_epi32(_mm256_srlv_epi32(wB, _mm256_and_si256(posB, p31)), 31));
        const uint32_t cnz =
            ~scp_avx2_msk16(_mm256_cmpeq_epi32(confA, zero), _mm256_cmpeq_epi32(confB, zero));
        const uint32_t act = (uint32_t)scp_ct_lt64(row, rows);
        const uint32_t actb = (uint32_t)scp_ct_lt64(row + 1, rows);
        const uint32_t tcr = kv & ~(tbit | cnz) & act & 0xFFFFu; /* takes if all in this row */
        const __m256i tcrv = _mm256_set1_epi32((int)tcr);
        const __m256i exA = scp_avx2_popc16(_mm256_and_si256(tcrv, belowA));
        const __m256i exB = scp_avx2_popc16(_mm256_and_si256(tcrv, belowB));
        const uint64_t need = two_h - cnt; /* >= 1 */
        const __m256i needv = _mm256_set1_epi32((int)need);
        const uint32_t kcur =
            scp_avx2_msk16(_mm256_cmpgt_epi32(needv, exA), _mm256_cmpgt_epi32(needv, exB));
        const uint64_t total = scp_avx2_popc16_u(tcr);
        const uint64_t done = scp_ct_lt64(need - 1, total); /* act is in tcr */
        const uint32_t knew = ~kcur & 0xFFFFu; /* lanes after the completion */
        const uint32_t tc = tcr & kcur;
        const __m256i knewv = _mm256_set1_epi32((int)knew);
        const uint32_t cknew = ~scp_avx2_msk16(
            _mm256_cmpeq_epi32(_mm256_and_si256(confA, knewv), zero),
            _mm256_cmpeq_epi32(_mm256_and_si256(confB, knewv), zero));
        const uint32_t tn = kv & knew & actb & ~cknew & 0xFFFFu;
        const __m256i tnv = _mm256_set1_epi32((int)tn);
        const __m256i exnA = scp_avx2_popc16(_mm256_and_si256(tnv, belowA));
        const __m256i exnB = scp_avx2_popc16(_mm256_and_si256(tnv, belowB));
        const __m256i cntv = _mm256_set1_epi32((int)cnt);
        const uint32_t par = scp_avx2_msk16(_mm256_slli_epi32(_mm256_add_epi32(exA, cntv), 31),
                                            _mm256_slli_epi32(_mm256_add_epi32(exB, cntv), 31));
        const uint32_t parn =
            scp_avx2_msk16(_mm256_slli_epi32(exnA, 31), _mm256_slli_epi32(exnB, 31));
        const uint32_t nc = tc & par, nn = tn & parn;
        const uint32_t mm4[4] = {tc, nc, tn, nn};
        for (unsigned c = 0; c < 4; c++) {
            _mm256_store_si256((__m256i *)mk[c], scp_avx2_lanemask(mm4[c], lbA));
            _mm256_store_si256((__m256i *)(mk[c] + 8), scp_avx2_lanemask(mm4[c], lbB));
        }
        _mm256_store_si256((__m256i *)pb, _mm256_cvtepu32_epi64(_mm256_castsi256_si128(posA)));
        _mm256_store_si256((__m256i *)(pb + 4),
                           _mm256_cvtepu32_epi64(_mm256_extracti128_si256(posA, 1)));
        _mm256_store_si256((__m256i *)(pb + 8), _mm256_cvtepu32_epi64(_mm256_castsi256_si128(posB)));
        _mm256_store_si256((__m256i *)(pb + 12),
                           _mm256_cvtepu32_epi64(_mm256_extracti128_si256(posB, 1)));
        __m256i TN[5], NN[5];
        for (unsigned z = 0; z < NV; z++)
            TN[z] = NN[z] = zero;
        for (unsigned k = 0; k < nl; k++) {
            const __m256i pv = _mm256_set1_epi64x((long long)pb[k]);
            const __m256i m0 = _mm256_set1_epi32((int)mk[0][k]);
            const __m256i m1 = _mm256_set1_epi32((int)mk[1][k]);
            const __m256i m2 = _mm256_set1_epi32((int)mk[2][k]);
            const __m256i m3 = _mm256_set1_epi32((int)mk[3][k]);
            for (unsigned z = 0; z < NV; z++) {
                /* 0 in every lane but pos / 64: shift counts >= 64 give 0 */
                const __m256i oh = _mm256_sllv_epi64(one64, _mm256_sub_epi64(pv, qoff[z]));
                T[z] = _mm256_or_si256(T[z], _mm256_and_si256(oh, m0));
                N[z] = _mm256_or_si256(N[z], _mm256_and_si256(oh, m1));
                TN[z] = _mm256_or_si256(TN[z], _mm256_and_si256(oh, m2));
                NN[z] = _mm256_or_si256(NN[z], _mm256_and_si256(oh, m3));
            }
        }
        const __m256i dm = _mm256_set1_epi64x((long long)done);
        for (unsigned z = 0; z < NV; z++) {
            FT[z] = _mm256_or_si256(FT[z], _mm256_and_si256(T[z], dm));
            FN[z] = _mm256_or_si256(FN[z], _mm256_and_si256(N[z], dm));
            T[z] = _mm256_or_si256(_mm256_and_si256(dm, TN[z]), _mm256_andnot_si256(dm, T[z]));
            N[z] = _mm256_or_si256(_mm256_and_si256(dm, NN[z]), _mm256_andnot_si256(dm, N[z]));
        }
        const uint64_t ctc = scp_avx2_popc16_u(tc), ctn = scp_avx2_popc16_u(tn);
        cnt = (ctn & done) | ((cnt + ctc) & ~done);
        frow |= row & done;
        fdone |= done;
        row += done & 1;
    }
    for (unsigned r = 0; r < rows; r++) {
        const __m256i m = _mm256_set1_epi64x((long long)(fdone & scp_ct_eq64(r, frow)));
        for (unsigned z = 0; z < NV; z++) {
            s->out_u[r][z] = (scp_vw)_mm256_or_si256((__m256i)s->out_u[r][z],
                                                     _mm256_and_si256(FT[z], m));
            s->out_n[r][z] = (scp_vw)_mm256_or_si256((__m256i)s->out_n[r][z],
                                                     _mm256_and_si256(FN[z], m));
        }
    }
    for (unsigned z = 0; z < NV; z++) {
        s->used[z] = (scp_vw)T[z];
        s->neg[z] = (scp_vw)N[z];
    }
    s->cnt = cnt;
    s->row = row;
    scp_wipe(pb, sizeof pb);
    scp_wipe(mk, sizeof mk);
}

/*
 * CBD (§5.2), 8 samples per step: sample t has 2 eta bits at bit 2 eta t,
 * so 8 samples are 2 eta <= 14 whole bytes. The bytes are broadcast to both
 * 128-bit lanes, VPSHUFB (indices depend only on t) moves the bytes holding
 * each sample into its dword lane, VPSRLVD by a public shift aligns it and a
 * SWAR popcount counts both halves: no table, no branch, no secret-dependent
 * address (the scalar scp_cbd costs ~15 instructions per sample).
 */
static void SCP_K(cbd)(uint16_t *out, size_t count, unsigned eta, const uint8_t *buf)
{
    const unsigned sb = 2 * eta;
    const size_t total = (sb * count + 7) / 8; /* bytes of the stream used */
    __attribute__((aligned(32))) uint8_t idx[32];
    __attribute__((aligned(32))) uint32_t sh[8];
    for (unsigned t = 0; t < 8; t++) {
        for (unsigned k = 0; k < 4; k++)
            idx[4 * t + k] = (uint8_t)((sb * t >> 3) + k);
        sh[t] = sb * t & 7;
    }
    const __m256i vidx = _mm256_load_si256((const __m256i *)idx);
    const __m256i vsh = _mm256_load_si256((const __m256i *)sh);
    const __m256i m = _mm256_set1_epi32((1 << eta) - 1);
    for (size_t i = 0; i < count; i += 8) {
        const size_t off = (size_t)sb * i / 8, n = count - i >= 8 ? 8 : count - i; /* public */
        __m128i raw;
        if (off + 16 <= total) {
            raw = _mm_loadu_si128((const __m128i *)(buf + off));
        } else { /* the stream's end: no read past it */
            uint8_t tmp[16] = {0};
            memcpy(tmp, buf + off, total - off);
            raw = _mm_loadu_si128((const __m128i *)tmp);
            scp_wipe(tmp, sizeof tmp);
        }
        const __m256i x = _mm256_srlv_epi32(
            _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(raw), vidx), vsh);
        const __m256i a = scp_avx2_popc8(_mm256_and_si256(x, m));
        const __m256i b = scp_avx2_popc8(_mm256_and_si256(_mm256_srli_epi32(x, eta), m));
        const __m256i d = _mm256_sub_epi32(a, b); /* in [-7, 7]: the packing saturates nothing */
        const __m128i w = _mm256_castsi256_si128(
            _mm256_permute4x64_epi64(_mm256_packs_epi32(d, d), 0x08));
        if (n == 8) {
            _mm_storeu_si128((__m128i *)(out + i), w);
        } else {
            uint16_t tmp[8];
            _mm_storeu_si128((__m128i *)tmp, w);
            memcpy(out + i, tmp, sizeof(uint16_t) * n);
            scp_wipe(tmp, sizeof tmp);
        }
    }
}

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

/*
 * acc += a * (*m) as one multiply into a scratch register and one add.
 * Written as two instructions so the register use is explicit: with the
 * intrinsics, gcc issued every product of a step first (one register each)
 * and kept the accumulators on the stack, a store/reload per accumulator
 * and step (~1.8x the port-0/1 bound of VAES plus multiplies at level 256).
 * Pure data flow: no branch, no address depends on the operands.
 */
#define SCP_AVX2_MACC(insn_mul, insn_add, acc, a, mp)                                          \
    do {                                                                                       \
        __m256i t_;                                                                            \
        __asm__(insn_mul " %[m], %[x], %[t]\n\t" insn_add " %[t], %[c], %[c]"                  \
                : [c] "+x"(acc), [t] "=&x"(t_)                                                 \
                : [x] "x"(a), [m] "m"(*(const __m256i *)(mp)));                                \
    } while (0)

/*
 * AVX-VNNI (VEX-encoded VPDPWSSD on 256-bit registers: Alder Lake, Sapphire
 * Rapids, Zen 5 and later): the multiply and the add of A*S in one
 * instruction. Chosen at run time from CPUID leaf 7 sub-leaf 1 (EAX bit 4);
 * MM_SCLOUDPLUS_AVXVNNI=off keeps the VPMADDWD + VPADDD pair, so the tests
 * can check both paths on such a CPU. CPU features are public.
 */
static int scp_avx2_avxvnni(void)
{
    static _Atomic int state; /* 0 unknown, 1 no, 2 yes */
    int s = state;
    if (s == 0) {
        unsigned a, b, c, d;
        const char *env = getenv("MM_SCLOUDPLUS_AVXVNNI");
        s = 1;
        if (!(env && !strcmp(env, "off")) && __get_cpuid_count(7, 1, &a, &b, &c, &d) &&
            (a & (1u << 4)))
            s = 2;
        state = s;
    }
    return s == 2;
}

/* acc += sum of pairs of 16-bit products, one instruction (AVX-VNNI) */
#define SCP_AVX2_DPWSSD(acc, a, mp)                                                            \
    __asm__("%{vex%} vpdpwssd %[m], %[x], %[c]"                                                  \
            : [c] "+x"(acc)                                                                    \
            : [x] "x"(a), [m] "m"(*(const __m256i *)(mp)))

static inline __attribute__((always_inline)) void
scp_avx2_as_row(const uint16_t *ar, const int16_t *stp, unsigned np, uint16_t *b,
                const unsigned nbar, const int vnni)
{
    __m256i acc[16];
    for (unsigned k = 0; k < 16; k++)
        acc[k] = _mm256_setzero_si256();
    for (unsigned j = 0; j < np; j += 16) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(ar + j));
        for (unsigned k = 0; k < nbar; k++) {
            if (vnni)
                SCP_AVX2_DPWSSD(acc[k], a, stp + ((size_t)j * nbar + 16 * k));
            else
                SCP_AVX2_MACC("vpmaddwd", "vpaddd", acc[k], a, stp + ((size_t)j * nbar + 16 * k));
        }
    }
    int32_t sums[16];
    _mm256_storeu_si256((__m256i *)sums, scp_avx2_reduce8(acc));
    if (nbar > 8)
        _mm256_storeu_si256((__m256i *)(sums + 8), scp_avx2_reduce8(acc + 8));
    for (unsigned k = 0; k < nbar; k++)
        b[k] = (uint16_t)(b[k] + (uint16_t)sums[k]);
}

#define SCP_AS_ROWS 4 /* rows of A per expansion block in A*S */

static int SCP_K(mul_as_fast)(const scp_params *p, const uint8_t seed_a[16], const int16_t *st,
                              uint16_t *b)
{
    scp_aes_ctx ctx;
    const unsigned n = p->n, np = SCP_PAD(n), bpr = n / 8;
    /* On the stack (about 34 KB): S^T padded to whole vectors and interleaved
     * (16 entries of column 0, 16 of column 1, ...; secret, wiped) and one
     * block of A: together they stay in L1 (the k-major copy and 8-row
     * blocks, 43 KB, did not at level 256). */
    int16_t stp[SCP_MAX_NBAR * SCP_PAD(SCP_MAX_N)] __attribute__((aligned(32)));
    uint16_t a[SCP_AS_ROWS * SCP_MAX_N + 16];
    const unsigned nbar = p->nbar;
    const int vnni = scp_avx2_avxvnni();
    SCP_K(aes_init)(&ctx, seed_a);
    memset(stp, 0, sizeof(int16_t) * nbar * np);
    for (unsigned k = 0; k < nbar; k++)
        for (unsigned j = 0; j < n; j++)
            stp[(size_t)(j & ~15u) * nbar + 16 * k + (j & 15)] = st[(size_t)k * n + j];
    memset(a + SCP_AS_ROWS * n, 0, 32);
    for (unsigned i0 = 0; i0 < p->m; i0 += SCP_AS_ROWS) {
        unsigned rows = p->m - i0 < SCP_AS_ROWS ? p->m - i0 : SCP_AS_ROWS;
        SCP_K(expand)(&ctx, i0 * bpr, (size_t)rows * bpr, a);
        for (unsigned i = 0; i < rows; i++) {
            uint16_t *bi = b + (size_t)(i0 + i) * nbar;
            const uint16_t *ai = a + (size_t)i * n;
            if (nbar == 8 && vnni)
                scp_avx2_as_row(ai, stp, np, bi, 8, 1);
            else if (nbar == 8)
                scp_avx2_as_row(ai, stp, np, bi, 8, 0);
            else if (vnni)
                scp_avx2_as_row(ai, stp, np, bi, SCP_MAX_NBAR, 1);
            else
                scp_avx2_as_row(ai, stp, np, bi, SCP_MAX_NBAR, 0);
        }
    }
    scp_wipe(stp, sizeof(int16_t) * nbar * np);
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
                SCP_AVX2_MACC("vpmullw", "vpaddw", acc[r], av, &bs[i * mbar + r]);
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
    .cbd = scp_avx2_cbd,
};
