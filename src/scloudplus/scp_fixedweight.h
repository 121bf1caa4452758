/*
 * scp_fixedweight.h - constant-time fixed-weight sampler (§5.1).
 *
 * Included by each kernel file (compiled with that kernel's instruction set,
 * so the word loops below vectorise); SCP_K(name) gives the function names,
 * and a kernel may bring its own SCP_FW_ONEHOT / SCP_FW_ANY primitives.
 *
 * The reference walks a candidate list and branches on "position already
 * used in this row"; both the branch and the V[row][p] index leak positions
 * (the published timing attack on Scloud+ targets this step). Here:
 *  - a fixed number of SHAKE chunks is parsed (table: 2^-64 to run out) and
 *    every candidate slot, valid or not, is processed the same way;
 *  - a row is a bitmap in vector registers; a position becomes a one-hot
 *    bitmap by comparing every word index (never indexing memory by p);
 *    "already used" is a vector test; every update is masked;
 *  - the current row number is secret, so slots are processed in blocks of
 *    2h, in which at most one row can complete (each row needs 2h accepted
 *    slots): inside a block, the current row and the next one are tracked
 *    side by side, and at the end of the block the finished row is merged
 *    into its output row with a mask over all rows.
 * Only the "all rows filled" flag is declassified (docs/scloudplus.md).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mamori/mm_core.h"
#include "scp_ct.h"
#include "scp_internal.h"

/* Row bitmaps as vectors of SCP_VW_LANES words (GCC/Clang vector extension)
 * of the kernel's native width: SSE2 (2), AVX2 (4) or AVX-512 (8). */
#ifndef SCP_VW_LANES
#define SCP_VW_LANES 2
#endif
typedef uint64_t scp_vw __attribute__((vector_size(8 * SCP_VW_LANES)));
#define SCP_FW_VECS (24 / SCP_VW_LANES) /* 24 words >= SCP_BM_WORDS */

typedef struct scp_fw_state {
    scp_vw out_u[SCP_MAX_ROWS][SCP_FW_VECS], out_n[SCP_MAX_ROWS][SCP_FW_VECS];
    scp_vw used[SCP_FW_VECS], neg[SCP_FW_VECS]; /* the row being filled */
    uint64_t row, cnt;
} scp_fw_state;

/* A slot is packed in 32 bits: position (bits 0..11) and valid flag (bit 31). */
#define SCP_FW_POS_MASK 0xFFFu

/* broadcast (a macro: a function returning a 64-byte vector changes the ABI) */
#define scp_fw_splat(x) ((scp_vw){0} + (uint64_t)(x))

/* x / b for the public bases of §5.1; constant divisors compile to multiplies. */
static inline uint64_t SCP_K(fw_div)(uint64_t x, unsigned b)
{
    switch (b) {
    case 600: return x / 600;
    case 896: return x / 896;
    case 928: return x / 928;
    case 1120: return x / 1120;
    case 1136: return x / 1136;
    default: return x / b; /* not reached: every base of the table is above */
    }
}

#ifndef SCP_FW_BLOCK /* a kernel may bring its own block (same contract, e.g. batched) */
#ifndef SCP_FW_ONEHOT
/* oh[z] = bitmap with only bit p set, built by comparing every word index */
static inline void scp_fw_onehot(scp_vw *oh, const unsigned NV, uint64_t p)
{
    const scp_vw wi = scp_fw_splat(p >> 6), bit = scp_fw_splat((uint64_t)1 << (p & 63));
    for (unsigned z = 0; z < NV; z++) {
        scp_vw iota;
        for (unsigned l = 0; l < SCP_VW_LANES; l++)
            iota[l] = (uint64_t)z * SCP_VW_LANES + l;
        oh[z] = (scp_vw)(wi == iota) & bit;
    }
}

/* nonzero if any bit of oh is set in u */
static inline uint64_t scp_fw_any(const scp_vw *u, const scp_vw *oh, const unsigned NV)
{
    scp_vw h = u[0] & oh[0];
    uint64_t r = 0;
    for (unsigned z = 1; z < NV; z++)
        h |= u[z] & oh[z];
    for (unsigned l = 0; l < SCP_VW_LANES; l++)
        r |= h[l];
    return r;
}
#define SCP_FW_ONEHOT(oh, NV, p) scp_fw_onehot(oh, NV, p)
#define SCP_FW_ANY(u, oh, NV) scp_fw_any(u, oh, NV)
#endif

