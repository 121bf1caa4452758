/*
 * libFuzzer harness: the XFRM netlink dump parser (SA and policy messages).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_ahaudit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Netlink buffers are 4-aligned: copy like a recv() buffer would be. */
    uint32_t *buf = malloc(size + 4);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    mm_ah_report r;
    mm_ah_report_init(&r);
    int rc = mm_ah_xfrm_parse((const uint8_t *)buf, size, "fuzz", &r);
    if (rc > 1)
        abort();
    for (size_t i = 0; i < r.n; i++)
        if (r.f[i].source != MM_AH_SRC_SA && r.f[i].source != MM_AH_SRC_POLICY)
            abort();
    mm_ah_report_free(&r);
    free(buf);
    return 0;
}
