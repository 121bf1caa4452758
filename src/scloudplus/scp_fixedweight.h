/*
 * scp_fixedweight.h - constant-time fixed-weight sampler (§5.1).
 *
 * Included by each kernel file (compiled with that kernel's instruction set,
 * so the word loops below vectorise); SCP_K(name) gives the function names.
 *
 * The reference walks a candidate list and branches on "position already
 * used in this row"; both the branch and the V[row][p] index leak positions.
 * Here every candidate slot of a fixed number of SHAKE chunks is processed
 * identically: the current row is a bitmap, a position becomes a one-hot
 * word vector built by comparing every word index (never indexing by p), and
 * all updates are masked. The row number is secret, so a finished row is
 * parked in a "save" bitmap and merged into the output rows once per block
 * of 2h slots, with a mask over every row; a block can finish at most one
 * row because each row needs 2h accepted slots. Only the "enough chunks"
 * flag is declassified (docs/scloudplus.md).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mamori/mm_core.h"
#include "scp_ct.h"
#include "scp_internal.h"

typedef struct scp_fw_state {
    uint64_t used[SCP_BM_WORDS], neg[SCP_BM_WORDS];
    uint64_t save_u[SCP_BM_WORDS], save_n[SCP_BM_WORDS];
    uint64_t out_u[SCP_MAX_ROWS][SCP_BM_WORDS], out_n[SCP_MAX_ROWS][SCP_BM_WORDS];
    uint64_t row, cnt, comp, comp_row;
} scp_fw_state;

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

/* One candidate slot: position p, valid mask v (all-ones or 0). */
static inline __attribute__((always_inline)) void
SCP_K(fw_step)(scp_fw_state *s, const unsigned W, uint64_t p, uint64_t v, uint64_t rows,
               uint64_t two_h)
{
    uint64_t oh[SCP_BM_WORDS], hit = 0, wi = p >> 6, bit = (uint64_t)1 << (p & 63);
    for (unsigned w = 0; w < W; w++) {
        oh[w] = bit & scp_ct_eq64(w, wi);
        hit |= s->used[w] & oh[w];
    }
    uint64_t take = v & scp_ct_lt64(s->row, rows) & ~scp_ct_nz64(hit);
    uint64_t odd = (uint64_t)0 - (s->cnt & 1);
    s->cnt += take & 1;
    uint64_t full = scp_ct_eq64(s->cnt, two_h);
    for (unsigned w = 0; w < W; w++) {
        uint64_t u = s->used[w] | (oh[w] & take), n = s->neg[w] | (oh[w] & take & odd);
        s->save_u[w] |= u & full;
        s->save_n[w] |= n & full;
        s->used[w] = u & ~full;
        s->neg[w] = n & ~full;
    }
    s->comp |= full;
    s->comp_row |= s->row & full; /* comp_row is 0 at block start */
    s->row += full & 1;
    s->cnt &= ~full;
}

/* End of a block: merge the row finished in it (if any) into its output row. */
static inline __attribute__((always_inline)) void SCP_K(fw_flush)(scp_fw_state *s,
                                                                  const unsigned W,
                                                                  unsigned rows)
{
    for (unsigned r = 0; r < rows; r++) {
        uint64_t m = s->comp & scp_ct_eq64(r, s->comp_row);
        for (unsigned w = 0; w < W; w++) {
            s->out_u[r][w] |= s->save_u[w] & m;
            s->out_n[r][w] |= s->save_n[w] & m;
        }
    }
    memset(s->save_u, 0, sizeof s->save_u);
    memset(s->save_n, 0, sizeof s->save_n);
    s->comp = 0;
    s->comp_row = 0;
}

static inline uint64_t scp_fw_load_le64(const uint8_t *b)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < 8; i++)
        x |= (uint64_t)b[i] << (8 * i);
    return x;
}

