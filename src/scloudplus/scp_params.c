/*
 * scp_params.c - the parameter table (§2, §3) and level/variant names.
 *
 * Adding a level is adding a row. The fixed-weight chunk counts are the
 * constant-time sampler's budget: the smallest count for which running out
 * has probability below 2^-64 (Chernoff bound over the geometric collision
 * counts against the binomial supply of valid candidates; see
 * docs/scloudplus.md).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "mamori/mm_core.h"
#include "scp_internal.h"

#define INFO(lvl, nm, pk, sk, ct, ss) {lvl, nm, pk, sk, ct, ss}

static const scp_params scp_table[] = {
    {
        .info = INFO(MM_SCLOUDPLUS_128, "scloudplus128", MM_SCLOUDPLUS128_PK_BYTES,
                     MM_SCLOUDPLUS128_SK_BYTES, MM_SCLOUDPLUS128_CT_BYTES,
                     MM_SCLOUDPLUS128_SS_BYTES),
        .m = 600, .n = 600, .mbar = 8, .nbar = 8,
        .logq1 = 9, .logq2 = 7, .eta1 = 7, .eta2 = 7, .tau = 3, .subm = 2,
        .w = 28, .d = 3, .nc = 194,
        .pke_sk_bytes = 1200, .c1_bytes = 5400, .c2_bytes = 56,
        .fw_s = {.rows = 8, .len = 600, .h = 150, .bound = 600, .chunks = 9},
        .fw_sp = {{.rows = 8, .len = 600, .h = 150, .bound = 600, .chunks = 9},
                  {.rows = 8, .len = 600, .h = 150, .bound = 600, .chunks = 9}},
    },
    {
        .info = INFO(MM_SCLOUDPLUS_192, "scloudplus192", MM_SCLOUDPLUS192_PK_BYTES,
                     MM_SCLOUDPLUS192_SK_BYTES, MM_SCLOUDPLUS192_CT_BYTES,
                     MM_SCLOUDPLUS192_SS_BYTES),
        .m = 928, .n = 896, .mbar = 8, .nbar = 8,
        .logq1 = 12, .logq2 = 10, .eta1 = 2, .eta2 = 1, .tau = 4, .subm = 2,
        .w = 11, .d = 1, .nc = 488,
        .pke_sk_bytes = 1792, .c1_bytes = 10752, .c2_bytes = 80,
        .fw_s = {.rows = 8, .len = 896, .h = 224, .bound = 896, .chunks = 27},
        /* §12 item 1: the reference bounds S' positions by n, openHiTLS by m */
        .fw_sp = {{.rows = 8, .len = 928, .h = 232, .bound = 896, .chunks = 28},
                  {.rows = 8, .len = 928, .h = 232, .bound = 928, .chunks = 27}},
    },
    {
        .info = INFO(MM_SCLOUDPLUS_256, "scloudplus256", MM_SCLOUDPLUS256_PK_BYTES,
                     MM_SCLOUDPLUS256_SK_BYTES, MM_SCLOUDPLUS256_CT_BYTES,
                     MM_SCLOUDPLUS256_SS_BYTES),
        .m = 1136, .n = 1120, .mbar = 12, .nbar = 11,
        .logq1 = 10, .logq2 = 7, .eta1 = 3, .eta2 = 2, .tau = 3, .subm = 4,
        .w = 51, .d = 5, .nc = 106,
        .pke_sk_bytes = 3080, .c1_bytes = 16800, .c2_bytes = 116,
        .fw_s = {.rows = 11, .len = 1120, .h = 280, .bound = 1120, .chunks = 24},
        /* §12 item 2: openHiTLS bounds S' positions by n instead of m */
        .fw_sp = {{.rows = 12, .len = 1136, .h = 284, .bound = 1136, .chunks = 24},
                  {.rows = 12, .len = 1136, .h = 284, .bound = 1120, .chunks = 26}},
    },
};

const scp_params *scp_params_get(enum mm_scloudplus_level level)
{
    if ((unsigned)level >= sizeof scp_table / sizeof scp_table[0])
        return NULL;
    return &scp_table[level];
}

const mm_scloudplus_info *mm_scloudplus_info_get(enum mm_scloudplus_level level)
{
    const scp_params *p = scp_params_get(level);
    return p ? &p->info : NULL;
}

int mm_scloudplus_level_parse(const char *name, enum mm_scloudplus_level *out)
{
    static const char *const short_names[] = {"128", "192", "256"};
    MM_ENSURE(name && out, MM_EINVAL);
    for (size_t i = 0; i < sizeof scp_table / sizeof scp_table[0]; i++) {
        if (!strcmp(name, scp_table[i].info.name) || !strcmp(name, short_names[i])) {
            *out = scp_table[i].info.level;
            return 0;
        }
    }
    return MM_EINVAL;
}

static const char *const scp_variant_names[] = {"reference", "openhitls"};

int mm_scloudplus_variant_parse(const char *name, enum mm_scloudplus_variant *out)
{
    MM_ENSURE(name && out, MM_EINVAL);
    for (size_t i = 0; i < 2; i++) {
        if (!strcmp(name, scp_variant_names[i])) {
            *out = (enum mm_scloudplus_variant)i;
            return 0;
        }
    }
    return MM_EINVAL;
}

const char *mm_scloudplus_variant_name(enum mm_scloudplus_variant v)
{
    return (unsigned)v < 2 ? scp_variant_names[v] : "unknown";
}
