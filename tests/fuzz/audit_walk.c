/*
 * libFuzzer harness: the AH packet walker. The first byte picks the link
 * type from the table of supported ones; the rest is the frame. Every hit
 * must describe an IP header the walker decoded.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>

#include "mamori/mm_ahaudit.h"

static const int linktypes[] = {
    MM_AH_LINK_ETHERNET, MM_AH_LINK_RAW, MM_AH_LINK_SLL, MM_AH_LINK_SLL2,
    MM_AH_LINK_NULL,     MM_AH_LINK_LOOP, MM_AH_LINK_IPV4, MM_AH_LINK_IPV6,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int lt = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
    mm_ah_walk_result r;
    int rc = mm_ah_walk(lt, data + 1, size - 1, &r);
    if (rc != r.status || r.nhits > MM_AH_MAX_HITS || r.ip_layers > MM_AH_MAX_LAYERS)
        abort();
    if (rc && !r.reason)
        abort();
    for (size_t i = 0; i < r.nhits; i++)
        if ((r.hits[i].family != 4 && r.hits[i].family != 6) || r.hits[i].depth >= r.ip_layers)
            abort();
    return 0;
}