/*
 * One block of slots (at most one row completes in it, see the top). Two
 * hypotheses run side by side: "a" continues the current row, "b" is the
 * next row, fed only by slots after the completion. Both bitmaps only ever
 * grow (adding a duplicate is a no-op) and the take counters keep counting,
 * so every loop-carried chain is one OR or one add; the hit tests, the
 * completion flags and the signs hang off them. At the end of the block the
 * finished row (snapshot su, taken at the completing slot, and na, which
 * stops growing there: a sign is only taken before the row is full) is
 * merged into its output row and "b" becomes the current row - all with masks.
 */
static inline __attribute__((always_inline)) void
SCP_K(fw_block)(scp_fw_state *s, const unsigned NV, const uint32_t *e, unsigned nslots,
                uint64_t rows, uint64_t two_h)
{
    scp_vw ua[SCP_FW_VECS], na[SCP_FW_VECS], ub[SCP_FW_VECS], nb[SCP_FW_VECS];
    scp_vw su[SCP_FW_VECS], oh[SCP_FW_VECS];
    uint64_t cnt = s->cnt, cntb = 0;
    const uint64_t act = scp_ct_lt64(s->row, rows), actb = scp_ct_lt64(s->row + 1, rows);
    for (unsigned z = 0; z < NV; z++) {
        ua[z] = s->used[z];
        na[z] = s->neg[z];
        ub[z] = nb[z] = su[z] = scp_fw_splat(0);
    }
    for (unsigned k = 0; k < nslots; k++) {
        const uint64_t v = (uint64_t)0 - (e[k] >> 31);
        SCP_FW_ONEHOT(oh, NV, (uint64_t)(e[k] & SCP_FW_POS_MASK));
        const uint64_t hit_a = SCP_FW_ANY(ua, oh, NV), hit_b = SCP_FW_ANY(ub, oh, NV);
        const uint64_t aft = scp_ct_lt64(two_h - 1, cnt); /* row finished before k */
        const uint64_t take_a = v & act & ~scp_ct_nz64(hit_a);
        const uint64_t sgn_a = take_a & ~aft & ((uint64_t)0 - (cnt & 1)); /* odd: -1 */
        cnt += take_a & 1;
        const uint64_t fin = ~aft & scp_ct_lt64(two_h - 1, cnt); /* finishes at k */
        const uint64_t take_b = v & aft & actb & ~scp_ct_nz64(hit_b);
        const uint64_t sgn_b = take_b & ((uint64_t)0 - (cntb & 1));
        cntb += take_b & 1;
        const scp_vw mv = scp_fw_splat(v), ma = scp_fw_splat(sgn_a), mf = scp_fw_splat(fin);
        const scp_vw mb = scp_fw_splat(v & aft), mn = scp_fw_splat(sgn_b);
        for (unsigned z = 0; z < NV; z++) {
            ua[z] |= oh[z] & mv;
            na[z] |= oh[z] & ma;
            ub[z] |= oh[z] & mb;
            nb[z] |= oh[z] & mn;
            su[z] |= ua[z] & mf;
        }
    }
    const uint64_t done = scp_ct_lt64(two_h - 1, cnt);
    const scp_vw f = scp_fw_splat(done);
    for (unsigned r = 0; r < rows; r++) {
        const scp_vw m = f & scp_fw_splat(scp_ct_eq64(r, s->row));
        for (unsigned z = 0; z < NV; z++) {
            s->out_u[r][z] |= su[z] & m;
            s->out_n[r][z] |= na[z] & m; /* na stops growing at fin */
        }
    }
    for (unsigned z = 0; z < NV; z++) {
        s->used[z] = (ub[z] & f) | (ua[z] & ~f);
        s->neg[z] = (nb[z] & f) | (na[z] & ~f);
    }
    s->cnt = (cntb & done) | (cnt & ~done);
    s->row += done & 1;
}
#define SCP_FW_BLOCK(s, NV, e, n, rows, two_h) SCP_K(fw_block)(s, NV, e, n, rows, two_h)
#endif /* SCP_FW_BLOCK */

/* Largest block: 2h slots (h <= 284). */
#define SCP_FW_MAX_BLOCK 576

/* The slots of candidates [c0, c0 + count) of the stream (§5.1 Positions), in order.
 * The chunk/candidate pair is stepped, not divided out (p->nc is not a
 * compile-time constant, so t / nc was a DIV per candidate). */
