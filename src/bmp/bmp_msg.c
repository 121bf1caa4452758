/*
 * bmp_msg.c - BMP messages (RFC 7854 §4): common header, per-peer header
 * (§4.2 with RFC 8671's O flag and RFC 9069's Loc-RIB peer type), TLVs and
 * the body of every message type. Reader and writer side by side.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "mamori/mm_bmp.h"
#include "mamori/mm_core.h"

const char *mm_bmp_msg_type_name(uint8_t type)
{
    static const char *const names[] = {"route_monitor", "stats", "peer_down",   "peer_up",
                                        "init",          "term",  "route_mirror"};
    return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

const char *mm_bmp_peer_type_name(uint8_t type)
{
    static const char *const names[] = {"Global Instance Peer", "RD Instance Peer",
                                        "Local Instance Peer", "Loc-RIB Instance Peer"};
    return type < sizeof(names) / sizeof(names[0]) ? names[type] : "Unknown";
}

/* RFC 7854 §4.9, RFC 9069 §4.4 (reason 6). */
const char *mm_bmp_peer_down_reason_name(uint8_t reason)
{
    static const char *const names[] = {
        "Reserved",
        "The local system closed the session with a notification message",
        "The local system closed the session without a notification message",
        "The remote system closed the session with a notification message",
        "The remote system closed the session without a notification message",
        ("Information for this peer will no longer be sent to the monitoring station for "
         "configuration reasons"),
        "Local system closed, TLV data follows",
    };
    return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "Unknown";
}

/* ---------------------------------------------------------------- per-peer header */

int mm_bmp_peer_hdr_decode(mm_cursor *c, mm_bmp_peer_hdr *p)
{
    p->type = mm_cursor_read_u8(c);
    p->flags = mm_cursor_read_u8(c);
    mm_cursor_read_bytes(c, p->rd, sizeof(p->rd));
    mm_cursor_read_bytes(c, p->addr, sizeof(p->addr));
    p->as = mm_cursor_read_u32(c);
    p->bgp_id = mm_cursor_read_u32(c);
    p->ts_sec = mm_cursor_read_u32(c);
    p->ts_usec = mm_cursor_read_u32(c);
    return mm_cursor_error(c);
}

void mm_bmp_peer_hdr_encode(mm_cursor *w, const mm_bmp_peer_hdr *p)
{
    mm_cursor_write_u8(w, p->type);
    mm_cursor_write_u8(w, p->flags);
    mm_cursor_write_bytes(w, p->rd, sizeof(p->rd));
    mm_cursor_write_bytes(w, p->addr, sizeof(p->addr));
    mm_cursor_write_u32(w, p->as);
    mm_cursor_write_u32(w, p->bgp_id);
    mm_cursor_write_u32(w, p->ts_sec);
    mm_cursor_write_u32(w, p->ts_usec);
}

void mm_bmp_peer_addr_format(const mm_bmp_peer_hdr *p, char *out, size_t outlen)
{
    const void *a = mm_bmp_peer_is_v6(p) ? (const void *)p->addr : (const void *)(p->addr + 12);
    if (!inet_ntop(mm_bmp_peer_is_v6(p) ? AF_INET6 : AF_INET, a, out, (socklen_t)outlen))
        snprintf(out, outlen, "?");
}

/* ---------------------------------------------------------------- TLVs */

int mm_bmp_tlv_next(mm_cursor *c, mm_bmp_tlv *t)
{
    if (mm_cursor_error(c))
        return MM_ETRUNC;
    if (mm_cursor_remaining(c) == 0)
        return 0;
    t->type = mm_cursor_read_u16(c);
    t->len = mm_cursor_read_u16(c);
    t->val = mm_cursor_ptr(c);
    mm_cursor_skip(c, t->len);
    return mm_cursor_error(c) ? MM_ETRUNC : 1;
}

void mm_bmp_tlv_encode(mm_cursor *w, uint16_t type, const void *val, size_t len)
{
    if (len > 0xffff) {
        mm_cursor_fail(w, MM_ELIMIT);
        return;
    }
    mm_cursor_write_u16(w, type);
    mm_cursor_write_u16(w, (uint16_t)len);
    if (len)
        mm_cursor_write_bytes(w, val, len);
}

