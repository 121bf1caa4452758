/*
 * scp_bw32.c - the Barnes-Wall BW32 message code (§6).
 *
 * Decoding works on integers scaled by 2^13: every intermediate is a dyadic
 * rational with at most 13 fractional bits (9 from the target, +1 per
 * recursion level, 4 levels), so this is exact and gives the same answers as
 * the reference's doubles, without floating point. Rounding and the choice
 * between the two candidate points are masks, never branches, because the
 * decoded message is secret.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "scp_internal.h"

#define FP_SHIFT 13
#define FP_HALF (1 << (FP_SHIFT - 1))

/* §6.1: label index (a_i = i, b_i = 6 + i, c_i = 26 + i) of each coordinate. */
static const uint8_t scp_label_of[32] = {
    0,  1,  2,  6,  3,  7,  8,  9,  4,  10, 11, 12, 13, 14, 15, 26,
    5,  16, 17, 18, 19, 20, 21, 27, 22, 23, 24, 28, 25, 29, 30, 31,
};

static unsigned scp_label_bits(unsigned label, unsigned tau)
{
    return label < 6 ? tau : label < 26 ? tau - 1 : tau - 2;
}

/* Labels of one block, in coordinate order (re v0, im v0, re v1, ...). */
static void scp_labels_read(int32_t coord[32], const uint8_t *blk, unsigned tau)
{
    int32_t lab[32];
    size_t pos = 0;
    for (unsigned l = 0; l < 32; l++) {
        unsigned w = scp_label_bits(l, tau);
        uint32_t v = 0;
        for (unsigned b = 0; b < w; b++, pos++)
            v |= (uint32_t)((blk[pos >> 3] >> (pos & 7)) & 1) << b;
        lab[l] = (int32_t)v;
    }
    for (unsigned c = 0; c < 32; c++)
        coord[c] = lab[scp_label_of[c]];
}

static void scp_labels_write(uint8_t *blk, size_t len, const int32_t coord[32], unsigned tau)
{
    uint32_t lab[32];
    for (unsigned c = 0; c < 32; c++)
        lab[scp_label_of[c]] = (uint32_t)coord[c];
    memset(blk, 0, len);
    size_t pos = 0;
    for (unsigned l = 0; l < 32; l++) {
        unsigned w = scp_label_bits(l, tau);
        for (unsigned b = 0; b < w; b++, pos++)
            blk[pos >> 3] |= (uint8_t)(((lab[l] >> b) & 1) << (pos & 7));
    }
}

/* §6.2: x_t = x_{t-s} + phi * x_t for t with bit s set; phi = 1 + i. */
static void scp_butterfly(int32_t re[16], int32_t im[16])
{
    for (unsigned s = 1; s < 16; s <<= 1) {
        for (unsigned t = 0; t < 16; t++) {
            if (!(t & s))
                continue;
            int32_t a = re[t], b = im[t];
            re[t] = re[t - s] + a - b;
            im[t] = im[t - s] + a + b;
        }
    }
}

void scp_bw32_encode(const scp_params *p, uint16_t *mu, const uint8_t *msg)
{
    unsigned tau = p->tau, blk_bytes = tau == 4 ? 12 : 8; /* mu / 8 */
    memset(mu, 0, sizeof(uint16_t) * p->mbar * p->nbar);
    for (unsigned b = 0; b < p->subm; b++) {
        int32_t c[32], re[16], im[16];
        scp_labels_read(c, msg + b * blk_bytes, tau);
        for (unsigned t = 0; t < 16; t++) {
            re[t] = c[2 * t];
            im[t] = c[2 * t + 1];
        }
        scp_butterfly(re, im);
        uint32_t mask = (1u << tau) - 1;
        for (unsigned t = 0; t < 16; t++) {
            mu[32 * b + 2 * t] = (uint16_t)(((uint32_t)re[t] & mask) << (12 - tau));
            mu[32 * b + 2 * t + 1] = (uint16_t)(((uint32_t)im[t] & mask) << (12 - tau));
        }
    }
}

/* round half away from zero of a scaled value, result still scaled */
static int32_t scp_fp_round(int32_t v)
{
    int32_t s = v >> 31; /* arithmetic: all-ones if negative */
    int32_t a = (v ^ s) - s;
    int32_t r = (a + FP_HALF) >> FP_SHIFT;
    return (int32_t)((uint32_t)((r ^ s) - s) << FP_SHIFT);
}

/* (a + bi) * phi^-1 = ((a + b) + (b - a) i) / 2; exact (inputs are even) */
static void scp_fp_phiinv(int32_t *re, int32_t *im)
{
    int32_t a = *re, b = *im;
    *re = (a + b) >> 1;
    *im = (b - a) >> 1;
}

