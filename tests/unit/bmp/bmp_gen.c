/*
 * bmp_gen.c - synthetic BMP messages (see bmp_gen.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "bmp_gen.h"
#include "mamori/mm_core.h"

void bmp_gen_peer(mm_bmp_peer_hdr *p, uint8_t type, uint8_t flags, unsigned n)
{
    memset(p, 0, sizeof(*p));
    p->type = type;
    p->flags = flags;
    if (flags & MM_BMP_PEER_F_V && type != MM_BMP_PEER_LOC_RIB) {
        const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                0,    0,    0,    0,    0, 0, 0, (uint8_t)n};
        memcpy(p->addr, v6, 16);
    } else if (type != MM_BMP_PEER_LOC_RIB) {
        p->addr[12] = 192;
        p->addr[14] = 2;
        p->addr[15] = (uint8_t)n;
    }
    if (type == MM_BMP_PEER_RD)
        p->rd[7] = (uint8_t)n;
    p->as = 65000 + n;
    p->bgp_id = 0x0a000000u + n;
    p->ts_sec = 1764763200u + n;
    p->ts_usec = 1000u * n;
}

int bmp_gen_initiation(mm_cursor *w, const char *sysname, const char *sysdescr)
{
    size_t off = mm_bmp_msg_begin(w, MM_BMP_INITIATION);
    mm_bmp_tlv_encode(w, MM_BMP_INFO_SYSDESCR, sysdescr, strlen(sysdescr));
    mm_bmp_tlv_encode(w, MM_BMP_INFO_SYSNAME, sysname, strlen(sysname));
    mm_bmp_tlv_encode(w, MM_BMP_INFO_STRING, "synthetic", 9);
    return mm_bmp_msg_finish(w, off);
}

int bmp_gen_termination(mm_cursor *w, uint16_t reason)
{
    size_t off = mm_bmp_msg_begin(w, MM_BMP_TERMINATION);
    mm_bmp_tlv_encode(w, MM_BMP_INFO_STRING, "bye", 3);
    uint8_t r[2] = {(uint8_t)(reason >> 8), (uint8_t)reason};
    mm_bmp_tlv_encode(w, MM_BMP_TERM_REASON, r, 2);
    return mm_bmp_msg_finish(w, off);
}

/* OPEN with MP IPv4+IPv6, AS4, route refresh; addpath_sr != 0 adds Add-Path (IPv4 unicast). */
static int gen_open_ap(mm_cursor *w, uint32_t as, uint32_t id, uint8_t addpath_sr)
{
    static const uint8_t mp4[] = {0, 1, 0, 1}, mp6[] = {0, 2, 0, 1};
    uint8_t as4[4] = {(uint8_t)(as >> 24), (uint8_t)(as >> 16), (uint8_t)(as >> 8), (uint8_t)as};
    mm_bgp_open o;
    memset(&o, 0, sizeof(o));
    o.version = 4;
    o.my_as = as > 0xffff ? 23456 : (uint16_t)as;
    o.hold_time = 90;
    o.bgp_id = id;
    o.caps[0] = (mm_bgp_cap){MM_BGP_CAP_MP, 4, mp4};
    o.caps[1] = (mm_bgp_cap){MM_BGP_CAP_MP, 4, mp6};
    o.caps[2] = (mm_bgp_cap){MM_BGP_CAP_AS4, 4, as4};
    o.caps[3] = (mm_bgp_cap){MM_BGP_CAP_ROUTE_REFRESH, 0, NULL};
    o.n_caps = 4;
    /* RFC 7911 §4: AFI 1, SAFI 1, Send/Receive. */
    const uint8_t ap[4] = {0, 1, 1, addpath_sr};
    if (addpath_sr)
        o.caps[o.n_caps++] = (mm_bgp_cap){MM_BGP_CAP_ADDPATH, 4, ap};
    return mm_bgp_open_encode(w, &o);
}

int bmp_gen_peer_up(mm_cursor *w, const mm_bmp_peer_hdr *p, const char *table_name)
{
    return bmp_gen_peer_up_addpath(w, p, table_name, 0, 0);
}

int bmp_gen_peer_up_addpath(mm_cursor *w, const mm_bmp_peer_hdr *p, const char *table_name,
                            uint8_t sent_sr, uint8_t recv_sr)
{
    size_t off = mm_bmp_msg_begin(w, MM_BMP_PEER_UP);
    mm_bmp_peer_hdr_encode(w, p);
    uint8_t local[16] = {0};
    if (p->type != MM_BMP_PEER_LOC_RIB) {
        local[12] = 192, local[14] = 2, local[15] = 1;
    }
    mm_cursor_write_bytes(w, local, 16);
    mm_cursor_write_u16(w, p->type == MM_BMP_PEER_LOC_RIB ? 0 : 179);
    mm_cursor_write_u16(w, p->type == MM_BMP_PEER_LOC_RIB ? 0 : 40000);
    MM_GUARD(gen_open_ap(w, 65001, 0x0a000001, sent_sr));
    MM_GUARD(gen_open_ap(w, p->as, p->bgp_id, recv_sr));
    if (table_name)
        mm_bmp_tlv_encode(w, MM_BMP_INFO_VRF_TABLE_NAME, table_name, strlen(table_name));
    return mm_bmp_msg_finish(w, off);
}

