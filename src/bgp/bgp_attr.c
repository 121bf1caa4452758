/*
 * bgp_attr.c - UPDATE messages (RFC 4271 §4.3) and their path attributes,
 * described by one table: adding an attribute is adding a row.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "mamori/mm_bgp.h"
#include "mamori/mm_core.h"

#define WK MM_BGP_ATTR_F_TRANSITIVE                            /* well-known */
#define OT (MM_BGP_ATTR_F_OPTIONAL | MM_BGP_ATTR_F_TRANSITIVE) /* optional transitive */
#define ON MM_BGP_ATTR_F_OPTIONAL                              /* optional non-transitive */
#define ANY 0xffff

/* code, name (pmacct key where one exists), flags, min, max, multiple. */
static const mm_bgp_attr_desc attr_table[] = {
    {MM_BGP_ATTR_ORIGIN, "origin", WK, 1, 1, 0},
    {MM_BGP_ATTR_AS_PATH, "as_path", WK, 0, ANY, 0},
    {MM_BGP_ATTR_NEXT_HOP, "bgp_nexthop", WK, 4, 4, 0},
    {MM_BGP_ATTR_MED, "med", ON, 4, 4, 0},
    {MM_BGP_ATTR_LOCAL_PREF, "local_pref", WK, 4, 4, 0},
    {MM_BGP_ATTR_ATOMIC_AGGREGATE, "atomic_aggregate", WK, 0, 0, 0},
    {MM_BGP_ATTR_AGGREGATOR, "aggregator", OT, 6, 8, 2},
    {MM_BGP_ATTR_COMMUNITIES, "comms", OT, 4, ANY, 4},
    {MM_BGP_ATTR_ORIGINATOR_ID, "originator_id", ON, 4, 4, 0},
    {MM_BGP_ATTR_CLUSTER_LIST, "cluster_list", ON, 4, ANY, 4},
    {MM_BGP_ATTR_MP_REACH, "mp_reach_nlri", ON, 5, ANY, 0},
    {MM_BGP_ATTR_MP_UNREACH, "mp_unreach_nlri", ON, 3, ANY, 0},
    {MM_BGP_ATTR_EXT_COMMUNITIES, "ecomms", OT, 8, ANY, 8},
    {MM_BGP_ATTR_AS4_PATH, "as4_path", OT, 0, ANY, 0},
    {MM_BGP_ATTR_AS4_AGGREGATOR, "as4_aggregator", OT, 8, 8, 0},
    {MM_BGP_ATTR_LARGE_COMMUNITIES, "lcomms", OT, 12, ANY, 12},
    {35, "otc", OT, 4, 4, 0}, /* RFC 9234 Only-to-Customer */
};

const mm_bgp_attr_desc *mm_bgp_attr_desc_find(uint8_t code)
{
    for (size_t i = 0; i < sizeof(attr_table) / sizeof(attr_table[0]); i++)
        if (attr_table[i].code == code)
            return &attr_table[i];
    return NULL;
}

const char *mm_bgp_origin_name(uint8_t origin)
{
    static const char *const names[] = {"i", "e", "u"}; /* pmacct spells INCOMPLETE "u" */
    return origin < 3 ? names[origin] : NULL;
}

/* ---------------------------------------------------------------- AS_PATH (RFC 4271 §4.3, RFC
 * 6793) */

