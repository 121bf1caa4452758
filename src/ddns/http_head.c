/*
 * Screening of a request's header section before libevent's HTTP parser
 * sees it (ddnsd's input filter), so that every framing error is answered
 * in the API's JSON envelope instead of libevent's HTML pages:
 *   - request line: a method of the table, an origin-form target, HTTP/1.x;
 *   - header lines: "name: value", no obs-fold, no control bytes;
 *   - Content-Length: digits, at most one value (RFC 9112 6.3: differing
 *     values are an error), within the body cap (413);
 *   - Transfer-Encoding is refused (the API's clients send Content-Length;
 *     refusing it also rules out CL/TE smuggling, RFC 9112 6.1).
 * Untrusted bytes are read through mm_cursor.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>
#include <strings.h>

#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"
#include "mamori/mm_ddns.h"

static const char *const methods[] = {"GET", "POST", "DELETE", "OPTIONS", "PUT", "PATCH", "HEAD"};

/* The next line (without CRLF) into [*line, *len]; false at the end or on a bare LF/CR. */
static bool next_line(mm_cursor *c, const uint8_t **line, size_t *len)
{
    const uint8_t *p = mm_cursor_ptr(c);
    size_t rem = mm_cursor_remaining(c);
    for (size_t i = 0; i + 1 < rem; i++) {
        if (p[i] == '\r' && p[i + 1] == '\n') {
            *line = p;
            *len = i;
            mm_cursor_skip(c, i + 2);
            return true;
        }
        if (p[i] == '\r' || p[i] == '\n')
            return false;
    }
    return false;
}

static bool is_tchar(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static enum mm_ddns_err fail(const char **why, enum mm_ddns_err e, const char *msg)
{
    *why = msg;
    return e;
}

enum mm_ddns_err mm_ddns_http_head_check(const uint8_t *head, size_t len, uint64_t *content_length,
                                         const char **why)
{
    *content_length = 0;
    *why = NULL;
    mm_cursor c;
    mm_cursor_init_read(&c, head, len);
    const uint8_t *l;
    size_t ll;
    if (!next_line(&c, &l, &ll))
        return fail(why, MM_DDNS_INVALID_REQUEST, "malformed request line");
    /* METHOD SP request-target SP HTTP-version */
    const uint8_t *sp1 = memchr(l, ' ', ll);
    const uint8_t *sp2 = sp1 ? memchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - l)) : NULL;
    if (!sp1 || !sp2)
        return fail(why, MM_DDNS_INVALID_REQUEST, "malformed request line");
    size_t ml = (size_t)(sp1 - l), tl = (size_t)(sp2 - sp1 - 1), vl = ll - (size_t)(sp2 + 1 - l);
    bool known = false;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strlen(methods[i]) == ml && memcmp(l, methods[i], ml) == 0)
            known = true;
    if (!known)
        return fail(why, MM_DDNS_METHOD_NOT_ALLOWED, "unknown method");
    if (tl == 0 || sp1[1] != '/')
        return fail(why, MM_DDNS_INVALID_REQUEST, "request target must be an absolute path");
    for (size_t i = 0; i < tl; i++)
        if (sp1[1 + i] <= ' ' || sp1[1 + i] >= 0x7f)
            return fail(why, MM_DDNS_INVALID_REQUEST, "control or non-ASCII byte in the target");
    if (vl != 8 || (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
        return fail(why, MM_DDNS_INVALID_REQUEST, "HTTP/1.1 or HTTP/1.0 only");
    bool have_cl = false;
    for (;;) {
        if (!next_line(&c, &l, &ll))
            return fail(why, MM_DDNS_INVALID_REQUEST, "malformed header section");
        if (ll == 0)
            break; /* the empty line ends the section */
        if (l[0] == ' ' || l[0] == '\t')
            return fail(why, MM_DDNS_INVALID_REQUEST, "folded header line (obs-fold)");
        const uint8_t *colon = memchr(l, ':', ll);
        if (!colon || colon == l)
            return fail(why, MM_DDNS_INVALID_REQUEST, "header line without a name");
        size_t nl = (size_t)(colon - l);
        for (size_t i = 0; i < nl; i++)
            if (!is_tchar(l[i]))
                return fail(why, MM_DDNS_INVALID_REQUEST, "invalid header name");
        const uint8_t *v = colon + 1, *end = l + ll;
        for (const uint8_t *q = v; q < end; q++)
            if ((*q < ' ' && *q != '\t') || *q == 0x7f)
                return fail(why, MM_DDNS_INVALID_REQUEST, "control byte in a header value");
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (nl == 17 && strncasecmp((const char *)l, "transfer-encoding", 17) == 0)
            return fail(why, MM_DDNS_INVALID_REQUEST,
                        "Transfer-Encoding is not supported: send Content-Length");
        if (nl == 14 && strncasecmp((const char *)l, "content-length", 14) == 0) {
            if (v == end || end - v > 19)
                return fail(why, end - v > 19 ? MM_DDNS_PAYLOAD_TOO_LARGE : MM_DDNS_INVALID_REQUEST,
                            end - v > 19 ? "request body too large" : "empty Content-Length");
            uint64_t n = 0;
            for (const uint8_t *q = v; q < end; q++) {
                if (*q < '0' || *q > '9')
                    return fail(why, MM_DDNS_INVALID_REQUEST, "Content-Length is not a number");
                n = n * 10 + (uint64_t)(*q - '0');
            }
            if (have_cl && n != *content_length)
                return fail(why, MM_DDNS_INVALID_REQUEST, "conflicting Content-Length values");
            have_cl = true;
            *content_length = n;
        }
    }
    if (mm_cursor_remaining(&c))
        return fail(why, MM_DDNS_INVALID_REQUEST, "bytes after the header section");
    if (*content_length > MM_DDNS_BODY_MAX)
        return fail(why, MM_DDNS_PAYLOAD_TOO_LARGE, "request body larger than 64 KiB");
    return MM_DDNS_OK;
}
