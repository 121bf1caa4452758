/*
 * The client side's reader of an HTTP/1.1 response (RFC 9112): status line,
 * headers (Content-Length, Retry-After), body. Only Content-Length framing
 * is accepted: the server always sends it (spec section 2, ours).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>
#include <strings.h>

#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"
#include "mamori/mm_ddns.h"

/* Read one CRLF-terminated line; its length in *len (without CRLF). */
static const uint8_t *line(mm_cursor *c, size_t *len)
{
    const uint8_t *p = mm_cursor_ptr(c);
    size_t rem = mm_cursor_remaining(c);
    for (size_t i = 0; i + 1 < rem; i++) {
        if (p[i] == '\r' && p[i + 1] == '\n') {
            *len = i;
            mm_cursor_skip(c, i + 2);
            return p;
        }
    }
    return NULL;
}

static int parse_uint(const uint8_t *p, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    while (n && *p == ' ') {
        p++;
        n--;
    }
    while (n && p[n - 1] == ' ')
        n--;
    if (n == 0 || n > 19)
        return MM_EMALFORMED;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return MM_EMALFORMED;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > max)
        return MM_ELIMIT;
    *out = v;
    return 0;
}

int mm_ddns_http_response_parse(const uint8_t *data, size_t len, mm_ddns_http_response *r)
{
    memset(r, 0, sizeof(*r));
    mm_cursor c;
    mm_cursor_init_read(&c, data, len);
    size_t n;
    const uint8_t *l = line(&c, &n);
    if (!l)
        return len > 8192 ? MM_EMALFORMED : MM_EAGAIN;
    /* "HTTP/1.1 200 OK" */
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[8] != ' ')
        return MM_EMALFORMED;
    uint64_t st;
    if (parse_uint(l + 9, 3, 999, &st) < 0 || st < 100)
        return MM_EMALFORMED;
    r->status = (int)st;
    bool have_len = false;
    uint64_t clen = 0;
    for (;;) {
        l = line(&c, &n);
        if (!l)
            return mm_cursor_offset(&c) > 65536 ? MM_EMALFORMED : MM_EAGAIN;
        if (n == 0)
            break;
        const uint8_t *colon = memchr(l, ':', n);
        if (!colon)
            return MM_EMALFORMED;
        size_t kl = (size_t)(colon - l), vl = n - kl - 1;
        if (kl == 14 && strncasecmp((const char *)l, "Content-Length", 14) == 0) {
            if (parse_uint(colon + 1, vl, 16u << 20, &clen) < 0)
                return MM_EMALFORMED;
            have_len = true;
        } else if (kl == 11 && strncasecmp((const char *)l, "Retry-After", 11) == 0) {
            uint64_t ra;
            if (parse_uint(colon + 1, vl, 86400, &ra) == 0)
                r->retry_after = (uint32_t)ra;
        } else if (kl == 17 && strncasecmp((const char *)l, "Transfer-Encoding", 17) == 0) {
            return MM_EUNSUPPORTED;
        }
    }
    if (!have_len)
        clen = 0; /* 204 and friends */
    r->body_off = mm_cursor_offset(&c);
    r->body_len = (size_t)clen;
    if (mm_cursor_remaining(&c) < clen)
        return MM_EAGAIN;
    return 0;
}