/* Process `chunks` chunks of buf; returns all-ones if every row got filled. */
static inline __attribute__((always_inline)) uint64_t
SCP_K(fw_run)(scp_fw_state *s, const unsigned W, const scp_fw_spec *fw, const scp_params *p,
              const uint8_t *buf, unsigned chunks)
{
    uint64_t bound_d = 1, two_h = 2u * fw->h, wmask = ((uint64_t)1 << p->w) - 1;
    for (unsigned k = 0; k < p->d; k++)
        bound_d *= fw->bound;
    memset(s, 0, sizeof *s);
    unsigned slot = 0;
    for (unsigned c = 0; c < chunks; c++) {
        for (unsigned i = 0; i < p->nc; i++) {
            size_t pos = (size_t)c * SCP_CHUNK_BYTES * 8 + (size_t)i * p->w;
            uint64_t x = (scp_fw_load_le64(buf + (pos >> 3)) >> (pos & 7)) & wmask;
            uint64_t v = scp_ct_lt64(x, bound_d);
            for (unsigned k = 0; k < p->d; k++) {
                uint64_t q = SCP_K(fw_div)(x, fw->bound);
                SCP_K(fw_step)(s, W, x - q * fw->bound, v, fw->rows, two_h);
                x = q;
                if (++slot == two_h) {
                    SCP_K(fw_flush)(s, W, fw->rows);
                    slot = 0;
                }
            }
        }
    }
    SCP_K(fw_flush)(s, W, fw->rows);
    return scp_ct_eq64(s->row, fw->rows);
}

static uint64_t SCP_K(fw_run_10)(scp_fw_state *s, const scp_fw_spec *fw, const scp_params *p,
                                 const uint8_t *buf, unsigned chunks)
{
    return SCP_K(fw_run)(s, 10, fw, p, buf, chunks);
}

static uint64_t SCP_K(fw_run_16)(scp_fw_state *s, const scp_fw_spec *fw, const scp_params *p,
                                 const uint8_t *buf, unsigned chunks)
{
    return SCP_K(fw_run)(s, 16, fw, p, buf, chunks);
}

static uint64_t SCP_K(fw_run_18)(scp_fw_state *s, const scp_fw_spec *fw, const scp_params *p,
                                 const uint8_t *buf, unsigned chunks)
{
    return SCP_K(fw_run)(s, 18, fw, p, buf, chunks);
}

static void scp_fw_to_dense(const scp_fw_state *s, const scp_fw_spec *fw, int16_t *out)
{
    for (unsigned r = 0; r < fw->rows; r++) {
        for (unsigned j = 0; j < fw->len; j++) {
            unsigned u = (unsigned)(s->out_u[r][j >> 6] >> (j & 63)) & 1;
            unsigned n = (unsigned)(s->out_n[r][j >> 6] >> (j & 63)) & 1;
            out[(size_t)r * fw->len + j] = (int16_t)(u - 2 * (u & n));
        }
    }
}

static int SCP_K(fixed_weight)(const scp_fw_spec *fw, const scp_params *p,
                               const uint8_t seed[32], int16_t *out)
{
    scp_fw_state *s = malloc(sizeof *s);
    uint8_t *buf = NULL;
    size_t blen = 0;
    int rc = s ? 0 : MM_ENOMEM;
    for (unsigned chunks = fw->chunks; rc == 0; chunks *= 2) {
        OPENSSL_clear_free(buf, blen);
        blen = (size_t)chunks * SCP_CHUNK_BYTES + 8; /* +8: slack for 64-bit loads */
        buf = malloc(blen);
        rc = buf ? scp_shake256(buf, blen, seed, 32) : MM_ENOMEM;
        if (rc)
            break;
        uint64_t done = fw->len <= 640    ? SCP_K(fw_run_10)(s, fw, p, buf, chunks)
                        : fw->len <= 1024 ? SCP_K(fw_run_16)(s, fw, p, buf, chunks)
                                          : SCP_K(fw_run_18)(s, fw, p, buf, chunks);
        /* Public with overwhelming probability (1 - 2^-64): see docs. */
        SCP_DECLASSIFY(&done, sizeof done);
        if (done) {
            scp_fw_to_dense(s, fw, out);
            break;
        }
    }
    OPENSSL_clear_free(buf, blen);
    if (s)
        OPENSSL_clear_free(s, sizeof *s);
    return rc;
}
