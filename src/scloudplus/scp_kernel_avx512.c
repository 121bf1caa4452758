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

#include "scp_aesni.h"
#include "scp_ct.h"
#include "scp_internal.h"

#define SCP_K(name) scp_avx512_##name

typedef struct scp_aes_ctx {
    __m128i rk[11];
    __m512i rk4[11]; /* each round key in all four 128-bit lanes */
} scp_aes_ctx;

static int SCP_K(aes_init)(scp_aes_ctx *ctx, const uint8_t key[16])
{
    scp_aes128_expand(ctx->rk, key);
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

/* The fixed-weight sampler's block is the batched one below (same contract
 * as the generic block of scp_fixedweight.h, same output). */
#define SCP_VW_LANES 8
typedef uint64_t scp_vw __attribute__((vector_size(64)));
struct scp_fw_state;
static inline __attribute__((always_inline)) void
scp_avx512_fw_block_x(struct scp_fw_state *s, const unsigned NV, const uint32_t *e,
                      unsigned nslots, uint64_t rows, uint64_t two_h);
#define SCP_FW_BLOCK(s, NV, e, n, rows, two_h) scp_avx512_fw_block_x(s, NV, e, n, rows, two_h)
static void scp_avx512_fw_dense(const struct scp_fw_state *s, const scp_fw_spec *fw,
                                int16_t *out);
#define SCP_FW_DENSE(s, fw, out) scp_avx512_fw_dense(s, fw, out)

#include "scp_fwparse_avx2.h"
#include "scp_fixedweight.h"
#include "scp_kernel_impl.h"

/*
 * CBD (§5.2), 16 samples per step: sample t has 2 eta bits at bit 2 eta t.
 * VPERMB moves the three bytes holding each sample into its dword lane (the
 * indices depend only on t), VPSRLVD aligns it, and VPOPCNTD counts both
 * halves: no table, no branch, no secret-dependent address.
 */
static void SCP_K(cbd)(uint16_t *out, size_t count, unsigned eta, const uint8_t *buf)
{
    const unsigned sb = 2 * eta; /* bits per sample (<= 14), 16 samples = 4 eta bytes */
    __attribute__((aligned(64))) uint8_t idx[64];
    __attribute__((aligned(64))) uint32_t sh[16];
    for (unsigned t = 0; t < 16; t++) {
        for (unsigned k = 0; k < 4; k++)
            idx[4 * t + k] = (uint8_t)((sb * t >> 3) + k);
        sh[t] = sb * t & 7;
    }
    const __m512i vidx = _mm512_load_si512(idx), vsh = _mm512_load_si512(sh);
    const __m512i m = _mm512_set1_epi32((1 << eta) - 1);
    for (size_t i = 0; i < count; i += 16) {
        const size_t left = count - i; /* public */
        const unsigned n = left >= 16 ? 16 : (unsigned)left;
        const unsigned nbytes = (sb * n + 7) / 8;
        const __m512i raw = _mm512_maskz_loadu_epi8(((__mmask64)1 << nbytes) - 1,
                                                    buf + (size_t)sb * i / 8);
        const __m512i x = _mm512_srlv_epi32(_mm512_permutexvar_epi8(vidx, raw), vsh);
        const __m512i a = _mm512_popcnt_epi32(_mm512_and_si512(x, m));
        const __m512i b = _mm512_popcnt_epi32(_mm512_and_si512(_mm512_srli_epi32(x, eta), m));
        _mm256_mask_storeu_epi16(out + i, (__mmask16)((1u << n) - 1),
                                 _mm512_cvtepi32_epi16(_mm512_sub_epi32(a, b)));
    }
}

/* Bitmaps to dense {-1, 0, 1} rows, 32 entries per step: the bitmap words
 * are zero-masking masks of register moves (no memory access depends on
 * them); only the public row tail masks the store. */
static void scp_avx512_fw_dense(const struct scp_fw_state *s, const scp_fw_spec *fw,
                                int16_t *out)
{
    const unsigned len = fw->len;
    for (unsigned r = 0; r < fw->rows; r++) {
        for (unsigned c = 0; c < (len + 31u) / 32; c++) {
            uint32_t u, n;
            memcpy(&u, (const uint8_t *)s->out_u[r] + 4 * c, 4);
            memcpy(&n, (const uint8_t *)s->out_n[r] + 4 * c, 4);
            __m512i v = _mm512_maskz_mov_epi16((__mmask32)u, _mm512_set1_epi16(1));
            v = _mm512_mask_mov_epi16(v, (__mmask32)(u & n), _mm512_set1_epi16(-1));
            const unsigned left = len - 32 * c;
            const __mmask32 m = left >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << left) - 1);
            _mm512_mask_storeu_epi16(out + (size_t)r * len + 32 * c, m, v);
        }
    }
}

