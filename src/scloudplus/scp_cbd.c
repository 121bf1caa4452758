/*
 * scp_cbd.c - centred binomial noise (§5.2).
 *
 * Branch-free and table-free: both bit counts of a sample come from one
 * SWAR popcount, so secret noise leaves no timing or cache trace (a
 * compiler popcount builtin may become a table lookup on old targets).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "scp_internal.h"

/* Read 2*eta <= 14 bits at bit position pos of an LSB-first bitstream. */
static inline uint32_t scp_bits_get(const uint8_t *buf, size_t pos, unsigned nbits)
{
    uint32_t v;
    memcpy(&v, buf + (pos >> 3), sizeof v); /* little-endian host; see scp_cbd */
    return (v >> (pos & 7)) & ((1u << nbits) - 1);
}

/* buf must be readable 3 bytes past the last sample (the PKE noise buffer is). */
static inline __attribute__((always_inline)) void
scp_cbd_eta(uint16_t *out, size_t count, const unsigned eta, const uint8_t *buf)
{
    const uint32_t m = (1u << eta) - 1;
    for (size_t t = 0; t < count; t++) {
        uint32_t x = scp_bits_get(buf, 2 * eta * t, 2 * eta);
        uint32_t z = (x & m) | ((x >> eta) & m) << 16; /* a in byte 0, b in byte 2 */
        z = z - ((z >> 1) & 0x55555555u);
        z = (z & 0x33333333u) + ((z >> 2) & 0x33333333u);
        z = (z + (z >> 4)) & 0x0F0F0F0Fu;
        out[t] = (uint16_t)((z & 0xFF) - ((z >> 16) & 0xFF));
    }
}

void scp_cbd(uint16_t *out, size_t count, unsigned eta, const uint8_t *buf)
{
    switch (eta) { /* constant eta per instance: shifts and masks fold */
    case 1: scp_cbd_eta(out, count, 1, buf); break;
    case 2: scp_cbd_eta(out, count, 2, buf); break;
    case 3: scp_cbd_eta(out, count, 3, buf); break;
    default: scp_cbd_eta(out, count, 7, buf); break; /* the table has eta in {1,2,3,7} */
    }
}
