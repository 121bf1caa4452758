/*
 * Hostnames (spec section 10): A-labels only, <= 253 characters, >= 2
 * labels of 1-63 LDH characters not starting or ending with '-'; one
 * trailing dot stripped; stored lowercase. TXT owner names may start with
 * an underscore label from the allowed-prefix table (section 7.6).
 * Untrusted bytes are read through mm_cursor.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"
#include "mamori/mm_ddns.h"

/* Owner-name prefixes TXT may be written under (ACME DNS-01, DMARC). */
static const char *const txt_prefixes[] = {"_acme-challenge", "_dmarc"};

static bool is_ldh(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
}

static uint8_t lower(uint8_t ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch + 32) : ch;
}

int mm_ddns_hostname_normalize(const char *in, size_t len, bool txt_owner, char *out)
{
    if (!in)
        return MM_EMALFORMED;
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0 || len > MM_DDNS_HOSTNAME_MAX)
        return MM_EMALFORMED;
    mm_cursor c;
    mm_cursor_init_read(&c, (const uint8_t *)in, len);
    size_t labels = 0, n = 0, label_len = 0;
    uint8_t prev = '.';
    while (mm_cursor_remaining(&c) > 0) {
        uint8_t ch = lower(mm_cursor_read_u8(&c));
        if (ch == '.') {
            if (label_len == 0 || prev == '-')
                return MM_EMALFORMED;
            labels++;
            label_len = 0;
        } else {
            bool underscore_ok = txt_owner && labels == 0 && label_len == 0 && ch == '_';
            if (!is_ldh(ch) && !underscore_ok)
                return MM_EMALFORMED;
            if (ch == '-' && label_len == 0)
                return MM_EMALFORMED;
            if (++label_len > 63)
                return MM_EMALFORMED;
        }
        out[n++] = (char)ch;
        prev = ch;
    }
    if (label_len == 0 || prev == '-')
        return MM_EMALFORMED;
    labels++;
    out[n] = 0;
    return labels >= 2 ? 0 : MM_EMALFORMED;
}

bool mm_ddns_name_in_zone(const char *name, const char *zone)
{
    size_t n = strlen(name), z = strlen(zone);
    if (z == 0 || n < z)
        return false;
    if (n == z)
        return strcmp(name, zone) == 0;
    return name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0;
}

int mm_ddns_txt_owner_base(const char *owner, char *out, size_t outlen)
{
    const char *dot = strchr(owner, '.');
    if (!dot)
        return MM_EPERM;
    size_t l = (size_t)(dot - owner);
    for (size_t i = 0; i < sizeof(txt_prefixes) / sizeof(txt_prefixes[0]); i++) {
        if (strlen(txt_prefixes[i]) == l && memcmp(owner, txt_prefixes[i], l) == 0) {
            if (strchr(dot + 1, '.') == NULL) /* base must still have two labels */
                return MM_EPERM;
            int w = snprintf(out, outlen, "%s", dot + 1);
            return (w < 0 || (size_t)w >= outlen) ? MM_ESPACE : 0;
        }
    }
    return MM_EPERM;
}