static inline __attribute__((always_inline)) unsigned
SCP_K(fw_parse_d)(const scp_fw_spec *fw, const scp_params *p, const uint8_t *buf, unsigned c0,
                  unsigned count, uint32_t *e, const unsigned D)
{
#ifdef SCP_FW_PARSE1 /* a kernel's vectorised parser for d = 1 (same output) */
    if (D == 1 && p->w <= SCP_FW_PARSE1_MAX_W && count + 7 <= SCP_FW_MAX_BLOCK)
        return SCP_FW_PARSE1(fw, p, buf, c0, count, e);
#endif
    uint64_t bound_d = 1;
    const uint64_t wmask = ((uint64_t)1 << p->w) - 1;
    const unsigned nc = p->nc, w = p->w;
    unsigned n = 0, c = c0 / nc, i = c0 % nc; /* public */
    for (unsigned k = 0; k < D; k++)
        bound_d *= fw->bound;
    size_t bit = (size_t)c * SCP_CHUNK_BYTES * 8 + (size_t)i * w;
    for (unsigned t = 0; t < count; t++) {
        uint64_t x;
        memcpy(&x, buf + (bit >> 3), sizeof x); /* little-endian host (x86) */
        x = (x >> (bit & 7)) & wmask;
        const uint32_t v = (uint32_t)(scp_ct_lt64(x, bound_d) & 1) << 31;
        if (++i == nc) { /* next chunk */
            i = 0;
            c++;
            bit = (size_t)c * SCP_CHUNK_BYTES * 8;
        } else {
            bit += w;
        }
        if (D == 1) { /* x is the position when valid; junk otherwise (masked) */
            e[n++] = ((uint32_t)x & SCP_FW_POS_MASK) | v;
            continue;
        }
        for (unsigned k = 0; k < D; k++, n++) {
            uint64_t q = SCP_K(fw_div)(x, fw->bound);
            e[n] = ((uint32_t)(x - q * fw->bound) & SCP_FW_POS_MASK) | v;
            x = q;
        }
    }
    return n;
}

static unsigned SCP_K(fw_parse)(const scp_fw_spec *fw, const scp_params *p, const uint8_t *buf,
                                unsigned c0, unsigned count, uint32_t *e)
{
    switch (p->d) { /* the table has d in {1, 3, 5} */
    case 1: return SCP_K(fw_parse_d)(fw, p, buf, c0, count, e, 1);
    case 3: return SCP_K(fw_parse_d)(fw, p, buf, c0, count, e, 3);
    default: return SCP_K(fw_parse_d)(fw, p, buf, c0, count, e, 5);
    }
}

/*
 * Process every slot of the chunks in buf; returns all-ones if every row got
 * filled. Slots are parsed a block at a time into a small buffer (whole
 * candidates, at most 2h slots: at most one row completes per block).
 */
static inline __attribute__((always_inline)) uint64_t
SCP_K(fw_run)(scp_fw_state *s, const unsigned NV, const scp_fw_spec *fw, const scp_params *p,
              const uint8_t *buf, unsigned chunks)
{
    uint32_t e[SCP_FW_MAX_BLOCK];
    const unsigned per = 2u * fw->h / p->d, total = chunks * p->nc; /* candidates */
    memset(s, 0, sizeof *s);
    for (unsigned c0 = 0; c0 < total; c0 += per) {
        unsigned cnt = total - c0 < per ? total - c0 : per;
        unsigned len = SCP_K(fw_parse)(fw, p, buf, c0, cnt, e);
        SCP_FW_BLOCK(s, NV, e, len, fw->rows, 2u * fw->h);
    }
    scp_wipe(e, sizeof e);
    return scp_ct_eq64(s->row, fw->rows);
}

#define SCP_FW_NV(words) (((words) + SCP_VW_LANES - 1) / SCP_VW_LANES)

/* One instance per bitmap size, so every word loop has a constant trip count. */
static uint64_t SCP_K(fw_run_640)(scp_fw_state *s, const scp_fw_spec *fw, const scp_params *p,
                                  const uint8_t *buf, unsigned chunks)
{
    return SCP_K(fw_run)(s, SCP_FW_NV(10), fw, p, buf, chunks);
}

