/*
 * flowspec.c - FlowSpec rules as structures (RFC 8955 for IPv4, RFC 8956
 * for IPv6): strict decoding with the §4.2 checks, encoding, a text form
 * (the codec's mm_bgp_flowspec_format prints the same), the §5.1 order of
 * precedence and the §6 validation decision.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_bgp_speaker.h"
#include "mamori/mm_core.h"

/* One row per component type (RFC 8955 §4.2.2, RFC 8956 §3): adding a type is adding a row. */
static const struct {
    uint8_t type;
    const char *name;
    const char *name6;
    enum mm_bgp_fs_kind kind;
    bool v4, v6;
} comp_table[] = {
    {1, "dst", NULL, MM_BGP_FS_PREFIX, true, true},
    {2, "src", NULL, MM_BGP_FS_PREFIX, true, true},
    {3, "proto", "next-header", MM_BGP_FS_NUMERIC, true, true},
    {4, "port", NULL, MM_BGP_FS_NUMERIC, true, true},
    {5, "dport", NULL, MM_BGP_FS_NUMERIC, true, true},
    {6, "sport", NULL, MM_BGP_FS_NUMERIC, true, true},
    {7, "icmp-type", NULL, MM_BGP_FS_NUMERIC, true, true},
    {8, "icmp-code", NULL, MM_BGP_FS_NUMERIC, true, true},
    {9, "tcp-flags", NULL, MM_BGP_FS_BITMASK, true, true},
    {10, "length", NULL, MM_BGP_FS_NUMERIC, true, true},
    {11, "dscp", NULL, MM_BGP_FS_NUMERIC, true, true},
    {12, "fragment", NULL, MM_BGP_FS_BITMASK, true, true},
    {13, "flow-label", NULL, MM_BGP_FS_NUMERIC, false, true}, /* RFC 8956 §3.7 */
};
#define N_COMP (sizeof(comp_table) / sizeof(comp_table[0]))

static int comp_row(uint16_t afi, uint8_t type)
{
    for (size_t i = 0; i < N_COMP; i++)
        if (comp_table[i].type == type)
            return (afi == MM_BGP_AFI_IPV6 ? comp_table[i].v6 : comp_table[i].v4) ? (int)i : -1;
    return -1;
}

enum mm_bgp_fs_kind mm_bgp_fs_kind_of(uint8_t type)
{
    for (size_t i = 0; i < N_COMP; i++)
        if (comp_table[i].type == type)
            return comp_table[i].kind;
    return MM_BGP_FS_NUMERIC;
}

const char *mm_bgp_fs_comp_name(uint16_t afi, uint8_t type)
{
    for (size_t i = 0; i < N_COMP; i++)
        if (comp_table[i].type == type)
            return afi == MM_BGP_AFI_IPV6 && comp_table[i].name6 ? comp_table[i].name6
                                                                 : comp_table[i].name;
    return "unknown";
}

static unsigned afi_bits(uint16_t afi) { return afi == MM_BGP_AFI_IPV6 ? 128 : 32; }

static int fail(const char **why, const char *what)
{
    if (why)
        *why = what;
    return MM_EMALFORMED;
}

static int prefix_decode(uint16_t afi, mm_cursor *c, mm_bgp_fs_comp *k, const char **why)
{
    k->plen = mm_cursor_read_u8(c);
    k->offset = afi == MM_BGP_AFI_IPV6 ? mm_cursor_read_u8(c) : 0;
    if (mm_cursor_error(c))
        return fail(why, "prefix component truncated");
    if (k->plen > afi_bits(afi))
        return fail(why, "prefix length exceeds the address size");
    if (k->offset > k->plen)
        return fail(why, "IPv6 prefix offset exceeds the prefix length"); /* RFC 8956 §3.1 */
    unsigned bits = (unsigned)k->plen - k->offset;
    uint8_t pat[16] = {0};
    mm_cursor_read_bytes(c, pat, (bits + 7) / 8);
    if (mm_cursor_error(c))
        return fail(why, "prefix component truncated");
    memset(k->addr, 0, sizeof(k->addr));
    for (unsigned b = 0; b < bits; b++)
        if (pat[b / 8] & (0x80 >> (b % 8)))
            k->addr[(b + k->offset) / 8] |= (uint8_t)(0x80 >> ((b + k->offset) % 8));
    return 0;
}