static int aspath_walk(const uint8_t *v, size_t len, bool as4, mm_buf *out)
{
    static const char *const open[] = {"", "{", "", "(", "["};
    static const char *const close[] = {"", "}", "", ")", "]"};
    mm_cursor c;
    mm_cursor_init_read(&c, v, len);
    bool first = true;
    while (mm_cursor_remaining(&c) > 0) {
        uint8_t type = mm_cursor_read_u8(&c);
        uint8_t count = mm_cursor_read_u8(&c);
        /* Types 1 AS_SET, 2 AS_SEQUENCE, 3/4 confederation (RFC 5065); empty segments are malformed
         * (RFC 7606 §7.2). */
        if (mm_cursor_error(&c) || type < 1 || type > 4 || count == 0)
            return MM_EMALFORMED;
        if (mm_cursor_remaining(&c) < (size_t)count * (as4 ? 4u : 2u))
            return MM_EMALFORMED;
        if (out) {
            MM_GUARD(mm_buf_append_str(out, first ? open[type] : " "));
            if (!first)
                MM_GUARD(mm_buf_append_str(out, open[type]));
            for (unsigned i = 0; i < count; i++) {
                uint32_t asn = as4 ? mm_cursor_read_u32(&c) : mm_cursor_read_u16(&c);
                const char *sep = i == 0 ? "" : (type == 1 || type == 4) ? "," : " ";
                MM_GUARD(mm_buf_append_str(out, sep));
                MM_GUARD(mm_buf_append_u64(out, asn));
            }
            MM_GUARD(mm_buf_append_str(out, close[type]));
        } else {
            mm_cursor_skip(&c, (size_t)count * (as4 ? 4u : 2u));
        }
        first = false;
    }
    return mm_cursor_error(&c);
}

int mm_bgp_aspath_format(const uint8_t *v, size_t len, bool as4, mm_buf *out)
{
    return aspath_walk(v, len, as4, out);
}

/* ---------------------------------------------------------------- communities */

int mm_bgp_communities_format(const uint8_t *v, size_t len, mm_buf *out)
{
    if (len % 4)
        return MM_EMALFORMED;
    for (size_t i = 0; i < len; i += 4) {
        unsigned hi = (unsigned)v[i] << 8 | v[i + 1], lo = (unsigned)v[i + 2] << 8 | v[i + 3];
        if (i)
            MM_GUARD(mm_buf_append(out, " ", 1));
        MM_GUARD(mm_buf_append_u64(out, hi));
        MM_GUARD(mm_buf_append(out, ":", 1));
        MM_GUARD(mm_buf_append_u64(out, lo));
    }
    return 0;
}

int mm_bgp_large_communities_format(const uint8_t *v, size_t len, mm_buf *out)
{
    if (len % 12)
        return MM_EMALFORMED;
    mm_cursor c;
    mm_cursor_init_read(&c, v, len);
    for (size_t i = 0; i < len; i += 12) {
        uint32_t a = mm_cursor_read_u32(&c), b = mm_cursor_read_u32(&c), d = mm_cursor_read_u32(&c);
        if (i)
            MM_GUARD(mm_buf_append(out, " ", 1));
        MM_GUARD(mm_buf_append_u64(out, a));
        MM_GUARD(mm_buf_append(out, ":", 1));
        MM_GUARD(mm_buf_append_u64(out, b));
        MM_GUARD(mm_buf_append(out, ":", 1));
        MM_GUARD(mm_buf_append_u64(out, d));
    }
    return 0;
}