static uint64_t SCP_K(fw_run_1024)(scp_fw_state *s, const scp_fw_spec *fw, const scp_params *p,
                                   const uint8_t *buf, unsigned chunks)
{
    return SCP_K(fw_run)(s, SCP_FW_NV(16), fw, p, buf, chunks);
}

static uint64_t SCP_K(fw_run_1152)(scp_fw_state *s, const scp_fw_spec *fw, const scp_params *p,
                                   const uint8_t *buf, unsigned chunks)
{
    return SCP_K(fw_run)(s, SCP_FW_NV(18), fw, p, buf, chunks);
}

#ifndef SCP_FW_DENSE
/* Bitmaps to dense {-1, 0, 1} rows; public indices, one word at a time. */
static void scp_fw_to_dense(const scp_fw_state *s, const scp_fw_spec *fw, int16_t *out)
{
    for (unsigned r = 0; r < fw->rows; r++) {
        int16_t *row = out + (size_t)r * fw->len;
        for (unsigned w = 0; w < (fw->len + 63u) / 64; w++) {
            const uint64_t u = s->out_u[r][w / SCP_VW_LANES][w % SCP_VW_LANES];
            const uint64_t ng = u & s->out_n[r][w / SCP_VW_LANES][w % SCP_VW_LANES];
            int16_t tmp[64];
            for (unsigned b = 0; b < 64; b++)
                tmp[b] = (int16_t)(((u >> b) & 1) - 2 * ((ng >> b) & 1));
            unsigned left = fw->len - 64 * w;
            memcpy(row + 64 * w, tmp, sizeof(int16_t) * (left < 64 ? left : 64));
        }
    }
}
#define SCP_FW_DENSE(s, fw, out) scp_fw_to_dense(s, fw, out)
#endif

#ifndef SCP_FW_FREE_DEFINED
#define SCP_FW_FREE_DEFINED
/* Wipe and free the retry buffer: malloc'd, so free() (OPENSSL_clear_free
 * would hand it to a custom OpenSSL allocator that never made it). */
static inline void scp_fw_free(uint8_t *p, size_t n)
{
    if (p) {
        scp_wipe(p, n);
        free(p);
    }
}
#endif

static int SCP_K(fixed_weight)(const scp_fw_spec *fw, const scp_params *p,
                               const uint8_t seed[32], const uint8_t *pre, int16_t *out)
{
    /* Everything on the stack: heap buffers of this size were trimmed and
     * faulted in again on every call. Only the 2^-64 retry allocates. */
    scp_fw_state s __attribute__((aligned(64)));
    uint8_t sbuf[SCP_FW_STACK_BYTES];
    uint8_t *buf = sbuf, *hbuf = NULL;
    size_t hlen = 0, sused = 0; /* bytes of sbuf written */
    int rc = 0;
    for (unsigned chunks = fw->chunks; rc == 0; chunks *= 2) {
        if (chunks > 8u * fw->chunks) { /* three misses of 2^-64 each: give up */
            rc = MM_ELIMIT;
            break;
        }
        const size_t sbytes = (size_t)chunks * SCP_CHUNK_BYTES;
        if (sbytes + 8 > sizeof sbuf) {
            scp_fw_free(hbuf, hlen);
            hlen = sbytes + 8;
            buf = hbuf = malloc(hlen);
            if (!hbuf) {
                rc = MM_ENOMEM;
                break;
            }
        }
        const uint8_t *src = buf;
        if (pre && chunks == fw->chunks) { /* the caller's first-try stream */
            src = pre;
        } else {
            if (buf == sbuf && sbytes + 8 > sused)
                sused = sbytes + 8;
            if ((rc = scp_shake256(buf, sbytes + 8, seed, 32)) != 0)
                break;
        }
        uint64_t done = fw->len <= 640    ? SCP_K(fw_run_640)(&s, fw, p, src, chunks)
                        : fw->len <= 1024 ? SCP_K(fw_run_1024)(&s, fw, p, src, chunks)
                                          : SCP_K(fw_run_1152)(&s, fw, p, src, chunks);
        /* Public with overwhelming probability (1 - 2^-64): see docs. */
        SCP_DECLASSIFY(&done, sizeof done);
        if (done) {
            SCP_FW_DENSE(&s, fw, out);
            break;
        }
    }
    scp_fw_free(hbuf, hlen);
    if (sused)
        scp_wipe(sbuf, sused);
    scp_wipe(&s, sizeof s);
    return rc;
}