static int ops_decode(enum mm_bgp_fs_kind kind, mm_cursor *c, mm_bgp_fs_comp *k, const char **why)
{
    k->n_terms = 0;
    for (;;) {
        uint8_t op = mm_cursor_read_u8(c);
        size_t vlen = (size_t)1 << ((op >> 4) & 3);
        uint64_t v = 0;
        for (size_t i = 0; i < vlen; i++)
            v = v << 8 | mm_cursor_read_u8(c);
        if (mm_cursor_error(c))
            return fail(why, "operator list runs past the rule (no end bit)");
        /* §4.2.1.1: bit 0x08 is reserved (0); §4.2.1.2: bits 0x0c are reserved. */
        if (kind == MM_BGP_FS_NUMERIC && (op & 0x08))
            return fail(why, "numeric operator with the reserved bit set");
        if (kind == MM_BGP_FS_BITMASK && (op & 0x0c))
            return fail(why, "bitmask operator with reserved bits set");
        if (kind == MM_BGP_FS_BITMASK && vlen > 2)
            return fail(why, "bitmask value longer than 2 bytes");
        if (k->n_terms == MM_BGP_FS_MAX_TERMS)
            return fail(why, "too many operator terms");
        k->terms[k->n_terms].op = op;
        k->terms[k->n_terms].value = v;
        k->n_terms++;
        if (op & MM_BGP_FS_OP_END)
            return 0;
    }
}

int mm_bgp_fs_decode(uint16_t afi, const uint8_t *rule, size_t len, mm_bgp_fs_rule *r,
                     const char **why)
{
    r->afi = afi;
    r->n_comp = 0;
    if (afi != MM_BGP_AFI_IPV4 && afi != MM_BGP_AFI_IPV6)
        return fail(why, "FlowSpec for an unknown AFI");
    if (len == 0 || len > MM_BGP_FS_MAX_LEN)
        return fail(why, "FlowSpec rule length out of range");
    mm_cursor c;
    mm_cursor_init_read(&c, rule, len);
    int last = 0;
    while (mm_cursor_remaining(&c) > 0) {
        uint8_t type = mm_cursor_read_u8(&c);
        int row = comp_row(afi, type);
        if (row < 0)
            return fail(why, "unknown FlowSpec component type");
        /* §4.2: components in strictly increasing type order, each at most once. */
        if (type <= last)
            return fail(why, "FlowSpec components out of order or repeated");
        last = type;
        mm_bgp_fs_comp *k = &r->comp[r->n_comp];
        memset(k, 0, offsetof(mm_bgp_fs_comp, terms));
        k->type = type;
        k->raw = mm_cursor_ptr(&c);
        size_t start = mm_cursor_offset(&c);
        int rc = comp_table[row].kind == MM_BGP_FS_PREFIX ? prefix_decode(afi, &c, k, why)
                                                          : ops_decode(comp_table[row].kind, &c, k, why);
        if (rc < 0)
            return rc;
        k->raw_len = mm_cursor_offset(&c) - start;
        r->n_comp++;
    }
    return 0;
}

static unsigned vlen_code(uint64_t v)
{
    return v <= 0xff ? 0 : v <= 0xffff ? 1 : v <= 0xffffffffu ? 2 : 3;
}