/*
 * Batched fixed-weight block (AVX-512 F/BW/VL/CD/VPOPCNTDQ). The slots are
 * taken 16 at a time (one dword lane each; the tail lanes of the block are
 * invalid). Per batch, all in registers and without a branch or an index that
 * depends on a secret:
 *  - "already in the current row": the row bitmap T (dwords) is looked up
 *    with VPERMI2D/VPERMD (register permutes, index = position / 32) and a
 *    variable shift, and duplicates inside the batch come from VPCONFLICTD
 *    over keys that are the position for a valid slot and a unique value for
 *    an invalid one;
 *  - the exclusive prefix count of the takes (VPOPCNTD of the take mask under
 *    a per-lane "lanes below" mask) gives every lane its sign (parity) and
 *    whether the row is already full before it (count >= 2h - cnt): at most
 *    one row completes per batch (2h > 16), and the lanes after the
 *    completion start the next row, whose own duplicates are the conflicts
 *    restricted to those lanes;
 *  - then each slot ORs its one-hot bitmap (VPSLLVQ as before) into the
 *    current and next row's used/negative bitmaps under four per-lane masks
 *    (VPTERNLOGQ with a broadcast mask), and at the end of the batch the
 *    completed row, if any, moves to F and the next row becomes current,
 *    with masks. F is merged into its output row once per block (at most one
 *    row completes per block of at most 2h slots).
 * Only the slot counts, which are public, decide loop trip counts.
 */