/* ---------------------------------------------------------------- common header */

int mm_bmp_hdr_peek(const uint8_t *p, size_t avail, size_t max_len, uint32_t *len, uint8_t *type)
{
    if (avail < MM_BMP_HDR_LEN)
        return MM_EAGAIN;
    mm_cursor c;
    mm_cursor_init_read(&c, p, MM_BMP_HDR_LEN);
    uint8_t version = mm_cursor_read_u8(&c);
    *len = mm_cursor_read_u32(&c);
    *type = mm_cursor_read_u8(&c);
    if (version != MM_BMP_VERSION)
        return MM_EUNSUPPORTED;
    if (*len < MM_BMP_HDR_LEN)
        return MM_EMALFORMED;
    if (*len > max_len)
        return MM_ELIMIT;
    return 0;
}

size_t mm_bmp_msg_begin(mm_cursor *w, uint8_t type)
{
    size_t off = mm_cursor_offset(w);
    mm_cursor_write_u8(w, MM_BMP_VERSION);
    mm_cursor_write_u32(w, 0);
    mm_cursor_write_u8(w, type);
    return off;
}

int mm_bmp_msg_finish(mm_cursor *w, size_t off)
{
    MM_GUARD(mm_cursor_error(w));
    size_t len = mm_cursor_offset(w) - off;
    if (len > UINT32_MAX)
        return MM_ELIMIT;
    uint8_t *p = w->base + off + 1;
    p[0] = (uint8_t)(len >> 24);
    p[1] = (uint8_t)(len >> 16);
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    return 0;
}

/* ---------------------------------------------------------------- bodies */

static int fail(mm_bmp_msg *m, int rc, const char *why)
{
    m->error = why;
    return rc;
}

/* A list of TLVs must tile the rest of the message exactly. */
static int tlvs_take(mm_cursor *body, mm_bmp_msg *m, const char *what)
{
    mm_cursor_sub(body, mm_cursor_remaining(body), &m->tlvs);
    mm_cursor walk = m->tlvs;
    mm_bmp_tlv t;
    int rc;
    while ((rc = mm_bmp_tlv_next(&walk, &t)) > 0)
        ;
    return rc < 0 ? fail(m, MM_ETRUNC, what) : 0;
}

/* One complete BGP PDU of a given type: header checked, bounded by the message. */
static int bgp_pdu_take(mm_cursor *body, uint8_t want_type, const uint8_t **pdu, size_t *pdu_len)
{
    const uint8_t *start = mm_cursor_ptr(body);
    size_t before = mm_cursor_remaining(body);
    mm_bgp_hdr h;
    mm_cursor bgp_body;
    if (mm_bgp_hdr_decode(body, MM_BGP_EXT_MAX_LEN, &h, &bgp_body) < 0)
        return MM_EMALFORMED;
    if (h.type != want_type)
        return MM_EMALFORMED;
    *pdu = start;
    *pdu_len = before - mm_cursor_remaining(body);
    return 0;
}

/* Do all address families the UPDATE carries use path ids as want says (none carried: yes)? */
static bool addpath_agrees(const mm_bmp_addpath *ap, const mm_bmp_peer_hdr *peer,
                           const mm_bgp_update *u, bool want)
{
    if ((u->withdrawn_len || u->nlri_len) &&
        mm_bmp_addpath_get(ap, peer, MM_BGP_AFI_IPV4, MM_BGP_SAFI_UNICAST) != want)
        return false;
    const mm_bgp_mp *mps[2] = {&u->mp_reach, &u->mp_unreach};
    for (int i = 0; i < 2; i++)
        if (mps[i]->present && mps[i]->nlri_len &&
            mm_bmp_addpath_get(ap, peer, mps[i]->afi, mps[i]->safi) != want)
            return false;
    return true;
}