int mm_bgp_fs_encode(const mm_bgp_fs_rule *r, mm_cursor *w)
{
    for (size_t i = 0; i < r->n_comp; i++) {
        const mm_bgp_fs_comp *k = &r->comp[i];
        mm_cursor_write_u8(w, k->type);
        if (mm_bgp_fs_kind_of(k->type) == MM_BGP_FS_PREFIX) {
            mm_cursor_write_u8(w, k->plen);
            if (r->afi == MM_BGP_AFI_IPV6)
                mm_cursor_write_u8(w, k->offset);
            unsigned bits = (unsigned)k->plen - k->offset;
            uint8_t pat[16] = {0};
            for (unsigned b = 0; b < bits; b++)
                if (k->addr[(b + k->offset) / 8] & (0x80 >> ((b + k->offset) % 8)))
                    pat[b / 8] |= (uint8_t)(0x80 >> (b % 8));
            mm_cursor_write_bytes(w, pat, (bits + 7) / 8);
            continue;
        }
        for (size_t t = 0; t < k->n_terms; t++) {
            uint8_t op = k->terms[t].op;
            unsigned l = (op >> 4) & 3;
            mm_cursor_write_u8(w, op);
            for (int b = (1 << l) - 1; b >= 0; b--)
                mm_cursor_write_u8(w, (uint8_t)(k->terms[t].value >> (8 * b)));
        }
    }
    return mm_cursor_error(w);
}

int mm_bgp_fs_nlri_encode(mm_cursor *w, const uint8_t *rule, size_t len)
{
    if (len == 0 || len > MM_BGP_FS_MAX_LEN)
        return MM_EINVAL;
    if (len < 240) {
        mm_cursor_write_u8(w, (uint8_t)len);
    } else {
        mm_cursor_write_u8(w, (uint8_t)(0xf0 | (len >> 8)));
        mm_cursor_write_u8(w, (uint8_t)len);
    }
    mm_cursor_write_bytes(w, rule, len);
    return mm_cursor_error(w);
}

/* ---------------------------------------------------------------- text form */

__attribute__((format(printf, 3, 4))) static int perr(char *err, size_t errlen, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return MM_EINVAL;
}

/* "<=5", "=0x02", "!=0x04", "true", ">=1000&<=2000,=80" into terms. */
static int ops_parse(enum mm_bgp_fs_kind kind, const char *s, mm_bgp_fs_comp *k, char *err,
                     size_t errlen)
{
    static const struct { const char *sym; uint8_t bits; } num[] = {
        {"<=", 5}, {">=", 3}, {"!=", 6}, {"=", 1}, {"<", 4}, {">", 2}, {"true", 7}, {"false", 0},
    };
    const char *p = s;
    k->n_terms = 0;
    bool and_next = false;
    while (*p) {
        uint8_t op = and_next ? MM_BGP_FS_OP_AND : 0;
        if (kind == MM_BGP_FS_NUMERIC) {
            size_t i = 0;
            for (; i < sizeof(num) / sizeof(num[0]); i++)
                if (strncmp(p, num[i].sym, strlen(num[i].sym)) == 0)
                    break;
            if (i == sizeof(num) / sizeof(num[0]))
                return perr(err, errlen, "bad numeric operator at '%s'", p);
            op |= num[i].bits;
            p += strlen(num[i].sym);
        } else {
            if (*p == '!') {
                op |= MM_BGP_FS_OP_NOT;
                p++;
            }
            if (*p == '=') {
                op |= MM_BGP_FS_OP_MATCH;
                p++;
            }
        }
        uint64_t v = 0;
        if (isdigit((unsigned char)*p)) {
            char *end;
            v = strtoull(p, &end, 0);
            p = end;
        } else if (kind == MM_BGP_FS_BITMASK || ((op & 7) != 7 && (op & 7) != 0)) {
            return perr(err, errlen, "missing value at '%s'", p);
        }
        if (kind == MM_BGP_FS_BITMASK && v > 0xffff)
            return perr(err, errlen, "bitmask value over 16 bits in '%s'", s);
        op |= (uint8_t)(vlen_code(v) << 4);
        if (k->n_terms == MM_BGP_FS_MAX_TERMS)
            return perr(err, errlen, "too many terms in '%s'", s);
        k->terms[k->n_terms].op = op;
        k->terms[k->n_terms].value = v;
        k->n_terms++;
        if (*p == '&' || *p == ',') {
            and_next = *p == '&';
            p++;
            if (!*p)
                return perr(err, errlen, "operator list ends with a joiner: '%s'", s);
        } else if (*p) {
            return perr(err, errlen, "unexpected text in '%s'", s);
        }
    }
    if (k->n_terms == 0)
        return perr(err, errlen, "empty operator list%s", "");
    k->terms[k->n_terms - 1].op |= MM_BGP_FS_OP_END;
    return 0;
}