int bmp_gen_peer_down(mm_cursor *w, const mm_bmp_peer_hdr *p, uint8_t reason)
{
    size_t off = mm_bmp_msg_begin(w, MM_BMP_PEER_DOWN);
    mm_bmp_peer_hdr_encode(w, p);
    mm_cursor_write_u8(w, reason);
    if (reason == 1 || reason == 3) {
        mm_bgp_notification n = {6, 2, (const uint8_t *)"\x05shut", 5};
        MM_GUARD(mm_bgp_notification_encode(w, &n));
    } else if (reason == 2) {
        mm_cursor_write_u16(w, 7);
    } else if (reason == 6) {
        mm_bmp_tlv_encode(w, MM_BMP_INFO_VRF_TABLE_NAME, "global", 6);
    }
    return mm_bmp_msg_finish(w, off);
}

/* Path attributes shared by the synthetic UPDATEs. */
static void gen_attrs(mm_cursor *a, uint32_t peer_as)
{
    uint8_t v[64];
    mm_cursor t;
    v[0] = 0; /* IGP */
    mm_bgp_attr_encode(a, 0x40, MM_BGP_ATTR_ORIGIN, v, 1);
    mm_cursor_init_write(&t, v, sizeof(v));
    mm_cursor_write_u8(&t, 2); /* AS_SEQUENCE of 2 */
    mm_cursor_write_u8(&t, 2);
    mm_cursor_write_u32(&t, peer_as);
    mm_cursor_write_u32(&t, 4200000000u);
    mm_cursor_write_u8(&t, 1); /* AS_SET of 2 */
    mm_cursor_write_u8(&t, 2);
    mm_cursor_write_u32(&t, 64512);
    mm_cursor_write_u32(&t, 64513);
    mm_bgp_attr_encode(a, 0x40, MM_BGP_ATTR_AS_PATH, v, mm_cursor_offset(&t));
    mm_cursor_init_write(&t, v, sizeof(v));
    mm_cursor_write_u32(&t, 100);
    mm_bgp_attr_encode(a, 0x80, MM_BGP_ATTR_MED, v, 4);
    mm_cursor_init_write(&t, v, sizeof(v));
    mm_cursor_write_u32(&t, (65001u << 16) | 1);
    mm_cursor_write_u32(&t, (65001u << 16) | 2);
    mm_bgp_attr_encode(a, 0xc0, MM_BGP_ATTR_COMMUNITIES, v, 8);
    static const uint8_t ec[16] = {0x00, 0x02, 0xfd, 0xe8, 0,    0,    0,    100, /* rt:65000:100 */
                                   0x81, 0xaa, 0x00, 0x01, 0x12, 0x34, 0x56, 0x0f}; /* opaque */
    mm_bgp_attr_encode(a, 0xc0, MM_BGP_ATTR_EXT_COMMUNITIES, ec, 16);
    mm_cursor_init_write(&t, v, sizeof(v));
    mm_cursor_write_u32(&t, 4200000000u);
    mm_cursor_write_u32(&t, 1);
    mm_cursor_write_u32(&t, 2);
    mm_bgp_attr_encode(a, 0xc0, MM_BGP_ATTR_LARGE_COMMUNITIES, v, 12);
}

int bmp_gen_route_monitoring_v4(mm_cursor *w, const mm_bmp_peer_hdr *p, unsigned n)
{
    return bmp_gen_route_monitoring_v4_ap(w, p, n, NULL, 0);
}

