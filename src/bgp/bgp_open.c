/*
 * bgp_open.c - OPEN message (RFC 4271 §4.2) and capabilities (RFC 5492).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "mamori/mm_bgp.h"
#include "mamori/mm_core.h"

/* Capability names, one row per code (IANA "Capability Codes"). */
static const struct {
    uint8_t code;
    const char *name;
} cap_names[] = {
    {MM_BGP_CAP_MP, "multiprotocol"},
    {MM_BGP_CAP_ROUTE_REFRESH, "route-refresh"},
    {3, "outbound-route-filtering"},
    {5, "extended-nexthop"},
    {MM_BGP_CAP_EXT_MSG, "extended-message"},
    {9, "bgp-role"},
    {MM_BGP_CAP_GR, "graceful-restart"},
    {MM_BGP_CAP_AS4, "4-octet-as"},
    {MM_BGP_CAP_ADDPATH, "add-path"},
    {MM_BGP_CAP_ENH_RR, "enhanced-route-refresh"},
    {MM_BGP_CAP_LLGR, "long-lived-graceful-restart"},
    {MM_BGP_CAP_FQDN, "fqdn"},
    {128, "route-refresh-old"},
};

const char *mm_bgp_cap_name(uint8_t code)
{
    for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
        if (cap_names[i].code == code)
            return cap_names[i].name;
    return "unknown";
}

/* Interpret the capabilities the codec's users need (4-octet AS, MP, add-path). */
static void open_cap_apply(mm_bgp_open *o, const mm_bgp_cap *cap)
{
    mm_cursor v;
    mm_cursor_init_read(&v, cap->val, cap->len);
    switch (cap->code) {
    case MM_BGP_CAP_AS4:
        o->as4 = mm_cursor_read_u32(&v);
        o->has_as4 = !mm_cursor_error(&v);
        break;
    case MM_BGP_CAP_MP: {
        uint16_t afi = mm_cursor_read_u16(&v);
        mm_cursor_skip(&v, 1);
        uint8_t safi = mm_cursor_read_u8(&v);
        if (!mm_cursor_error(&v) && o->n_mp < MM_BGP_OPEN_MAX_MP) {
            o->mp[o->n_mp].afi = afi;
            o->mp[o->n_mp].safi = safi;
            o->n_mp++;
        }
        break;
    }
    case MM_BGP_CAP_ROUTE_REFRESH:
        o->route_refresh = true;
        break;
    case MM_BGP_CAP_EXT_MSG:
        o->ext_msg = true;
        break;
    case MM_BGP_CAP_ADDPATH:
        /* RFC 7911 §4: (AFI u16, SAFI u8, send/receive u8) tuples. */
        while (mm_cursor_remaining(&v) >= 4) {
            mm_cursor_skip(&v, 3);
            if (mm_cursor_read_u8(&v) & 0x2)
                o->addpath_any = true;
        }
        break;
    default:
        break;
    }
}

/* One Optional Parameter of type 2 (Capabilities) holds a list of (code, len, value). */
static int open_caps_decode(mm_cursor *p, mm_bgp_open *o)
{
    while (mm_cursor_remaining(p) > 0) {
        mm_bgp_cap cap;
        cap.code = mm_cursor_read_u8(p);
        cap.len = mm_cursor_read_u8(p);
        cap.val = mm_cursor_ptr(p);
        mm_cursor_skip(p, cap.len);
        if (mm_cursor_error(p))
            return MM_EMALFORMED;
        open_cap_apply(o, &cap);
        if (o->n_caps < MM_BGP_OPEN_MAX_CAPS)
            o->caps[o->n_caps++] = cap;
        else
            o->n_caps_dropped++;
    }
    return 0;
}

int mm_bgp_open_decode(mm_cursor *body, mm_bgp_open *o)
{
    memset(o, 0, sizeof(*o));
    o->version = mm_cursor_read_u8(body);
    o->my_as = mm_cursor_read_u16(body);
    o->hold_time = mm_cursor_read_u16(body);
    o->bgp_id = mm_cursor_read_u32(body);
    size_t opt_len = mm_cursor_read_u8(body);
    MM_GUARD(mm_cursor_error(body));
    /*
     * RFC 9072: a first parameter type of 255 announces the extended form
     * (u16 lengths); the u8 length then carries 255 too.
     */
    bool ext = false;
    if (opt_len == 255 && mm_cursor_remaining(body) >= 3 && mm_cursor_ptr(body)[0] == 255) {
        mm_cursor_skip(body, 1);
        opt_len = mm_cursor_read_u16(body);
        ext = true;
    }
    mm_cursor params;
    mm_cursor_sub(body, opt_len, &params);
    if (mm_cursor_error(body) || mm_cursor_remaining(body) != 0)
        return MM_EMALFORMED;
    o->as4 = o->my_as;
    while (mm_cursor_remaining(&params) > 0) {
        uint8_t type = mm_cursor_read_u8(&params);
        size_t len = ext ? mm_cursor_read_u16(&params) : mm_cursor_read_u8(&params);
        mm_cursor pv;
        mm_cursor_sub(&params, len, &pv);
        if (mm_cursor_error(&params))
            return MM_EMALFORMED;
        if (type == 2)
            MM_GUARD(open_caps_decode(&pv, o));
    }
    return 0;
}

int mm_bgp_open_encode(mm_cursor *w, const mm_bgp_open *o)
{
    size_t off = mm_bgp_hdr_begin(w, MM_BGP_OPEN);
    mm_cursor_write_u8(w, o->version ? o->version : 4);
    mm_cursor_write_u16(w, o->my_as);
    mm_cursor_write_u16(w, o->hold_time);
    mm_cursor_write_u32(w, o->bgp_id);
    size_t caps_len = 0;
    for (size_t i = 0; i < o->n_caps; i++)
        caps_len += 2u + o->caps[i].len;
    if (caps_len == 0) {
        mm_cursor_write_u8(w, 0);
    } else {
        if (caps_len + 2 > 255)
            return MM_ELIMIT; /* the RFC 9072 form is not needed by our senders */
        mm_cursor_write_u8(w, (uint8_t)(caps_len + 2));
        mm_cursor_write_u8(w, 2);
        mm_cursor_write_u8(w, (uint8_t)caps_len);
        for (size_t i = 0; i < o->n_caps; i++) {
            mm_cursor_write_u8(w, o->caps[i].code);
            mm_cursor_write_u8(w, o->caps[i].len);
            mm_cursor_write_bytes(w, o->caps[i].val, o->caps[i].len);
        }
    }
    mm_bgp_hdr_finish(w, off);
    return mm_cursor_error(w);
}
