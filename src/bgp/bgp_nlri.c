/*
 * bgp_nlri.c - prefixes in NLRI form (RFC 4271 §4.3, RFC 4760 §5, RFC 7911
 * path ids) and FlowSpec rules (RFC 8955 §4, RFC 8956 §3).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_bgp.h"
#include "mamori/mm_core.h"

static unsigned afi_bits(uint16_t afi)
{
    return afi == MM_BGP_AFI_IPV6 ? 128 : afi == MM_BGP_AFI_IPV4 ? 32 : 0;
}

int mm_bgp_nlri_next(mm_cursor *c, uint16_t afi, bool addpath, mm_bgp_prefix *p)
{
    if (mm_cursor_error(c))
        return MM_EMALFORMED;
    if (mm_cursor_remaining(c) == 0)
        return 0;
    memset(p, 0, sizeof(*p));
    p->afi = afi;
    if (addpath)
        p->path_id = mm_cursor_read_u32(c);
    p->len = mm_cursor_read_u8(c);
    unsigned max = afi_bits(afi);
    if (mm_cursor_error(c) || max == 0 || p->len > max)
        return MM_EMALFORMED;
    mm_cursor_read_bytes(c, p->addr, (p->len + 7u) / 8u);
    if (mm_cursor_error(c))
        return MM_EMALFORMED;
    /* Clear trailing bits beyond the length so equal prefixes compare equal. */
    if (p->len % 8)
        p->addr[p->len / 8] &= (uint8_t)(0xff << (8 - p->len % 8));
    return 1;
}

int mm_bgp_nlri_encode(mm_cursor *w, const mm_bgp_prefix *p, bool addpath)
{
    if (p->len > afi_bits(p->afi))
        return MM_EINVAL;
    if (addpath)
        mm_cursor_write_u32(w, p->path_id);
    mm_cursor_write_u8(w, p->len);
    mm_cursor_write_bytes(w, p->addr, (p->len + 7u) / 8u);
    return mm_cursor_error(w);
}

/* Decimal digits of v at o; returns the end. */
static char *put_dec(char *o, unsigned v)
{
    char tmp[10];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *o++ = tmp[--n];
    return o;
}

void mm_bgp_prefix_format(const mm_bgp_prefix *p, char *out, size_t outlen)
{
    /* IPv4 by hand: inet_ntop and snprintf dominate the collector's profile otherwise. */
    if (p->afi == MM_BGP_AFI_IPV4 && outlen >= 20) {
        char *o = out;
        for (int i = 0; i < 4; i++) {
            o = put_dec(o, p->addr[i]);
            *o++ = i < 3 ? '.' : '/';
        }
        o = put_dec(o, p->len);
        *o = 0;
        return;
    }
    char a[INET6_ADDRSTRLEN];
    int af = p->afi == MM_BGP_AFI_IPV6 ? AF_INET6 : AF_INET;
    if (!inet_ntop(af, p->addr, a, sizeof(a)))
        snprintf(a, sizeof(a), "?");
    snprintf(out, outlen, "%s/%u", a, p->len);
}

int mm_bgp_prefix_parse(const char *s, mm_bgp_prefix *p)
{
    char tmp[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n >= sizeof(tmp))
        return MM_EINVAL;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    memset(p, 0, sizeof(*p));
    if (inet_pton(AF_INET, tmp, p->addr) == 1)
        p->afi = MM_BGP_AFI_IPV4;
    else if (inet_pton(AF_INET6, tmp, p->addr) == 1)
        p->afi = MM_BGP_AFI_IPV6;
    else
        return MM_EINVAL;
    unsigned long len = afi_bits(p->afi);
    if (slash) {
        char *end;
        len = strtoul(slash + 1, &end, 10);
        if (*end || end == slash + 1 || len > afi_bits(p->afi))
            return MM_EINVAL;
    }
    p->len = (uint8_t)len;
    return 0;
}

/* ---------------------------------------------------------------- FlowSpec */

int mm_bgp_flowspec_next(mm_cursor *c, const uint8_t **rule, size_t *rule_len)
{
    if (mm_cursor_error(c))
        return MM_EMALFORMED;
    if (mm_cursor_remaining(c) == 0)
        return 0;
    /* RFC 8955 §4.1: one byte below 0xf0, else 0xfnnn (12-bit length) in two. */
    size_t len = mm_cursor_read_u8(c);
    if (len >= 0xf0)
        len = ((len & 0x0f) << 8) | mm_cursor_read_u8(c);
    *rule = mm_cursor_ptr(c);
    *rule_len = len;
    mm_cursor_skip(c, len);
    if (mm_cursor_error(c) || len == 0)
        return MM_EMALFORMED;
    return 1;
}

enum fs_kind { FS_PREFIX, FS_NUMERIC, FS_BITMASK };

