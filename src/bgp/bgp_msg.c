/*
 * bgp_msg.c - BGP message header (RFC 4271 §4.1), KEEPALIVE (§4.4),
 * NOTIFICATION (§4.5) and the small name tables.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "mamori/mm_bgp.h"
#include "mamori/mm_core.h"

int mm_bgp_hdr_decode(mm_cursor *c, size_t max_len, mm_bgp_hdr *h, mm_cursor *body)
{
    uint8_t marker[MM_BGP_MARKER_LEN];
    mm_cursor_read_bytes(c, marker, sizeof(marker));
    h->len = mm_cursor_read_u16(c);
    h->type = mm_cursor_read_u8(c);
    MM_GUARD(mm_cursor_error(c));
    /* §4.1: the marker is all ones; anything else is a Connection Not Synchronized error. */
    for (size_t i = 0; i < sizeof(marker); i++)
        if (marker[i] != 0xff)
            return MM_EMALFORMED;
    if (h->len < MM_BGP_HDR_LEN || h->len > max_len)
        return MM_EMALFORMED;
    mm_cursor_sub(c, (size_t)h->len - MM_BGP_HDR_LEN, body);
    return mm_cursor_error(c);
}

size_t mm_bgp_hdr_begin(mm_cursor *w, uint8_t type)
{
    size_t off = mm_cursor_offset(w);
    uint8_t marker[MM_BGP_MARKER_LEN];
    memset(marker, 0xff, sizeof(marker));
    mm_cursor_write_bytes(w, marker, sizeof(marker));
    mm_cursor_write_u16(w, 0);
    mm_cursor_write_u8(w, type);
    return off;
}

void mm_bgp_hdr_finish(mm_cursor *w, size_t hdr_off)
{
    if (mm_cursor_error(w))
        return;
    size_t len = mm_cursor_offset(w) - hdr_off;
    if (len > MM_BGP_EXT_MAX_LEN) {
        mm_cursor_fail(w, MM_ELIMIT);
        return;
    }
    w->base[hdr_off + MM_BGP_MARKER_LEN] = (uint8_t)(len >> 8);
    w->base[hdr_off + MM_BGP_MARKER_LEN + 1] = (uint8_t)len;
}

const char *mm_bgp_msg_type_name(uint8_t type)
{
    static const char *const names[] = {
        [MM_BGP_OPEN] = "open",
        [MM_BGP_UPDATE] = "update",
        [MM_BGP_NOTIFICATION] = "notification",
        [MM_BGP_KEEPALIVE] = "keepalive",
        [MM_BGP_ROUTE_REFRESH] = "route-refresh",
    };
    if (type < sizeof(names) / sizeof(names[0]) && names[type])
        return names[type];
    return "unknown";
}

int mm_bgp_notification_decode(mm_cursor *body, mm_bgp_notification *n)
{
    n->code = mm_cursor_read_u8(body);
    n->subcode = mm_cursor_read_u8(body);
    MM_GUARD(mm_cursor_error(body));
    n->data_len = mm_cursor_remaining(body);
    n->data = mm_cursor_ptr(body);
    mm_cursor_skip(body, n->data_len);
    return 0;
}

int mm_bgp_notification_encode(mm_cursor *w, const mm_bgp_notification *n)
{
    size_t off = mm_bgp_hdr_begin(w, MM_BGP_NOTIFICATION);
    mm_cursor_write_u8(w, n->code);
    mm_cursor_write_u8(w, n->subcode);
    if (n->data_len)
        mm_cursor_write_bytes(w, n->data, n->data_len);
    mm_bgp_hdr_finish(w, off);
    return mm_cursor_error(w);
}

int mm_bgp_keepalive_encode(mm_cursor *w)
{
    size_t off = mm_bgp_hdr_begin(w, MM_BGP_KEEPALIVE);
    mm_bgp_hdr_finish(w, off);
    return mm_cursor_error(w);
}

/* RFC 4271 §4.5 error codes, RFC 7313 for 7. */
const char *mm_bgp_notification_code_name(uint8_t code)
{
    static const char *const names[] = {
        [1] = "Message Header Error",        [2] = "OPEN Message Error",
        [3] = "UPDATE Message Error",        [4] = "Hold Timer Expired",
        [5] = "Finite State Machine Error",  [6] = "Cease",
        [7] = "ROUTE-REFRESH Message Error",
    };
    if (code < sizeof(names) / sizeof(names[0]) && names[code])
        return names[code];
    return "unknown";
}

const char *mm_bgp_afi_name(uint16_t afi)
{
    switch (afi) {
    case MM_BGP_AFI_IPV4:
        return "ipv4";
    case MM_BGP_AFI_IPV6:
        return "ipv6";
    case 25:
        return "l2vpn";
    default:
        return "unknown";
    }
}

const char *mm_bgp_safi_name(uint8_t safi)
{
    switch (safi) {
    case MM_BGP_SAFI_UNICAST:
        return "unicast";
    case MM_BGP_SAFI_MULTICAST:
        return "multicast";
    case 4:
        return "labeled-unicast";
    case 70:
        return "evpn";
    case 128:
        return "vpn";
    case MM_BGP_SAFI_FLOWSPEC:
        return "flowspec";
    case MM_BGP_SAFI_FLOWSPEC_VPN:
        return "flowspec-vpn";
    default:
        return "unknown";
    }
}
