/*
 * libFuzzer harness: the swanctl.conf / ipsec.conf scanners. The first byte
 * picks the syntax; the rest is the config text (includes are not followed
 * from a buffer).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_ahaudit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum mm_ah_conf_kind k = data[0] % 3;
    mm_ah_report r;
    mm_ah_report_init(&r);
    mm_ah_conf_scan_buf((const char *)data + 1, size - 1, "fuzz", k, &r);
    for (size_t i = 0; i < r.n; i++)
        if (r.f[i].source != MM_AH_SRC_CONFIG || !memchr(r.f[i].where, 0, sizeof(r.f[i].where)))
            abort();
    mm_ah_report_free(&r);
    return 0;
}