static int comp_cmp_type(const void *a, const void *b)
{
    return (int)((const mm_bgp_fs_comp *)a)->type - (int)((const mm_bgp_fs_comp *)b)->type;
}

int mm_bgp_fs_parse(uint16_t afi, const char *text, uint8_t *out, size_t outcap, size_t *outlen,
                    char *err, size_t errlen)
{
    mm_bgp_fs_rule *r = calloc(1, sizeof(*r));
    if (!r)
        return MM_ENOMEM;
    r->afi = afi;
    char buf[1024];
    int rc = MM_EINVAL;
    if (strlen(text) >= sizeof(buf)) {
        perr(err, errlen, "rule text too long%s", "");
        goto out;
    }
    snprintf(buf, sizeof(buf), "%s", text);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        int row = -1;
        for (size_t i = 0; i < N_COMP; i++)
            if (strcmp(tok, comp_table[i].name) == 0 ||
                (comp_table[i].name6 && strcmp(tok, comp_table[i].name6) == 0))
                row = comp_row(afi, comp_table[i].type);
        if (row < 0) {
            perr(err, errlen, "unknown FlowSpec component '%s'", tok);
            goto out;
        }
        uint8_t type = comp_table[row].type;
        for (size_t i = 0; i < r->n_comp; i++)
            if (r->comp[i].type == type) {
                perr(err, errlen, "component '%s' given twice", tok);
                goto out;
            }
        char *val = strtok_r(NULL, " \t", &save);
        if (!val) {
            perr(err, errlen, "component '%s' without a value", tok);
            goto out;
        }
        mm_bgp_fs_comp *k = &r->comp[r->n_comp];
        memset(k, 0, sizeof(*k));
        k->type = type;
        if (comp_table[row].kind == MM_BGP_FS_PREFIX) {
            mm_bgp_prefix p;
            if (mm_bgp_prefix_parse(val, &p) < 0 || p.afi != afi) {
                perr(err, errlen, "bad prefix '%s' for this family", val);
                goto out;
            }
            k->plen = p.len;
            memcpy(k->addr, p.addr, sizeof(k->addr));
            /* optional "offset N" (IPv6) */
            if (afi == MM_BGP_AFI_IPV6 && save && strncmp(save, "offset ", 7) == 0) {
                strtok_r(NULL, " \t", &save);
                char *o = strtok_r(NULL, " \t", &save);
                unsigned long off = o ? strtoul(o, NULL, 10) : 999;
                if (off > k->plen) {
                    perr(err, errlen, "bad offset for '%s'", val);
                    goto out;
                }
                k->offset = (uint8_t)off;
            }
        } else if (ops_parse(comp_table[row].kind, val, k, err, errlen) < 0) {
            goto out;
        }
        r->n_comp++;
    }
    if (r->n_comp == 0) {
        perr(err, errlen, "empty rule%s", "");
        goto out;
    }
    /* §4.2: the wire order is by type, whatever order the text used. */
    qsort(r->comp, r->n_comp, sizeof(r->comp[0]), comp_cmp_type);
    mm_cursor w;
    mm_cursor_init_write(&w, out, outcap < MM_BGP_FS_MAX_LEN ? outcap : MM_BGP_FS_MAX_LEN);
    if (mm_bgp_fs_encode(r, &w) < 0) {
        perr(err, errlen, "rule too long%s", "");
        goto out;
    }
    *outlen = mm_cursor_offset(&w);
    rc = 0;
out:
    free(r);
    return rc;
}

/* ---------------------------------------------------------------- §5.1 order */

