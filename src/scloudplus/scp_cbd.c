/*
 * scp_cbd.c - centred binomial noise (§5.2).
 *
 * Branch-free: the bit counts are sums of shifted bits, never a table or a
 * data-dependent loop, so secret noise leaves no timing trace.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "scp_internal.h"

/* Read nbits (<= 25) starting at bit position pos of an LSB-first bitstream. */
static uint32_t scp_bits_get(const uint8_t *buf, size_t pos, unsigned nbits)
{
    size_t first = pos >> 3;
    unsigned shift = (unsigned)(pos & 7);
    unsigned nbytes = (shift + nbits + 7) / 8;
    uint32_t v = 0;
    for (unsigned i = 0; i < nbytes; i++)
        v |= (uint32_t)buf[first + i] << (8 * i);
    return (v >> shift) & ((1u << nbits) - 1);
}

static unsigned scp_bitsum(uint32_t x, unsigned bits)
{
    unsigned s = 0;
    for (unsigned b = 0; b < bits; b++)
        s += (x >> b) & 1;
    return s;
}

void scp_cbd(uint16_t *out, size_t count, unsigned eta, const uint8_t *buf)
{
    for (size_t t = 0; t < count; t++) {
        uint32_t x = scp_bits_get(buf, 2 * eta * t, 2 * eta);
        unsigned a = scp_bitsum(x, eta), b = scp_bitsum(x >> eta, eta);
        out[t] = (uint16_t)(a - b);
    }
}