/* FlowSpec component types, one row each (RFC 8955 §4.2.2, RFC 8956 §3). */
static const struct {
    uint8_t type;
    const char *name;
    const char *name6; /* IPv6 name where it differs */
    enum fs_kind kind;
} fs_components[] = {
    {1, "dst", NULL, FS_PREFIX},
    {2, "src", NULL, FS_PREFIX},
    {3, "proto", "next-header", FS_NUMERIC},
    {4, "port", NULL, FS_NUMERIC},
    {5, "dport", NULL, FS_NUMERIC},
    {6, "sport", NULL, FS_NUMERIC},
    {7, "icmp-type", NULL, FS_NUMERIC},
    {8, "icmp-code", NULL, FS_NUMERIC},
    {9, "tcp-flags", NULL, FS_BITMASK},
    {10, "length", NULL, FS_NUMERIC},
    {11, "dscp", NULL, FS_NUMERIC},
    {12, "fragment", NULL, FS_BITMASK},
    {13, "flow-label", NULL, FS_NUMERIC},
};

static int fs_prefix(uint16_t afi, mm_cursor *c, mm_buf *out)
{
    mm_bgp_prefix p = {.afi = afi};
    p.len = mm_cursor_read_u8(c);
    unsigned offset = 0;
    if (afi == MM_BGP_AFI_IPV6)
        offset = mm_cursor_read_u8(c); /* RFC 8956 §3.1 */
    if (mm_cursor_error(c) || p.len > afi_bits(afi) || offset > p.len)
        return MM_EMALFORMED;
    /* IPv6 carries only the bits from offset to length. */
    size_t nbytes = afi == MM_BGP_AFI_IPV6 ? (p.len - offset + 7u) / 8u : (p.len + 7u) / 8u;
    uint8_t pat[16] = {0};
    mm_cursor_read_bytes(c, pat, nbytes);
    MM_GUARD(mm_cursor_error(c));
    if (offset == 0 || afi != MM_BGP_AFI_IPV6) {
        memcpy(p.addr, pat, nbytes);
    } else {
        for (unsigned b = 0; b < p.len - offset; b++) /* shift the pattern to its offset */
            if (pat[b / 8] & (0x80 >> (b % 8)))
                p.addr[(b + offset) / 8] |= (uint8_t)(0x80 >> ((b + offset) % 8));
    }
    char s[64];
    mm_bgp_prefix_format(&p, s, sizeof(s));
    MM_GUARD(mm_buf_append_str(out, s));
    if (offset)
        MM_GUARD(mm_buf_printf(out, " offset %u", offset));
    return 0;
}

/* Operator lists (RFC 8955 §4.2.1): e bit 0x80, a bit 0x40, len 0x30, then lt/gt/eq or not/match.
 */
static int fs_ops(enum fs_kind kind, mm_cursor *c, mm_buf *out)
{
    static const char *const num[8] = {"false", "=", ">", ">=", "<", "<=", "!=", "true"};
    for (bool first = true;; first = false) {
        uint8_t op = mm_cursor_read_u8(c);
        size_t vlen = (size_t)1 << ((op >> 4) & 3);
        uint64_t v = 0;
        for (size_t i = 0; i < vlen; i++)
            v = (v << 8) | mm_cursor_read_u8(c);
        if (mm_cursor_error(c))
            return MM_EMALFORMED;
        if (!first)
            MM_GUARD(mm_buf_append_str(out, (op & 0x40) ? "&" : ","));
        /* By hand, not printf: every received rule is formatted for its audit record. */
        char t[40], *o = t;
        if (kind == FS_NUMERIC) {
            for (const char *k = num[op & 7]; *k; k++)
                *o++ = *k;
            char d[20];
            int nd = 0;
            do
                d[nd++] = (char)('0' + v % 10);
            while ((v /= 10) != 0);
            while (nd)
                *o++ = d[--nd];
        } else {
            if (op & 2)
                *o++ = '!';
            if (op & 1)
                *o++ = '=';
            *o++ = '0';
            *o++ = 'x';
            char d[16];
            int nd = 0;
            do
                d[nd++] = "0123456789abcdef"[v & 15];
            while ((v >>= 4) != 0);
            while (nd)
                *o++ = d[--nd];
        }
        MM_GUARD(mm_buf_append(out, t, (size_t)(o - t)));
        if (op & 0x80)
            return 0;
    }
}

int mm_bgp_flowspec_format(uint16_t afi, const uint8_t *rule, size_t rule_len, mm_buf *out)
{
    mm_cursor c;
    mm_cursor_init_read(&c, rule, rule_len);
    for (bool first = true; mm_cursor_remaining(&c) > 0; first = false) {
        uint8_t type = mm_cursor_read_u8(&c);
        size_t i = 0, n = sizeof(fs_components) / sizeof(fs_components[0]);
        while (i < n && fs_components[i].type != type)
            i++;
        if (i == n)
            return MM_EUNSUPPORTED;
        const char *name = afi == MM_BGP_AFI_IPV6 && fs_components[i].name6 ? fs_components[i].name6
                                                                            : fs_components[i].name;
        if (!first)
            MM_GUARD(mm_buf_append(out, " ", 1));
        MM_GUARD(mm_buf_append_str(out, name));
        MM_GUARD(mm_buf_append(out, " ", 1));
        if (fs_components[i].kind == FS_PREFIX)
            MM_GUARD(fs_prefix(afi, &c, out));
        else
            MM_GUARD(fs_ops(fs_components[i].kind, &c, out));
    }
    return 0;
}