int mm_bmp_update_addpath(const mm_bmp_addpath *ap, const mm_bmp_peer_hdr *peer, const uint8_t *pdu,
                          size_t len, bool *addpath, const char **error)
{
    mm_cursor c, ub;
    mm_bgp_hdr h;
    mm_bgp_update u;
    u.error = NULL;
    *addpath = false;
    *error = "malformed BGP UPDATE";
    bool as4 = mm_bmp_peer_as4(peer);
    mm_cursor_init_read(&c, pdu, len);
    if (mm_bgp_hdr_decode(&c, MM_BGP_EXT_MAX_LEN, &h, &ub) < 0)
        return MM_EMALFORMED;
    mm_cursor ub2 = ub;
    int rc0 = mm_bgp_update_decode(&ub, as4, false, &u);
    const char *err0 = u.error ? u.error : *error;
    if (mm_bmp_addpath_count(ap) == 0) {
        *error = err0;
        return rc0 < 0 ? MM_EMALFORMED : 0;
    }
    /*
     * Add-Path was negotiated for some address family of this router's
     * peers (Peer Up): the path ids are decided per AFI/SAFI, and the
     * UPDATE's families must agree (an UPDATE mixing both kinds cannot be
     * described by one decode context).
     */
    if (rc0 == 0 && addpath_agrees(ap, peer, &u, false))
        return 0;
    bool parsed0 = rc0 == 0;
    int rc1 = mm_bgp_update_decode(&ub2, as4, true, &u);
    if (rc1 == 0 && addpath_agrees(ap, peer, &u, true)) {
        *addpath = true;
        return 0;
    }
    if (parsed0 && rc1 == 0)
        *error = "UPDATE mixes address families with and without Add-Path path identifiers";
    else if (parsed0)
        *error = "NLRI do not carry the Add-Path path identifiers the Peer Up negotiated";
    else
        *error = err0;
    return MM_EMALFORMED;
}

static int route_monitoring_decode(mm_cursor *body, mm_bmp_msg *m, const mm_bmp_addpath *ap)
{
    if (bgp_pdu_take(body, MM_BGP_UPDATE, &m->bgp, &m->bgp_len) < 0)
        return fail(m, MM_EMALFORMED, "route monitoring does not carry one well-formed BGP UPDATE");
    if (mm_cursor_remaining(body) != 0)
        return fail(m, MM_EMALFORMED, "bytes after the BGP UPDATE in route monitoring");
    /*
     * The UPDATE's own structure (lengths, NLRI) is checked here so that a
     * garbage UPDATE is a counted, logged message error; attribute-level
     * problems stay with the route (attr_error in the JSON).
     */
    const char *err;
    if (mm_bmp_update_addpath(ap, &m->peer, m->bgp, m->bgp_len, &m->addpath, &err) < 0)
        return fail(m, MM_EMALFORMED, err);
    return 0;
}

static int stats_decode(mm_cursor *body, mm_bmp_msg *m)
{
    m->stats_count = mm_cursor_read_u32(body);
    if (mm_cursor_error(body))
        return fail(m, MM_ETRUNC, "statistics report shorter than its stats count");
    mm_cursor_sub(body, mm_cursor_remaining(body), &m->stats);
    mm_cursor walk = m->stats;
    mm_bmp_stat s;
    uint32_t n = 0;
    /* RFC 7854 §4.8: count records, each skipped by its own length. */
    while (n < m->stats_count) {
        int rc = mm_bmp_stat_next(&walk, &s);
        if (rc < 0)
            return fail(m, MM_ETRUNC, "statistic record overruns the message");
        if (rc == 0)
            return fail(m, MM_ETRUNC, "stats count larger than the records in the message");
        n++;
    }
    if (mm_cursor_remaining(&walk) != 0)
        return fail(m, MM_EMALFORMED, "bytes after the last statistic of the stats count");
    return 0;
}

