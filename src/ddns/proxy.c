/*
 * Client address behind trusted reverse proxies (X-Forwarded-For).
 *
 * The header is honoured only when the socket peer is a configured trusted
 * proxy (default: none, so the header is ignored). Each proxy appends the
 * address it received the connection from, so the list is read from the
 * right: trusted proxies are skipped, and the first address that is not
 * one is the client. Anything left of it was written by the client itself
 * and is not believed. An entry that is not an IP address stops the walk:
 * the last trusted hop is then the client as far as we can tell (never a
 * name the client chose).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"
#include "mamori/mm_ddns.h"

int mm_ddns_prefix_parse(const char *s, mm_ddns_prefix *out)
{
    const char *slash = strchr(s, '/');
    size_t al = slash ? (size_t)(slash - s) : strlen(s);
    memset(out, 0, sizeof(*out));
    if (mm_ddns_addr_parse(s, al, &out->addr) < 0)
        return MM_EINVAL;
    mm_ddns_addr_unmap(&out->addr);
    unsigned max = out->addr.family == AF_INET ? 32 : 128;
    out->len = max;
    if (slash) {
        char *end = NULL;
        unsigned long l = strtoul(slash + 1, &end, 10);
        if (!slash[1] || *end || l > max)
            return MM_EINVAL;
        out->len = (unsigned)l;
    }
    return 0;
}

bool mm_ddns_prefix_match(const mm_ddns_prefix *p, const mm_ddns_addr *a)
{
    mm_ddns_addr x = *a;
    mm_ddns_addr_unmap(&x);
    if (x.family != p->addr.family)
        return false;
    unsigned full = p->len / 8, rest = p->len % 8;
    if (memcmp(x.a, p->addr.a, full) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (x.a[full] & mask) == (p->addr.a[full] & mask);
}

static bool trusted(const mm_ddns_prefix *t, size_t n, const mm_ddns_addr *a)
{
    for (size_t i = 0; i < n; i++)
        if (mm_ddns_prefix_match(&t[i], a))
            return true;
    return false;
}

/* Is b optional whitespace (RFC 9110 OWS)? */
static bool ows(uint8_t b)
{
    return b == ' ' || b == '\t';
}

int mm_ddns_client_addr(const mm_ddns_addr *peer, const char *xff, const mm_ddns_prefix *t,
                        size_t n, mm_ddns_addr *out)
{
    *out = *peer;
    mm_ddns_addr_unmap(out);
    if (!xff || !n || !trusted(t, n, out))
        return 0;
    size_t len = strnlen(xff, MM_DDNS_XFF_MAX + 1);
    if (len > MM_DDNS_XFF_MAX)
        return MM_ELIMIT; /* keep the peer: a header this long is not from our proxies */
    mm_cursor c;
    mm_cursor_init_read(&c, (const uint8_t *)xff, len);
    /* Entries are read left to right, then judged right to left. */
    enum { MAXE = 32 };
    struct { size_t off, len; } e[MAXE];
    size_t ne = 0;
    while (mm_cursor_remaining(&c) && ne < MAXE) {
        const uint8_t *p = mm_cursor_ptr(&c);
        size_t rem = mm_cursor_remaining(&c), i = 0;
        while (i < rem && p[i] != ',')
            i++;
        size_t a = 0, b = i;
        while (a < b && ows(p[a]))
            a++;
        while (b > a && ows(p[b - 1]))
            b--;
        e[ne].off = mm_cursor_offset(&c) + a;
        e[ne].len = b - a;
        ne++;
        mm_cursor_skip(&c, i < rem ? i + 1 : i);
    }
    if (mm_cursor_remaining(&c))
        return MM_ELIMIT; /* more hops than any deployment has: keep the peer */
    for (size_t k = ne; k-- > 0;) {
        mm_ddns_addr a;
        if (mm_ddns_addr_parse(xff + e[k].off, e[k].len, &a) < 0)
            return MM_EINVAL; /* out stays the last trusted hop */
        mm_ddns_addr_unmap(&a);
        *out = a;
        if (!trusted(t, n, &a))
            return 0;
    }
    return 0;
}