/* One extended community (RFC 4360, RFC 8955 §7 traffic actions) as text. */
static int ecomm_format(const uint8_t *e, mm_buf *out)
{
    uint8_t type = e[0] & 0xbf; /* ignore the non-transitive bit for the known forms */
    uint8_t sub = e[1];
    uint32_t as2 = (uint32_t)e[2] << 8 | e[3];
    uint32_t lo4 = (uint32_t)e[4] << 24 | (uint32_t)e[5] << 16 | (uint32_t)e[6] << 8 | e[7];
    uint32_t hi4 = (uint32_t)e[2] << 24 | (uint32_t)e[3] << 16 | (uint32_t)e[4] << 8 | e[5];
    uint32_t lo2 = (uint32_t)e[6] << 8 | e[7];
    const char *kind = sub == 0x02 ? "RT" : sub == 0x03 ? "SoO" : NULL; /* as pmacct */
    if (e[0] == 0x80 && sub == 0x06) { /* traffic-rate in bytes/s, IEEE float */
        union {
            uint32_t u;
            float f;
        } r = {.u = lo4};
        return mm_buf_printf(out, "rate-limit:%g", (double)r.f);
    }
    if (e[0] == 0x80 && sub == 0x07)
        return mm_buf_printf(out, "action:%s%s", (e[7] & 2) ? "sample" : "",
                             (e[7] & 1) ? ((e[7] & 2) ? "-terminal" : "terminal") : "");
    if (e[0] == 0x80 && sub == 0x08)
        return mm_buf_printf(out, "redirect:%u:%u", as2, lo4);
    if (e[0] == 0x80 && sub == 0x09)
        return mm_buf_printf(out, "mark:%u", e[7] & 0x3f);
    if (kind && (type == 0x00))
        return mm_buf_printf(out, "%s:%u:%u", kind, as2, lo4);
    if (kind && (type == 0x02))
        return mm_buf_printf(out, "%s:%u:%u", kind, hi4, lo2);
    if (kind && (type == 0x01))
        return mm_buf_printf(out, "%s:%u.%u.%u.%u:%u", kind, e[2], e[3], e[4], e[5], lo2);
    char hex[17];
    mm_hex_encode(e, 8, hex);
    for (char *p = hex; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    return mm_buf_printf(out, "0x%s", hex);
}

int mm_bgp_ext_communities_format(const uint8_t *v, size_t len, mm_buf *out)
{
    if (len % 8)
        return MM_EMALFORMED;
    for (size_t i = 0; i < len; i += 8) {
        if (i)
            MM_GUARD(mm_buf_append_str(out, " "));
        MM_GUARD(ecomm_format(v + i, out));
    }
    return 0;
}

/* ---------------------------------------------------------------- UPDATE */

static int mp_decode(const mm_bgp_attr *a, mm_bgp_mp *mp)
{
    mm_cursor c;
    mm_cursor_init_read(&c, a->val, a->len);
    mp->afi = mm_cursor_read_u16(&c);
    mp->safi = mm_cursor_read_u8(&c);
    if (a->code == MM_BGP_ATTR_MP_REACH) {
        mp->nh_len = mm_cursor_read_u8(&c);
        mp->nh = mm_cursor_ptr(&c);
        mm_cursor_skip(&c, mp->nh_len);
        mm_cursor_skip(&c, 1); /* reserved (RFC 4760 §3) */
    }
    if (mm_cursor_error(&c))
        return MM_EMALFORMED;
    mp->nlri = mm_cursor_ptr(&c);
    mp->nlri_len = mm_cursor_remaining(&c);
    mp->present = true;
    return 0;
}

/* Walk an NLRI list once so that later iteration cannot fail midway. */
static int nlri_check(uint16_t afi, uint8_t safi, const uint8_t *p, size_t len, bool addpath)
{
    mm_cursor c;
    mm_cursor_init_read(&c, p, len);
    int rc;
    if (safi == MM_BGP_SAFI_FLOWSPEC) {
        const uint8_t *r;
        size_t rl;
        while ((rc = mm_bgp_flowspec_next(&c, &r, &rl)) > 0)
            ;
        return rc;
    }
    if (safi != MM_BGP_SAFI_UNICAST && safi != MM_BGP_SAFI_MULTICAST)
        return 0; /* other families are kept as bytes */
    mm_bgp_prefix pfx;
    while ((rc = mm_bgp_nlri_next(&c, afi, addpath, &pfx)) > 0)
        ;
    return rc;
}

static bool attr_set_error(mm_bgp_update *u, uint8_t code, const char *what)
{
    if (!u->error) {
        u->error = what;
        u->error_attr = code;
    }
    return false;
}

/* Check one attribute against its table row (RFC 4271 §6.3, RFC 7606 §7). */
static bool attr_check(mm_bgp_update *u, const mm_bgp_attr *a)
{
    const mm_bgp_attr_desc *d = mm_bgp_attr_desc_find(a->code);
    if (!d)
        return true; /* unknown attributes are kept as bytes */
    if ((a->flags & (MM_BGP_ATTR_F_OPTIONAL | MM_BGP_ATTR_F_TRANSITIVE)) != d->flags)
        return attr_set_error(u, a->code, "attribute flags conflict with the attribute type");
    if (a->len < d->min_len || (d->max_len != ANY && a->len > d->max_len) ||
        (d->multiple && a->len % d->multiple))
        return attr_set_error(u, a->code, "attribute length is wrong for its type");
    switch (a->code) {
    case MM_BGP_ATTR_ORIGIN:
        if (a->val[0] > 2)
            return attr_set_error(u, a->code, "invalid ORIGIN value");
        break;
    case MM_BGP_ATTR_AS_PATH:
        if (aspath_walk(a->val, a->len, u->as4, NULL) < 0)
            return attr_set_error(u, a->code, "malformed AS_PATH");
        break;
    case MM_BGP_ATTR_AS4_PATH:
        if (aspath_walk(a->val, a->len, true, NULL) < 0)
            return attr_set_error(u, a->code, "malformed AS4_PATH");
        break;
    case MM_BGP_ATTR_AGGREGATOR:
        if (a->len != (u->as4 ? 8 : 6))
            return attr_set_error(u, a->code, "AGGREGATOR length does not match the AS size");
        break;
    default:
        break;
    }
    return true;
}

int mm_bgp_update_decode(mm_cursor *body, bool as4, bool addpath, mm_bgp_update *u)
{
    memset(u, 0, sizeof(*u));
    u->as4 = as4;
    u->addpath = addpath;
    mm_cursor wd, attrs;
    mm_cursor_sub(body, mm_cursor_read_u16(body), &wd);
    mm_cursor_sub(body, mm_cursor_read_u16(body), &attrs);
    if (mm_cursor_error(body)) {
        u->error = "withdrawn or path attribute length overruns the message";
        return MM_EMALFORMED;
    }
    u->withdrawn = wd.base;
    u->withdrawn_len = wd.len;
    u->nlri = mm_cursor_ptr(body);
    u->nlri_len = mm_cursor_remaining(body);
    mm_cursor_skip(body, u->nlri_len);

    uint8_t seen[32] = {0};
    while (mm_cursor_remaining(&attrs) > 0) {
        mm_bgp_attr a;
        a.flags = mm_cursor_read_u8(&attrs);
        a.code = mm_cursor_read_u8(&attrs);
        a.len = (a.flags & MM_BGP_ATTR_F_EXTLEN) ? mm_cursor_read_u16(&attrs)
                                                 : mm_cursor_read_u8(&attrs);
        a.val = mm_cursor_ptr(&attrs);
        mm_cursor_skip(&attrs, a.len);
        if (mm_cursor_error(&attrs)) {
            u->error = "path attribute overruns the attribute section";
            return MM_EMALFORMED;
        }
        if (seen[a.code / 8] & (1u << (a.code % 8))) {
            /* RFC 7606 §3(g): duplicates are discarded, except MP_(UN)REACH (session reset). */
            attr_set_error(u, a.code, "duplicate path attribute");
            if (a.code == MM_BGP_ATTR_MP_REACH || a.code == MM_BGP_ATTR_MP_UNREACH)
                return MM_EMALFORMED;
            continue;
        }
        seen[a.code / 8] |= (uint8_t)(1u << (a.code % 8));
        if (u->n_attrs == MM_BGP_UPDATE_MAX_ATTRS) {
            attr_set_error(u, a.code, "more path attributes than the decoder keeps");
            continue;
        }
        u->attrs[u->n_attrs++] = a;
        if (!attr_check(u, &a))
            continue;
        if (a.code == MM_BGP_ATTR_MP_REACH || a.code == MM_BGP_ATTR_MP_UNREACH) {
            mm_bgp_mp *mp = a.code == MM_BGP_ATTR_MP_REACH ? &u->mp_reach : &u->mp_unreach;
            if (mp_decode(&a, mp) < 0) {
                u->error = "malformed MP_REACH/MP_UNREACH header";
                return MM_EMALFORMED;
            }
            /* RFC 7606 §5.3: bad NLRI in MP attributes is a session-level error. */
            if (nlri_check(mp->afi, mp->safi, mp->nlri, mp->nlri_len, addpath) < 0) {
                u->error = "malformed NLRI in MP_REACH/MP_UNREACH";
                return MM_EMALFORMED;
            }
        }
    }
    if (nlri_check(MM_BGP_AFI_IPV4, MM_BGP_SAFI_UNICAST, u->withdrawn, u->withdrawn_len, addpath) <
        0) {
        u->error = "malformed withdrawn routes";
        return MM_EMALFORMED;
    }
    if (nlri_check(MM_BGP_AFI_IPV4, MM_BGP_SAFI_UNICAST, u->nlri, u->nlri_len, addpath) < 0) {
        u->error = "malformed NLRI";
        return MM_EMALFORMED;
    }
    /* RFC 4271 §6.3: NLRI present without the mandatory well-known attributes. */
    if (u->nlri_len && !u->error &&
        (!mm_bgp_update_attr(u, MM_BGP_ATTR_ORIGIN) ||
         !mm_bgp_update_attr(u, MM_BGP_ATTR_AS_PATH) ||
         !mm_bgp_update_attr(u, MM_BGP_ATTR_NEXT_HOP)))
        attr_set_error(u, 0, "missing well-known mandatory attribute");
    return 0;
}

const mm_bgp_attr *mm_bgp_update_attr(const mm_bgp_update *u, uint8_t code)
{
    for (size_t i = 0; i < u->n_attrs; i++)
        if (u->attrs[i].code == code)
            return &u->attrs[i];
    return NULL;
}

bool mm_bgp_update_is_eor(const mm_bgp_update *u)
{
    if (u->withdrawn_len == 0 && u->nlri_len == 0 && u->n_attrs == 0)
        return true;
    return u->n_attrs == 1 && u->mp_unreach.present && u->mp_unreach.nlri_len == 0 &&
           u->withdrawn_len == 0 && u->nlri_len == 0;
}

int mm_bgp_attr_encode(mm_cursor *w, uint8_t flags, uint8_t code, const uint8_t *val, size_t len)
{
    if (len > 0xffff)
        return MM_ELIMIT;
    flags &= (uint8_t)~MM_BGP_ATTR_F_EXTLEN;
    if (len > 255)
        flags |= MM_BGP_ATTR_F_EXTLEN;
    mm_cursor_write_u8(w, flags);
    mm_cursor_write_u8(w, code);
    if (flags & MM_BGP_ATTR_F_EXTLEN)
        mm_cursor_write_u16(w, (uint16_t)len);
    else
        mm_cursor_write_u8(w, (uint8_t)len);
    if (len)
        mm_cursor_write_bytes(w, val, len);
    return mm_cursor_error(w);
}

int mm_bgp_update_encode(mm_cursor *w, const mm_bgp_update *u)
{
    size_t off = mm_bgp_hdr_begin(w, MM_BGP_UPDATE);
    if (u->withdrawn_len > 0xffff)
        return MM_ELIMIT;
    mm_cursor_write_u16(w, (uint16_t)u->withdrawn_len);
    if (u->withdrawn_len)
        mm_cursor_write_bytes(w, u->withdrawn, u->withdrawn_len);
    size_t alen_off = mm_cursor_offset(w);
    mm_cursor_write_u16(w, 0);
    for (size_t i = 0; i < u->n_attrs; i++)
        MM_GUARD(mm_bgp_attr_encode(w, u->attrs[i].flags, u->attrs[i].code, u->attrs[i].val,
                                    u->attrs[i].len));
    MM_GUARD(mm_cursor_error(w));
    size_t alen = mm_cursor_offset(w) - alen_off - 2;
    if (alen > 0xffff)
        return MM_ELIMIT;
    w->base[alen_off] = (uint8_t)(alen >> 8);
    w->base[alen_off + 1] = (uint8_t)alen;
    if (u->nlri_len)
        mm_cursor_write_bytes(w, u->nlri, u->nlri_len);
    mm_bgp_hdr_finish(w, off);
    return mm_cursor_error(w);
}