static int peer_down_decode(mm_cursor *body, mm_bmp_msg *m)
{
    m->down_reason = mm_cursor_read_u8(body);
    if (mm_cursor_error(body))
        return fail(m, MM_ETRUNC, "peer down without a reason");
    switch (m->down_reason) {
    case 1:
    case 3:
        if (bgp_pdu_take(body, MM_BGP_NOTIFICATION, &m->bgp, &m->bgp_len) < 0)
            return fail(m, MM_EMALFORMED,
                        "peer down reason 1/3 without a well-formed NOTIFICATION");
        break;
    case 2:
        m->down_fsm_event = mm_cursor_read_u16(body);
        if (mm_cursor_error(body))
            return fail(m, MM_ETRUNC, "peer down reason 2 without its FSM event code");
        break;
    case 6:
        return tlvs_take(body, m, "peer down TLV overruns the message");
    default:
        break;
    }
    return 0; /* RFC 7854 §4.9: other reasons carry no data; extra bytes are ignored */
}

static int peer_up_decode(mm_cursor *body, mm_bmp_msg *m)
{
    mm_cursor_read_bytes(body, m->local_addr, sizeof(m->local_addr));
    m->local_port = mm_cursor_read_u16(body);
    m->remote_port = mm_cursor_read_u16(body);
    if (mm_cursor_error(body))
        return fail(m, MM_ETRUNC, "peer up shorter than its fixed fields");
    if (bgp_pdu_take(body, MM_BGP_OPEN, &m->open_sent, &m->open_sent_len) < 0)
        return fail(m, MM_EMALFORMED, "peer up sent OPEN is not a well-formed BGP OPEN");
    if (bgp_pdu_take(body, MM_BGP_OPEN, &m->open_recv, &m->open_recv_len) < 0)
        return fail(m, MM_EMALFORMED, "peer up received OPEN is not a well-formed BGP OPEN");
    return tlvs_take(body, m, "peer up information TLV overruns the message");
}

int mm_bmp_msg_decode(const uint8_t *p, size_t len, mm_bmp_msg *m)
{
    return mm_bmp_msg_decode_ap(p, len, NULL, m);
}

int mm_bmp_msg_decode_ap(const uint8_t *p, size_t len, const mm_bmp_addpath *ap, mm_bmp_msg *m)
{
    memset(m, 0, sizeof(*m));
    uint32_t hlen;
    int rc = mm_bmp_hdr_peek(p, len, UINT32_MAX, &hlen, &m->type);
    if (rc == MM_EAGAIN)
        return fail(m, MM_ETRUNC, "shorter than the common header");
    if (rc == MM_EUNSUPPORTED)
        return fail(m, rc, "unsupported BMP version");
    if (rc < 0 || hlen != len)
        return fail(m, MM_EMALFORMED, "message length does not match the bytes given");
    m->version = p[0];
    m->len = hlen;
    mm_cursor c;
    mm_cursor_init_read(&c, p + MM_BMP_HDR_LEN, len - MM_BMP_HDR_LEN);
    switch (m->type) {
    case MM_BMP_INITIATION:
        return tlvs_take(&c, m, "initiation TLV overruns the message");
    case MM_BMP_TERMINATION:
        return tlvs_take(&c, m, "termination TLV overruns the message");
    case MM_BMP_ROUTE_MONITORING:
    case MM_BMP_STATS_REPORT:
    case MM_BMP_PEER_DOWN:
    case MM_BMP_PEER_UP:
    case MM_BMP_ROUTE_MIRRORING:
        break;
    default:
        return fail(m, MM_EUNSUPPORTED, "unknown BMP message type");
    }
    if (mm_bmp_peer_hdr_decode(&c, &m->peer) < 0)
        return fail(m, MM_ETRUNC, "truncated per-peer header");
    m->has_peer = true;
    switch (m->type) {
    case MM_BMP_ROUTE_MONITORING:
        return route_monitoring_decode(&c, m, ap);
    case MM_BMP_STATS_REPORT:
        return stats_decode(&c, m);
    case MM_BMP_PEER_DOWN:
        return peer_down_decode(&c, m);
    case MM_BMP_PEER_UP:
        return peer_up_decode(&c, m);
    default:
        return tlvs_take(&c, m, "route mirroring TLV overruns the message");
    }
}