/* Compare the first nbits bits of two addresses. */
static int bits_cmp(const uint8_t *a, const uint8_t *b, unsigned nbits)
{
    for (unsigned i = 0; i < nbits; i++) {
        int x = (a[i / 8] >> (7 - i % 8)) & 1, y = (b[i / 8] >> (7 - i % 8)) & 1;
        if (x != y)
            return x - y;
    }
    return 0;
}

int mm_bgp_fs_cmp(uint16_t afi, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    mm_bgp_fs_rule *ra = malloc(sizeof(*ra)), *rb = malloc(sizeof(*rb));
    int res = 0;
    if (!ra || !rb || mm_bgp_fs_decode(afi, a, alen, ra, NULL) < 0 ||
        mm_bgp_fs_decode(afi, b, blen, rb, NULL) < 0) {
        res = memcmp(a, b, alen < blen ? alen : blen); /* invalid input: some total order */
        goto out;
    }
    for (size_t i = 0;; i++) {
        bool ha = i < ra->n_comp, hb = i < rb->n_comp;
        if (!ha && !hb)
            break;
        /* A rule that still has components where the other ended is more specific. */
        if (!hb) { res = -1; break; }
        if (!ha) { res = 1; break; }
        const mm_bgp_fs_comp *x = &ra->comp[i], *y = &rb->comp[i];
        if (x->type != y->type) { res = x->type < y->type ? -1 : 1; break; }
        if (mm_bgp_fs_kind_of(x->type) == MM_BGP_FS_PREFIX) {
            /* RFC 8956 §4: IPv6 compares the offset first (lower offset first). */
            if (x->offset != y->offset) { res = x->offset < y->offset ? -1 : 1; break; }
            unsigned common = x->plen < y->plen ? x->plen : y->plen;
            int c = bits_cmp(x->addr, y->addr, common);
            if (c) { res = c < 0 ? -1 : 1; break; }
            if (x->plen != y->plen) { res = x->plen > y->plen ? -1 : 1; break; }
        } else {
            size_t common = x->raw_len < y->raw_len ? x->raw_len : y->raw_len;
            int c = memcmp(x->raw, y->raw, common);
            if (c) { res = c < 0 ? -1 : 1; break; }
            /* §5.1: the longer string has precedence. */
            if (x->raw_len != y->raw_len) { res = x->raw_len > y->raw_len ? -1 : 1; break; }
        }
    }
out:
    free(ra);
    free(rb);
    return res;
}

/* ---------------------------------------------------------------- §6 validation */

bool mm_bgp_fs_rule_dst(const mm_bgp_fs_rule *r, mm_bgp_prefix *p)
{
    for (size_t i = 0; i < r->n_comp; i++)
        if (r->comp[i].type == 1 && r->comp[i].offset == 0) {
            memset(p, 0, sizeof(*p));
            p->afi = r->afi;
            p->len = r->comp[i].plen;
            memcpy(p->addr, r->comp[i].addr, sizeof(p->addr));
            return true;
        }
    return false;
}

int mm_bgp_fs_validate(const mm_bgp_fs_validation_input *in, const char **why)
{
    /* §6 (a): a destination prefix component is needed to find the unicast route. */
    if (!in->has_dst)
        return *why = "no destination prefix to validate against", MM_EVERIFY;
    /* (b) the originator of the FlowSpec route matches the best unicast route's. */
    if (!in->unicast_found)
        return *why = "no unicast route for the destination prefix", MM_EVERIFY;
    if (!in->same_originator)
        return *why = "best unicast route comes from another neighbour", MM_EVERIFY;
    /* (b.2) no more specific unicast route from a different neighbour. */
    if (in->more_specific_other_peer)
        return *why = "a more specific unicast route comes from another neighbour", MM_EVERIFY;
    /* (c) eBGP: the AS_PATH starts with the neighbour AS (RFC 9117 keeps this for eBGP). */
    if (in->ebgp && !in->aspath_ok)
        return *why = "AS_PATH does not start with the neighbour AS", MM_EVERIFY;
    *why = NULL;
    return 0;
}
