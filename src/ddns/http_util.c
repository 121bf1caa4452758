/*
 * Small parsers of untrusted HTTP pieces: percent-decoding (RFC 3986 2.1),
 * query-string lookup, the Basic credentials of /nic/update (RFC 7617),
 * and the ISO 8601 timestamps of the envelope. All read through mm_cursor.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"
#include "mamori/mm_ddns.h"

int mm_ddns_pct_decode(const char *src, size_t len, bool form, char *out, size_t outlen)
{
    mm_cursor c;
    mm_cursor_init_read(&c, (const uint8_t *)src, len);
    size_t n = 0;
    while (mm_cursor_remaining(&c) > 0) {
        uint8_t ch = mm_cursor_read_u8(&c);
        if (ch == '%') {
            if (mm_cursor_remaining(&c) < 2)
                return MM_EMALFORMED;
            int hi = mm_hex_nibble((char)mm_cursor_read_u8(&c)),
                lo = mm_hex_nibble((char)mm_cursor_read_u8(&c));
            if (hi < 0 || lo < 0)
                return MM_EMALFORMED;
            ch = (uint8_t)(hi << 4 | lo);
            if (ch == 0)
                return MM_EMALFORMED; /* no NUL smuggled into C strings */
        } else if (ch == '+' && form) {
            ch = ' ';
        }
        if (n + 1 >= outlen)
            return MM_ELIMIT;
        out[n++] = (char)ch;
    }
    out[n] = 0;
    return 0;
}

int mm_ddns_query_get(const char *query, const char *key, char *out, size_t outlen)
{
    if (!query)
        return MM_ENOENT;
    size_t kl = strlen(key);
    const char *p = query;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', l);
        size_t nl = eq ? (size_t)(eq - p) : l;
        if (nl == kl && memcmp(p, key, kl) == 0) {
            if (!eq) {
                out[0] = 0;
                return 0;
            }
            return mm_ddns_pct_decode(eq + 1, l - nl - 1, true, out, outlen);
        }
        if (!end)
            break;
        p = end + 1;
    }
    return MM_ENOENT;
}

int mm_ddns_basic_password(const char *header, char *out, size_t outlen)
{
    if (!header || strncasecmp(header, "Basic ", 6) != 0)
        return MM_EINVAL;
    const char *b = header + 6;
    while (*b == ' ')
        b++;
    size_t bl = strlen(b);
    while (bl > 0 && b[bl - 1] == ' ')
        bl--;
    uint8_t dec[512];
    if (bl == 0 || bl % 4 || bl / 4 * 3 > sizeof(dec) - 1)
        return MM_EMALFORMED;
    int dl = EVP_DecodeBlock(dec, (const unsigned char *)b, (int)bl);
    if (dl < 0)
        return MM_EMALFORMED;
    /* EVP_DecodeBlock counts padding as zero bytes; drop them. */
    if (bl >= 1 && b[bl - 1] == '=')
        dl--;
    if (bl >= 2 && b[bl - 2] == '=')
        dl--;
    mm_cursor c;
    mm_cursor_init_read(&c, dec, (size_t)dl);
    const uint8_t *colon = memchr(mm_cursor_ptr(&c), ':', mm_cursor_remaining(&c));
    if (!colon) {
        OPENSSL_cleanse(dec, sizeof(dec));
        return MM_EMALFORMED;
    }
    mm_cursor_skip(&c, (size_t)(colon - dec) + 1);
    size_t pl = mm_cursor_remaining(&c);
    int rc = 0;
    if (pl + 1 > outlen || memchr(mm_cursor_ptr(&c), 0, pl)) {
        rc = MM_EMALFORMED;
    } else {
        mm_cursor_read_bytes(&c, (uint8_t *)out, pl);
        out[pl] = 0;
    }
    OPENSSL_cleanse(dec, sizeof(dec));
    return rc;
}

void mm_ddns_time_format(int64_t ms, char *out, size_t outlen)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}
