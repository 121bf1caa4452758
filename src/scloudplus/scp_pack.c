/*
 * scp_pack.c - serialisation and compression (§7, §8).
 *
 * Decoders never reject: every byte string of the right length decodes, high
 * bits beyond a field are masked off (§8.3). Everything is branch-free in the
 * data (ciphertext coefficients are secret-dependent during encryption).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "scp_ct.h"
#include "scp_internal.h"

/* §8.1: two 12-bit values per 3 bytes, LSB first. */
void scp_pack12(uint8_t *out, const uint16_t *in, size_t count)
{
    for (size_t i = 0; i < count; i += 2) {
        uint16_t x0 = in[i] & SCP_Q_MASK, x1 = in[i + 1] & SCP_Q_MASK;
        *out++ = (uint8_t)x0;
        *out++ = (uint8_t)((x0 >> 8) | (x1 << 4));
        *out++ = (uint8_t)(x1 >> 4);
    }
}

void scp_unpack12(uint16_t *out, const uint8_t *in, size_t count)
{
    for (size_t i = 0; i < count; i += 2, in += 3) {
        out[i] = (uint16_t)(in[0] | ((in[1] & 0x0F) << 8));
        out[i + 1] = (uint16_t)((in[1] >> 4) | (in[2] << 4));
    }
}

/* §8.2: 2 bits per ternary entry (e & 3), four per byte, LSB first. */
void scp_pack_sk(uint8_t *out, const int16_t *st, size_t count)
{
    for (size_t i = 0; i < count; i += 4) {
        unsigned b = 0;
        for (unsigned k = 0; k < 4; k++)
            b |= ((unsigned)st[i + k] & 3u) << (2 * k);
        out[i / 4] = (uint8_t)b;
    }
}

void scp_unpack_sk(int16_t *out, const uint8_t *in, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        unsigned f = (in[i / 4] >> (2 * (i % 4))) & 3u;
        out[i] = (int16_t)((int16_t)(f << 14) >> 14); /* sign-extend the 2-bit field */
    }
}

/* §7: c = round(x * 2^d / q) mod 2^d, plain half-up (C1). */
static uint16_t scp_round(uint16_t x, unsigned d)
{
    return (uint16_t)(((((uint32_t)x & SCP_Q_MASK) << d) + 2048) >> 12) & ((1u << d) - 1);
}

/*
 * §7 C2 compression. Reference: half-up, then ties whose floor is odd are
 * pushed back down (ties to odd). openHiTLS (§12 item 3): subtract 1 when
 * ((x << d) + 2048) is a multiple of 6144.
 */
static uint16_t scp_round_c2(uint16_t x, unsigned d, enum mm_scloudplus_variant v)
{
    uint32_t xs = ((uint32_t)x & SCP_Q_MASK) << d;
    uint32_t c = (xs + 2048) >> 12;
    uint32_t unit = 1u << (12 - d);                 /* q / 2^d */
    uint32_t frac = ((uint32_t)x & SCP_Q_MASK) & (2 * unit - 1);
    uint32_t ref_dec = scp_ct_eq32(frac, unit + unit / 2) & 1; /* tie with odd floor */
    uint32_t ohl_dec = scp_ct_eq32((xs + 2048) % 6144, 0) & 1;
    uint32_t is_ohl = (uint32_t)v & 1;
    c -= (ref_dec & (is_ohl ^ 1)) | (ohl_dec & is_ohl);
    return (uint16_t)(c & ((1u << d) - 1));
}

/* LSB-first bitstream of d-bit values. */
static void scp_pack_bits(uint8_t *out, size_t outlen, const uint16_t *in, size_t count,
                          unsigned d)
{
    memset(out, 0, outlen);
    for (size_t i = 0; i < count; i++) {
        size_t pos = i * d;
        uint32_t v = (uint32_t)in[i] << (pos & 7);
        for (size_t b = pos >> 3, k = 0; k < 3 && b < outlen; b++, k++, v >>= 8)
            out[b] |= (uint8_t)v;
    }
}