static int64_t scp_fp_dist(const int32_t *xr, const int32_t *xi, const int32_t *tr,
                           const int32_t *ti, unsigned len)
{
    int64_t d = 0;
    for (unsigned k = 0; k < len; k++) {
        int64_t a = (int64_t)xr[k] - tr[k], b = (int64_t)xi[k] - ti[k];
        d += a * a + b * b;
    }
    return d;
}

/* §6.3 step 2: recursive bounded-distance decoder; len is a power of two. */
static void scp_bdd(const int32_t *tr, const int32_t *ti, unsigned len, int32_t *yr,
                    int32_t *yi)
{
    if (len == 1) {
        yr[0] = scp_fp_round(tr[0]);
        yi[0] = scp_fp_round(ti[0]);
        return;
    }
    unsigned h = len / 2;
    int32_t y1r[8], y1i[8], y2r[8], y2i[8], z1r[8], z1i[8], z2r[8], z2i[8];
    int32_t ur[8] = {0}, ui[8] = {0};
    int32_t xr[16], xi[16], x2r[16], x2i[16];
    scp_bdd(tr, ti, h, y1r, y1i);
    scp_bdd(tr + h, ti + h, h, y2r, y2i);
    for (unsigned k = 0; k < h; k++) {
        ur[k] = tr[h + k] - y1r[k];
        ui[k] = ti[h + k] - y1i[k];
        scp_fp_phiinv(&ur[k], &ui[k]);
    }
    scp_bdd(ur, ui, h, z1r, z1i);
    for (unsigned k = 0; k < h; k++) {
        ur[k] = tr[k] - y2r[k];
        ui[k] = ti[k] - y2i[k];
        scp_fp_phiinv(&ur[k], &ui[k]);
    }
    scp_bdd(ur, ui, h, z2r, z2i);
    for (unsigned k = 0; k < h; k++) {
        /* x = (y1, y1 + phi z1), x' = (y2 + phi z2, y2) */
        xr[k] = y1r[k];
        xi[k] = y1i[k];
        xr[h + k] = y1r[k] + z1r[k] - z1i[k];
        xi[h + k] = y1i[k] + z1r[k] + z1i[k];
        x2r[k] = y2r[k] + z2r[k] - z2i[k];
        x2i[k] = y2i[k] + z2r[k] + z2i[k];
        x2r[h + k] = y2r[k];
        x2i[h + k] = y2i[k];
    }
    int64_t d1 = scp_fp_dist(xr, xi, tr, ti, len), d2 = scp_fp_dist(x2r, x2i, tr, ti, len);
    int32_t pick1 = (int32_t)((d1 - d2) >> 63); /* all-ones iff d1 < d2 (strict) */
    for (unsigned k = 0; k < len; k++) {
        yr[k] = (xr[k] & pick1) | (x2r[k] & ~pick1);
        yi[k] = (xi[k] & pick1) | (x2i[k] & ~pick1);
    }
}

/* §6.3 step 4: bring y_t back to the label ranges of its weight class. */
static void scp_labels_reduce(int32_t *re, int32_t *im, unsigned t, unsigned tau)
{
    unsigned w = (unsigned)__builtin_popcount(t); /* t is a public index */
    unsigned rb = tau - w / 2, ib = tau - (w + 1) / 2;
    int32_t i2 = *im & (int32_t)((1u << ib) - 1);
    int32_t r2 = (w & 1) ? *re + i2 - *im : *re;
    *re = r2 & (int32_t)((1u << rb) - 1);
    *im = i2;
}

void scp_bw32_decode(const scp_params *p, uint8_t *msg, const uint16_t *mu)
{
    unsigned tau = p->tau, blk_bytes = tau == 4 ? 12 : 8;
    for (unsigned b = 0; b < p->subm; b++) {
        int32_t tr[16], ti[16], yr[16], yi[16], c[32];
        for (unsigned k = 0; k < 16; k++) {
            tr[k] = (int32_t)((mu[32 * b + 2 * k] & SCP_Q_MASK) << (tau + 1));
            ti[k] = (int32_t)((mu[32 * b + 2 * k + 1] & SCP_Q_MASK) << (tau + 1));
        }
        scp_bdd(tr, ti, 16, yr, yi);
        for (unsigned s = 8; s >= 1; s >>= 1) { /* step 3: invert the butterfly */
            for (unsigned t = 0; t < 16; t++) {
                if (!(t & s))
                    continue;
                yr[t] -= yr[t - s];
                yi[t] -= yi[t - s];
                scp_fp_phiinv(&yr[t], &yi[t]);
            }
        }
        for (unsigned t = 0; t < 16; t++) {
            c[2 * t] = yr[t] >> FP_SHIFT;
            c[2 * t + 1] = yi[t] >> FP_SHIFT;
            scp_labels_reduce(&c[2 * t], &c[2 * t + 1], t, tau);
        }
        scp_labels_write(msg + b * blk_bytes, blk_bytes, c, tau);
    }
}
