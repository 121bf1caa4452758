/*
 * Token scopes (spec section 5.3, -02+): one row per scope.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

static const char *const names[MM_DDNS_SCOPE_COUNT] = {
#define MM_DDNS_SC_NAME(sym, name) [sym##_BIT] = name,
    MM_DDNS_SCOPE_TABLE(MM_DDNS_SC_NAME)
#undef MM_DDNS_SC_NAME
};

const char *mm_ddns_scope_name(unsigned bit)
{
    return bit < MM_DDNS_SCOPE_COUNT ? names[bit] : NULL;
}

int mm_ddns_scopes_parse(const char *text, uint32_t *mask)
{
    *mask = 0;
    const char *p = text;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        bool found = false;
        if (l == 3 && memcmp(p, "all", 3) == 0) {
            *mask |= MM_DDNS_SCOPE_ALL;
            found = true;
        }
        for (unsigned i = 0; !found && i < MM_DDNS_SCOPE_COUNT; i++) {
            if (strlen(names[i]) == l && memcmp(p, names[i], l) == 0) {
                *mask |= MM_DDNS_SCOPE(i);
                found = true;
            }
        }
        if (!found)
            return MM_EINVAL;
        p = end ? end + 1 : NULL;
    }
    return *mask ? 0 : MM_EINVAL;
}

int mm_ddns_scopes_format(uint32_t mask, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = 0;
    for (unsigned i = 0; i < MM_DDNS_SCOPE_COUNT; i++) {
        if (!(mask & MM_DDNS_SCOPE(i)))
            continue;
        int w = snprintf(out + n, outlen - n, "%s%s", n ? "," : "", names[i]);
        if (w < 0 || (size_t)w >= outlen - n)
            return MM_ESPACE;
        n += (size_t)w;
    }
    return 0;
}
