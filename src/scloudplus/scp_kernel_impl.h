/*
 * scp_kernel_impl.h - the matrix products in plain C, included by every
 * kernel file so the compiler vectorises them for that file's instruction
 * set. The including file defines SCP_K(name) and
 *   static int SCP_K(expand)(scp_aes_ctx *ctx, uint32_t ctr, size_t nblocks, uint16_t *out)
 * (ExpandA, §4.1: nblocks AES blocks of consecutive counters from ctr).
 *
 * All products are dense over ternary matrices: no index depends on where
 * the nonzero entries of S or S' are.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mamori/mm_core.h"
#include "scp_internal.h"

#define SCP_ROWS_PER_BLOCK 8
/* products mod 2^16, computed in uint32 (uint16 * uint16 promotes to int) */
#define SCP_MUL16(x, y) ((uint16_t)((uint32_t)(x) * (uint32_t)(y)))

/* b rows [i0, i0 + rows) += A_rows * S (S given as st, nbar x n). */
static void SCP_K(as_rows)(const scp_params *p, const uint16_t *a, unsigned rows,
                           const int16_t *st, uint16_t *b)
{
    const unsigned n = p->n, nbar = p->nbar;
    for (unsigned i = 0; i < rows; i++) {
        const uint16_t *ar = a + (size_t)i * n;
        for (unsigned k = 0; k < nbar; k++) {
            const uint16_t *sk = (const uint16_t *)st + (size_t)k * n;
            uint16_t acc = 0;
            for (unsigned j = 0; j < n; j++)
                acc = (uint16_t)(acc + SCP_MUL16(ar[j], sk[j]));
            b[(size_t)i * nbar + k] = (uint16_t)(b[(size_t)i * nbar + k] + acc);
        }
    }
}

/* c1 (mbar x n) += S'[:, i0 .. i0 + rows) * A_rows */
static void SCP_K(sa_rows)(const scp_params *p, const uint16_t *a, unsigned i0, unsigned rows,
                           const int16_t *sp, uint16_t *c1)
{
    const unsigned n = p->n, m = p->m;
    for (unsigned r = 0; r < p->mbar; r++) {
        uint16_t *cr = c1 + (size_t)r * n;
        for (unsigned i = 0; i < rows; i++) {
            const uint16_t *ar = a + (size_t)i * n;
            uint16_t s = (uint16_t)sp[(size_t)r * m + i0 + i];
            for (unsigned j = 0; j < n; j++)
                cr[j] = (uint16_t)(cr[j] + SCP_MUL16(s, ar[j]));
        }
    }
}

static __attribute__((unused)) int SCP_K(mul_as)(const scp_params *p, const uint8_t seed_a[16],
                                                 const int16_t *st, uint16_t *b)
{
    scp_aes_ctx ctx;
    const unsigned bpr = p->n / 8; /* AES blocks per row */
    uint16_t a[SCP_ROWS_PER_BLOCK * SCP_MAX_N]; /* one block of A (public), 18 KB */
    int rc = SCP_K(aes_init)(&ctx, seed_a);
    for (unsigned i0 = 0; rc == 0 && i0 < p->m; i0 += SCP_ROWS_PER_BLOCK) {
        unsigned rows = p->m - i0 < SCP_ROWS_PER_BLOCK ? p->m - i0 : SCP_ROWS_PER_BLOCK;
        rc = SCP_K(expand)(&ctx, i0 * bpr, (size_t)rows * bpr, a);
        if (rc == 0)
            SCP_K(as_rows)(p, a, rows, st, b + (size_t)i0 * p->nbar);
    }
    SCP_K(aes_done)(&ctx);
    return rc;
}

static __attribute__((unused)) int SCP_K(mul_sa)(const scp_params *p, const uint8_t seed_a[16],
                                                 const int16_t *sp, uint16_t *c1)
{
    scp_aes_ctx ctx;
    const unsigned bpr = p->n / 8;
    uint16_t a[SCP_ROWS_PER_BLOCK * SCP_MAX_N]; /* one block of A (public), 18 KB */
    int rc = SCP_K(aes_init)(&ctx, seed_a);
    for (unsigned i0 = 0; rc == 0 && i0 < p->m; i0 += SCP_ROWS_PER_BLOCK) {
        unsigned rows = p->m - i0 < SCP_ROWS_PER_BLOCK ? p->m - i0 : SCP_ROWS_PER_BLOCK;
        rc = SCP_K(expand)(&ctx, i0 * bpr, (size_t)rows * bpr, a);
        if (rc == 0)
            SCP_K(sa_rows)(p, a, i0, rows, sp, c1);
    }
    SCP_K(aes_done)(&ctx);
    return rc;
}

static __attribute__((unused)) int SCP_K(expand_a)(const uint8_t seed_a[16], uint32_t ctr,
                                                  size_t nblocks, uint16_t *out)
{
    scp_aes_ctx ctx;
    int rc = SCP_K(aes_init)(&ctx, seed_a);
    if (rc == 0)
        rc = SCP_K(expand)(&ctx, ctr, nblocks, out);
    SCP_K(aes_done)(&ctx);
    return rc;
}

/* c2 (mbar x nbar) += S' * B; B is transposed first so both operands stream. */
static void SCP_K(mul_sb)(const scp_params *p, const int16_t *sp, const uint16_t *b,
                          uint16_t *c2)
{
    uint16_t bt[SCP_MAX_NBAR * SCP_MAX_M];
    const unsigned m = p->m, nbar = p->nbar;
    for (unsigned i = 0; i < m; i++)
        for (unsigned k = 0; k < nbar; k++)
            bt[(size_t)k * m + i] = b[(size_t)i * nbar + k];
    for (unsigned r = 0; r < p->mbar; r++) {
        const uint16_t *sr = (const uint16_t *)sp + (size_t)r * m;
        for (unsigned k = 0; k < nbar; k++) {
            const uint16_t *bk = bt + (size_t)k * m;
            uint16_t acc = 0;
            for (unsigned i = 0; i < m; i++)
                acc = (uint16_t)(acc + SCP_MUL16(sr[i], bk[i]));
            c2[r * nbar + k] = (uint16_t)(c2[r * nbar + k] + acc);
        }
    }
}

/* d (mbar x nbar) -= C1 * S */
static void SCP_K(mul_cs)(const scp_params *p, const uint16_t *c1, const int16_t *st,
                          uint16_t *d)
{
    const unsigned n = p->n, nbar = p->nbar;
    for (unsigned r = 0; r < p->mbar; r++) {
        const uint16_t *cr = c1 + (size_t)r * n;
        for (unsigned k = 0; k < nbar; k++) {
            const uint16_t *sk = (const uint16_t *)st + (size_t)k * n;
            uint16_t acc = 0;
            for (unsigned j = 0; j < n; j++)
                acc = (uint16_t)(acc + SCP_MUL16(cr[j], sk[j]));
            d[r * nbar + k] = (uint16_t)(d[r * nbar + k] - acc);
        }
    }
}