static void scp_unpack_bits(uint16_t *out, const uint8_t *in, size_t inlen, size_t count,
                            unsigned d)
{
    for (size_t i = 0; i < count; i++) {
        size_t pos = i * d, first = pos >> 3;
        uint32_t v = 0;
        for (size_t b = 0; b < 3 && first + b < inlen; b++)
            v |= (uint32_t)in[first + b] << (8 * b);
        out[i] = (uint16_t)((v >> (pos & 7)) & ((1u << d) - 1));
    }
}

/*
 * "Split" layout of §8.3: low bytes of all values, then the high parts packed
 * MSB-first (value g*per in the top bits). hib = high bits per value (1 or 2).
 */
static void scp_pack_split(uint8_t *out, const uint16_t *in, size_t count, unsigned hib)
{
    unsigned per = 8 / hib;
    uint8_t *hi = out + count;
    for (size_t i = 0; i < count; i++)
        out[i] = (uint8_t)in[i];
    for (size_t g = 0; g < count / per; g++) {
        unsigned b = 0;
        for (unsigned k = 0; k < per; k++)
            b = (b << hib) | ((in[g * per + k] >> 8) & ((1u << hib) - 1));
        hi[g] = (uint8_t)b;
    }
}

static void scp_unpack_split(uint16_t *out, const uint8_t *in, size_t count, unsigned hib)
{
    unsigned per = 8 / hib;
    const uint8_t *hi = in + count;
    for (size_t i = 0; i < count; i++) {
        unsigned shift = hib * (per - 1 - (unsigned)(i % per));
        unsigned h = (hi[i / per] >> shift) & ((1u << hib) - 1);
        out[i] = (uint16_t)(in[i] | (h << 8));
    }
}

static void scp_pack_c1(const scp_params *p, uint8_t *out, const uint16_t *c, size_t count)
{
    if (p->logq1 == 12)
        scp_pack12(out, c, count);
    else
        scp_pack_split(out, c, count, p->logq1 - 8u);
}

void scp_compress_pack_ct(const scp_params *p, enum mm_scloudplus_variant v, uint8_t *ct,
                          const uint16_t *c1, const uint16_t *c2)
{
    size_t n1 = (size_t)p->mbar * p->n, n2 = (size_t)p->mbar * p->nbar;
    uint16_t tmp[SCP_MAX_MBAR * SCP_MAX_N];
    for (size_t i = 0; i < n1; i++)
        tmp[i] = p->logq1 == 12 ? (c1[i] & SCP_Q_MASK) : scp_round(c1[i], p->logq1);
    scp_pack_c1(p, ct, tmp, n1);
    for (size_t i = 0; i < n2; i++)
        tmp[i] = scp_round_c2(c2[i], p->logq2, v);
    if (p->logq2 == 7)
        scp_pack_bits(ct + p->c1_bytes, p->c2_bytes, tmp, n2, 7);
    else
        scp_pack_split(ct + p->c1_bytes, tmp, n2, 2);
}

void scp_unpack_decompress_ct(const scp_params *p, uint16_t *c1, uint16_t *c2,
                              const uint8_t *ct)
{
    size_t n1 = (size_t)p->mbar * p->n, n2 = (size_t)p->mbar * p->nbar;
    if (p->logq1 == 12)
        scp_unpack12(c1, ct, n1);
    else
        scp_unpack_split(c1, ct, n1, p->logq1 - 8u);
    for (size_t i = 0; i < n1; i++)
        c1[i] = (uint16_t)(c1[i] << (12 - p->logq1));
    if (p->logq2 == 7)
        scp_unpack_bits(c2, ct + p->c1_bytes, p->c2_bytes, n2, 7);
    else
        scp_unpack_split(c2, ct + p->c1_bytes, n2, 2);
    for (size_t i = 0; i < n2; i++)
        c2[i] = (uint16_t)(c2[i] << (12 - p->logq2));
}