static inline __attribute__((always_inline)) void
scp_avx512_fw_block_x(struct scp_fw_state *s, const unsigned NV, const uint32_t *e,
                      unsigned nslots, uint64_t rows, uint64_t two_h)
{
    __m512i T[3], N[3], FT[3], FN[3], qoff[3];
    __attribute__((aligned(64))) uint64_t pb[16];
    __attribute__((aligned(64))) uint32_t mk[4][16];
    uint64_t cnt = s->cnt, row = s->row, fdone = 0, frow = 0;
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i below = _mm512_sub_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), lane),
                                           _mm512_set1_epi32(1)); /* (1 << k) - 1 */
    const __m512i one32 = _mm512_set1_epi32(1), one64 = _mm512_set1_epi64(1);
    for (unsigned z = 0; z < NV; z++) {
        T[z] = (__m512i)s->used[z];
        N[z] = (__m512i)s->neg[z];
        FT[z] = FN[z] = _mm512_setzero_si512();
        qoff[z] = _mm512_add_epi64(_mm512_set_epi64(448, 384, 320, 256, 192, 128, 64, 0),
                                   _mm512_set1_epi64(512 * z));
    }
    for (unsigned b = 0; b < nslots; b += 16) {
        const unsigned left = nslots - b; /* public */
        const __mmask16 lm = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        const __m512i ev = _mm512_maskz_loadu_epi32(lm, e + b);
        const __mmask16 kv = _mm512_test_epi32_mask(ev, _mm512_set1_epi32((int)0x80000000u));
        const __m512i pos = _mm512_and_si512(ev, _mm512_set1_epi32(SCP_FW_POS_MASK));
        const __m512i key = _mm512_mask_mov_epi32(
            _mm512_add_epi32(lane, _mm512_set1_epi32(0x10000)), kv, pos);
        const __m512i conf = _mm512_conflict_epi32(key);
        /* bit pos of T, from the registers */
        const __m512i widx = _mm512_srli_epi32(pos, 5);
        __m512i w = _mm512_permutex2var_epi32(T[0], widx, T[1]);
        if (NV == 3)
            w = _mm512_mask_permutexvar_epi32(
                w, _mm512_cmpge_epu32_mask(widx, _mm512_set1_epi32(32)), widx, T[2]);
        const __m512i bit = _mm512_srlv_epi32(w, _mm512_and_si512(pos, _mm512_set1_epi32(31)));
        const uint32_t hit = (uint32_t)_mm512_test_epi32_mask(bit, one32) |
                             (uint32_t)_mm512_test_epi32_mask(conf, conf);
        const uint32_t act = (uint32_t)scp_ct_lt64(row, rows);
        const uint32_t actb = (uint32_t)scp_ct_lt64(row + 1, rows);
        const uint32_t tcr = (uint32_t)kv & ~hit & act & 0xFFFFu; /* takes if all in this row */
        const __m512i excl =
            _mm512_popcnt_epi32(_mm512_and_si512(_mm512_set1_epi32((int)tcr), below));
        const uint64_t need = two_h - cnt; /* >= 1 */
        const uint32_t kcur = _mm512_cmplt_epu32_mask(excl, _mm512_set1_epi32((int)need));
        const uint64_t total = (uint64_t)__builtin_popcount(tcr); /* POPCNT (-mpopcnt) */
        const uint64_t done = scp_ct_lt64(need - 1, total); /* act is in tcr */
        const uint32_t knew = ~kcur & 0xFFFFu; /* lanes after the completion */
        const uint32_t tc = tcr & kcur;
        const uint32_t tn = (uint32_t)kv & knew & actb &
                            ~(uint32_t)_mm512_test_epi32_mask(conf, _mm512_set1_epi32((int)knew));
        const __m512i excln =
            _mm512_popcnt_epi32(_mm512_and_si512(_mm512_set1_epi32((int)tn), below));
        const uint32_t nc = tc & _mm512_test_epi32_mask(
                                     _mm512_add_epi32(excl, _mm512_set1_epi32((int)cnt)), one32);
        const uint32_t nn = tn & _mm512_test_epi32_mask(excln, one32);
        const __m512i ones = _mm512_set1_epi32(-1);
        _mm512_store_si512(mk[0], _mm512_maskz_mov_epi32((__mmask16)tc, ones));
        _mm512_store_si512(mk[1], _mm512_maskz_mov_epi32((__mmask16)nc, ones));
        _mm512_store_si512(mk[2], _mm512_maskz_mov_epi32((__mmask16)tn, ones));
        _mm512_store_si512(mk[3], _mm512_maskz_mov_epi32((__mmask16)nn, ones));
        _mm512_store_si512(pb, _mm512_cvtepu32_epi64(_mm512_castsi512_si256(pos)));
        _mm512_store_si512(pb + 8, _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(pos, 1)));
        __m512i TN[3], NN[3];
        for (unsigned z = 0; z < NV; z++)
            TN[z] = NN[z] = _mm512_setzero_si512();
        for (unsigned k = 0; k < 16; k++) {
            const __m512i pv = _mm512_set1_epi64((long long)pb[k]);
            const __m512i m0 = _mm512_set1_epi32((int)mk[0][k]);
            const __m512i m1 = _mm512_set1_epi32((int)mk[1][k]);
            const __m512i m2 = _mm512_set1_epi32((int)mk[2][k]);
            const __m512i m3 = _mm512_set1_epi32((int)mk[3][k]);
            for (unsigned z = 0; z < NV; z++) {
                /* 0 in every lane but pos / 64: shift counts >= 64 give 0 */
                const __m512i oh = _mm512_sllv_epi64(one64, _mm512_sub_epi64(pv, qoff[z]));
                T[z] = SCP_TERNLOG512(T[z], oh, m0, 0xF8); /* a | (b & c) */
                N[z] = SCP_TERNLOG512(N[z], oh, m1, 0xF8);
                TN[z] = SCP_TERNLOG512(TN[z], oh, m2, 0xF8);
                NN[z] = SCP_TERNLOG512(NN[z], oh, m3, 0xF8);
            }
        }
        const __m512i dm = _mm512_set1_epi64((long long)done);
        for (unsigned z = 0; z < NV; z++) {
            FT[z] = SCP_TERNLOG512(FT[z], T[z], dm, 0xF8);
            FN[z] = SCP_TERNLOG512(FN[z], N[z], dm, 0xF8);
            T[z] = SCP_TERNLOG512(dm, TN[z], T[z], 0xCA); /* dm ? TN : T */
            N[z] = SCP_TERNLOG512(dm, NN[z], N[z], 0xCA);
        }
        const uint64_t ctc = (uint64_t)__builtin_popcount(tc);
        const uint64_t ctn = (uint64_t)__builtin_popcount(tn);
        cnt = (ctn & done) | ((cnt + ctc) & ~done);
        frow |= row & done;
        fdone |= done;
        row += done & 1;
    }
    for (unsigned r = 0; r < rows; r++) {
        const __m512i m = _mm512_set1_epi64((long long)(fdone & scp_ct_eq64(r, frow)));
        for (unsigned z = 0; z < NV; z++) {
            s->out_u[r][z] =
                (scp_vw)SCP_TERNLOG512((__m512i)s->out_u[r][z], FT[z], m, 0xF8);
            s->out_n[r][z] =
                (scp_vw)SCP_TERNLOG512((__m512i)s->out_n[r][z], FN[z], m, 0xF8);
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
            c[x] = SCP_TERNLOG256(
                SCP_TERNLOG256(a[x], a[x + 5], a[x + 10], 0x96), a[x + 15], a[x + 20],
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
                a[y + x] = SCP_TERNLOG256(b[y + x], b[y + (x + 1) % 5],
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
    uint64_t w[SCP_SHAKE256_RATE / 8][4];
    for (size_t pos = 0; pos < max; pos += SCP_SHAKE256_RATE) {
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
    }
    scp_wipe(w, sizeof w);
    scp_wipe(a, sizeof a);
    scp_wipe(last, sizeof last);
}

/* Two streams of 32-byte seeds (the PKE's shake256_x2 hook: the sampler's
 * stream and the noise stream of keygen and encryption), two of the four
 * lanes; end to end ~5% faster than two OpenSSL calls at level 128. */
static int SCP_K(shake256_x2)(uint8_t *o0, size_t l0, const uint8_t s0[32], uint8_t *o1,
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
    } else { /* nbar = 11: two rows, 22 accumulators */
        for (; i + 2 <= p->m; i += 2)
            SCP_K(as_block)(p, &ctx, st, b, i, 2, SCP_MAX_NBAR);
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
        __m512i v = SCP_PACKUS512(_mm512_and_si512(lo[r], low16),
                                        _mm512_and_si512(hi[r], low16));
        uint16_t *dst = c1 + (size_t)r * n + 32 * s;
        __m512i old = _mm512_maskz_loadu_epi16(msk, dst);
        _mm512_mask_storeu_epi16(dst, msk, _mm512_add_epi16(old, v));
    }
}

#ifdef MM_SCP_CT_INJECT
/*
 * Sensitivity test of the constant-time check only (tests/ct, never in a
 * normal build): 1 adds a branch on a secret entry of S', 2 a load whose
 * index is one. The check must report both.
 */
volatile unsigned scp_ct_inject_sink;
static const uint8_t scp_ct_inject_table[256] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
#endif

static int SCP_K(mul_sa_fused)(const scp_params *p, const uint8_t seed_a[16], const int16_t *sp,
                               uint16_t *c1)
{
    scp_aes_ctx ctx;
#if defined(MM_SCP_CT_INJECT) && MM_SCP_CT_INJECT == 1
    if (sp[3] > 0)
        scp_ct_inject_sink++;
#elif defined(MM_SCP_CT_INJECT) && MM_SCP_CT_INJECT == 2
    scp_ct_inject_sink += scp_ct_inject_table[(uint8_t)sp[3]];
#endif
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
    .expand_a = scp_avx512_expand_a,
    .mul_cs = scp_avx512_mul_cs,
    .fixed_weight = scp_avx512_fixed_weight,
    .cbd = scp_avx512_cbd,
    .shake256_x2 = scp_avx512_shake256_x2,
};
