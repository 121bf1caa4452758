/*
 * libFuzzer harness: an EXTENDED_COMMUNITIES value decoded as FlowSpec
 * traffic actions and IFIT instructions (RFC 8955 §7, provisional IFIT
 * table). Every IFIT EC that decodes must re-encode to the same 8 bytes
 * (reserved bits aside) and decode again to the same fields.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_bgp_speaker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_bgp_fs_actions a;
    if (mm_bgp_fs_actions_decode(data, size, &a) < 0) {
        if (size % 8 == 0)
            abort();
        return 0;
    }
    mm_buf t;
    mm_buf_init(&t, 1u << 16);
    mm_bgp_fs_actions_format(&a, &t);
    mm_bgp_ext_communities_format(data, size, &t);
    mm_buf_free(&t);
    for (size_t i = 0; i + 8 <= size; i += 8) {
        mm_bgp_ifit f, g;
        uint8_t ec[8];
        if (mm_bgp_ifit_decode(data + i, &f) < 0)
            continue;
        if (mm_bgp_ifit_encode(&f, ec) < 0 || mm_bgp_ifit_decode(ec, &g) < 0)
            abort();
        if (memcmp(&f, &g, sizeof(f)) != 0)
            abort();
    }
    return 0;
}