int bmp_gen_route_monitoring_v4_ap(mm_cursor *w, const mm_bmp_peer_hdr *p, unsigned n,
                                   const uint32_t *path_ids, size_t n_ids)
{
    uint8_t attrs[256], nlri[128];
    mm_cursor a;
    mm_cursor_init_write(&a, attrs, sizeof(attrs));
    gen_attrs(&a, p->as);
    static const uint8_t nh[4] = {10, 0, 0, 1};
    mm_bgp_attr_encode(&a, 0x40, MM_BGP_ATTR_NEXT_HOP, nh, 4);
    mm_bgp_prefix pfx = {.afi = 1, .len = 16, .addr = {10, (uint8_t)n}};
    mm_cursor nc;
    mm_cursor_init_write(&nc, nlri, sizeof(nlri));
    if (!path_ids)
        mm_bgp_nlri_encode(&nc, &pfx, false);
    /* RFC 7911 §3: the same prefix once per path, each with its Path Identifier. */
    for (size_t i = 0; path_ids && i < n_ids; i++) {
        pfx.path_id = path_ids[i];
        mm_bgp_nlri_encode(&nc, &pfx, true);
    }
    MM_GUARD(mm_cursor_error(&nc));
    MM_GUARD(mm_cursor_error(&a));
    mm_bgp_update u;
    memset(&u, 0, sizeof(u));
    mm_cursor ac;
    mm_cursor_init_read(&ac, attrs, mm_cursor_offset(&a));
    /* Re-read the attributes we just wrote so that the UPDATE encoder lays them out. */
    while (mm_cursor_remaining(&ac) > 0) {
        mm_bgp_attr *at = &u.attrs[u.n_attrs++];
        at->flags = mm_cursor_read_u8(&ac);
        at->code = mm_cursor_read_u8(&ac);
        at->len = mm_cursor_read_u8(&ac);
        at->val = mm_cursor_ptr(&ac);
        mm_cursor_skip(&ac, at->len);
    }
    u.nlri = nlri;
    u.nlri_len = mm_cursor_offset(&nc);
    size_t off = mm_bmp_msg_begin(w, MM_BMP_ROUTE_MONITORING);
    mm_bmp_peer_hdr_encode(w, p);
    MM_GUARD(mm_bgp_update_encode(w, &u));
    return mm_bmp_msg_finish(w, off);
}

int bmp_gen_route_monitoring_v6(mm_cursor *w, const mm_bmp_peer_hdr *p, unsigned n)
{
    uint8_t mp[64];
    mm_cursor m;
    mm_cursor_init_write(&m, mp, sizeof(mp));
    mm_cursor_write_u16(&m, MM_BGP_AFI_IPV6);
    mm_cursor_write_u8(&m, MM_BGP_SAFI_UNICAST);
    const uint8_t nh[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    mm_cursor_write_u8(&m, 16);
    mm_cursor_write_bytes(&m, nh, 16);
    mm_cursor_write_u8(&m, 0);
    mm_bgp_prefix pfx = {.afi = 2, .len = 48, .addr = {0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)n}};
    mm_bgp_nlri_encode(&m, &pfx, false);
    uint8_t attrs[256];
    mm_cursor a;
    mm_cursor_init_write(&a, attrs, sizeof(attrs));
    gen_attrs(&a, p->as);
    mm_bgp_attr_encode(&a, 0x80, MM_BGP_ATTR_MP_REACH, mp, mm_cursor_offset(&m));
    MM_GUARD(mm_cursor_error(&a));
    size_t off = mm_bmp_msg_begin(w, MM_BMP_ROUTE_MONITORING);
    mm_bmp_peer_hdr_encode(w, p);
    size_t hoff = mm_bgp_hdr_begin(w, MM_BGP_UPDATE);
    mm_cursor_write_u16(w, 0);
    mm_cursor_write_u16(w, (uint16_t)mm_cursor_offset(&a));
    mm_cursor_write_bytes(w, attrs, mm_cursor_offset(&a));
    mm_bgp_hdr_finish(w, hoff);
    return mm_bmp_msg_finish(w, off);
}

int bmp_gen_stats_all(mm_cursor *w, const mm_bmp_peer_hdr *p, uint64_t base)
{
    size_t n;
    const mm_bmp_stat_type *t = mm_bmp_stat_types(&n);
    size_t off = mm_bmp_msg_begin(w, MM_BMP_STATS_REPORT);
    mm_bmp_peer_hdr_encode(w, p);
    mm_cursor_write_u32(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        MM_GUARD(mm_bmp_stat_encode(w, t[i].type, base + t[i].type, MM_BGP_AFI_IPV6,
                                    MM_BGP_SAFI_UNICAST));
    return mm_bmp_msg_finish(w, off);
}

int bmp_gen_route_mirroring(mm_cursor *w, const mm_bmp_peer_hdr *p)
{
    uint8_t ka[MM_BGP_HDR_LEN];
    mm_cursor k;
    mm_cursor_init_write(&k, ka, sizeof(ka));
    mm_bgp_keepalive_encode(&k);
    size_t off = mm_bmp_msg_begin(w, MM_BMP_ROUTE_MIRRORING);
    mm_bmp_peer_hdr_encode(w, p);
    mm_bmp_tlv_encode(w, MM_BMP_MIRROR_BGP_MSG, ka, sizeof(ka));
    mm_bmp_tlv_encode(w, MM_BMP_MIRROR_INFO, "\x00\x01", 2);
    return mm_bmp_msg_finish(w, off);
}
