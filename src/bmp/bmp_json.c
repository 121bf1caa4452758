/*
 * bmp_json.c - JSON Lines rendering of decoded BMP messages. Field names
 * follow pmacct pmbmpd (bmp_msg_type, peer_ip, counter_type, ...) where a
 * field exists in both, so existing pipelines read our output unchanged.
 * Written straight into an mm_buf (no DOM): this is the collector's hot path.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mamori/mm_bmp.h"
#include "mamori/mm_core.h"

/* ---------------------------------------------------------------- tiny JSON writer */

static int j_key(mm_buf *b, const char *k)
{
    MM_GUARD(mm_buf_append(b, ",\"", 2));
    MM_GUARD(mm_buf_append_str(b, k));
    return mm_buf_append(b, "\":", 2);
}

/* Strings from the wire are escaped; bytes >= 0x80 become \u00XX so the line is always valid JSON.
 */
static int j_strn(mm_buf *b, const char *k, const uint8_t *s, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    MM_GUARD(j_key(b, k));
    MM_GUARD(mm_buf_reserve(b, n * 6 + 2));
    uint8_t *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = s[i];
        if (ch == '"' || ch == '\\') {
            *o++ = '\\';
            *o++ = ch;
        } else if (ch < 0x20 || ch >= 0x7f) {
            memcpy(o, "\\u00", 4);
            o[4] = (uint8_t)hexd[ch >> 4];
            o[5] = (uint8_t)hexd[ch & 15];
            o += 6;
        } else {
            *o++ = ch;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return 0;
}

static int j_str(mm_buf *b, const char *k, const char *s)
{
    return j_strn(b, k, (const uint8_t *)s, strlen(s));
}

static int j_u64(mm_buf *b, const char *k, uint64_t v)
{
    MM_GUARD(j_key(b, k));
    return mm_buf_append_u64(b, v);
}

static int j_hex(mm_buf *b, const char *k, const uint8_t *p, size_t n, bool dashed)
{
    static const char hexd[] = "0123456789abcdef";
    MM_GUARD(j_key(b, k));
    MM_GUARD(mm_buf_reserve(b, n * 3 + 2));
    uint8_t *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (dashed && i)
            *o++ = '-';
        *o++ = (uint8_t)hexd[p[i] >> 4];
        *o++ = (uint8_t)hexd[p[i] & 15];
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return 0;
}

/*
 * "YYYY-MM-DD HH:MM:SS.uuuuuu" (UTC) like pmacct. The date part is formatted
 * once per second per slot (0 router timestamp, 1 arrival): lines of one
 * message or burst share their seconds, and snprintf/gmtime dominate otherwise.
 */
static int j_time(mm_bmp_json_ctx *ctx, int slot, mm_buf *b, const char *k, int64_t sec,
                  int64_t usec)
{
    char ts[40];
    if (sec <= 0)
        return j_str(b, k, "0000-00-00 00:00:00.000000");
    if (ctx->ts_sec_cache[slot] != sec || !ctx->ts_text_cache[slot][0]) {
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(ctx->ts_text_cache[slot], sizeof(ctx->ts_text_cache[slot]),
                 "%04d-%02d-%02d %02d:%02d:%02d.", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        ctx->ts_sec_cache[slot] = sec;
    }
    size_t n = strlen(ctx->ts_text_cache[slot]);
    memcpy(ts, ctx->ts_text_cache[slot], n);
    uint32_t us = (uint32_t)(usec % 1000000);
    for (int i = 5; i >= 0; i--, us /= 10)
        ts[n + (size_t)i] = (char)('0' + us % 10);
    ts[n + 6] = 0;
    return j_str(b, k, ts);
}

static int j_peer(const mm_bmp_msg *m, mm_buf *b)
{
    const mm_bmp_peer_hdr *p = &m->peer;
    char a[INET6_ADDRSTRLEN];
    mm_bmp_peer_addr_format(p, a, sizeof(a));
    MM_GUARD(j_str(b, "peer_ip", a));
    MM_GUARD(j_u64(b, "peer_asn", p->as));
    MM_GUARD(j_u64(b, "peer_type", p->type));
    MM_GUARD(j_str(b, "peer_type_str", mm_bmp_peer_type_name(p->type)));
    static const uint8_t zero_rd[8];
    if (memcmp(p->rd, zero_rd, 8) != 0)
        MM_GUARD(j_hex(b, "rd", p->rd, 8, false));
    char id[INET_ADDRSTRLEN];
    uint32_t nid = htonl(p->bgp_id);
    inet_ntop(AF_INET, &nid, id, sizeof(id));
    MM_GUARD(j_str(b, "bgp_id", id));
    if (p->type == MM_BMP_PEER_LOC_RIB) {
        MM_GUARD(j_u64(b, "is_loc", 1));
        return j_u64(b, "is_filtered", (p->flags & MM_BMP_PEER_F_LOCRIB_F) ? 1 : 0);
    }
    MM_GUARD(j_u64(b, "is_post", mm_bmp_peer_is_post(p) ? 1 : 0));
    /* RFC 8671: O set means Adj-RIB-Out; pmacct's is_in/is_out keep that split. */
    if (mm_bmp_peer_is_out(p))
        return j_u64(b, "is_out", 1);
    return j_u64(b, "is_in", 1);
}

/*
 * The fields every line starts with: seq, then timestamps, router, message
 * type and the per-peer fields, which are the same for every line of one
 * message and are rendered once per message (ctx->pre).
 */
static int j_common(mm_bmp_json_ctx *ctx, const mm_bmp_msg *m, const char *type, mm_buf *b)
{
    if (m && m->has_peer)
        MM_GUARD(j_time(ctx, 0, b, "timestamp", m->peer.ts_sec, m->peer.ts_usec));
    else
        MM_GUARD(j_time(ctx, 0, b, "timestamp", 0, 0));
    MM_GUARD(j_time(ctx, 1, b, "timestamp_arrival", ctx->arrival_us / 1000000,
                    ctx->arrival_us % 1000000));
    MM_GUARD(j_str(b, "bmp_router", ctx->router ? ctx->router : ""));
    MM_GUARD(j_u64(b, "bmp_router_port", ctx->router_port));
    MM_GUARD(j_str(b, "bmp_msg_type", type));
    return m && m->has_peer ? j_peer(m, b) : 0;
}

static int j_begin(mm_bmp_json_ctx *ctx, const mm_bmp_msg *m, const char *type, mm_buf *b)
{
    MM_GUARD(mm_buf_append_str(b, "{\"event_type\":\"log\""));
    MM_GUARD(j_u64(b, "seq", ctx->seq++));
    if (ctx->pre_gen == ctx->msg_gen && ctx->pre_type == type)
        return mm_buf_append(b, ctx->pre, ctx->pre_len);
    size_t start = b->len;
    MM_GUARD(j_common(ctx, m, type, b));
    if (b->len - start <= sizeof(ctx->pre)) {
        memcpy(ctx->pre, b->data + start, b->len - start);
        ctx->pre_len = b->len - start;
        ctx->pre_gen = ctx->msg_gen;
        ctx->pre_type = type;
    }
    return 0;
}

static int j_end(mm_buf *b)
{
    return mm_buf_append(b, "}\n", 2);
}

/* ---------------------------------------------------------------- per type */

static int render_info_tlvs(const mm_bmp_msg *m, const char *prefix, mm_buf *b)
{
    static const char *const names[] = {"string", "sysdescr", "sysname", "table_name",
                                        "admin_label"};
    mm_cursor c = m->tlvs;
    mm_bmp_tlv t;
    char key[64];
    while (mm_bmp_tlv_next(&c, &t) > 0) {
        if (m->type == MM_BMP_TERMINATION && t.type == MM_BMP_TERM_REASON && t.len == 2) {
            MM_GUARD(j_u64(b, "bmp_term_info_reason", (uint64_t)t.val[0] << 8 | t.val[1]));
            continue;
        }
        if (t.type < 5 && !(m->type == MM_BMP_TERMINATION && t.type > 0))
            snprintf(key, sizeof(key), "%s_%s", prefix, names[t.type]);
        else
            snprintf(key, sizeof(key), "%s_%u", prefix, t.type);
        MM_GUARD(j_strn(b, key, t.val, t.len));
    }
    return 0;
}

static int render_simple(mm_bmp_json_ctx *ctx, const mm_bmp_msg *m, mm_buf *b)
{
    MM_GUARD(j_begin(ctx, m, mm_bmp_msg_type_name(m->type), b));
    if (m->type == MM_BMP_INITIATION)
        MM_GUARD(render_info_tlvs(m, "bmp_init_info", b));
    if (m->type == MM_BMP_TERMINATION)
        MM_GUARD(render_info_tlvs(m, "bmp_term_info", b));
    MM_GUARD(j_end(b));
    return 1;
}

static int render_open(const char *prefix, const uint8_t *pdu, size_t len, mm_buf *b)
{
    mm_cursor c, body;
    mm_bgp_hdr h;
    mm_bgp_open o;
    char key[64];
    mm_cursor_init_read(&c, pdu, len);
    if (mm_bgp_hdr_decode(&c, MM_BGP_EXT_MAX_LEN, &h, &body) < 0 ||
        mm_bgp_open_decode(&body, &o) < 0) {
        snprintf(key, sizeof(key), "%s_error", prefix);
        return j_str(b, key, "malformed OPEN");
    }
    snprintf(key, sizeof(key), "%s_asn", prefix);
    MM_GUARD(j_u64(b, key, o.as4));
    snprintf(key, sizeof(key), "%s_hold_time", prefix);
    MM_GUARD(j_u64(b, key, o.hold_time));
    snprintf(key, sizeof(key), "%s_caps", prefix);
    mm_buf caps;
    mm_buf_init(&caps, 4096);
    for (size_t i = 0; i < o.n_caps; i++)
        mm_buf_printf(&caps, "%s%s", i ? " " : "", mm_bgp_cap_name(o.caps[i].code));
    for (size_t i = 0; i < o.n_mp; i++)
        mm_buf_printf(&caps, " %s-%s", mm_bgp_afi_name(o.mp[i].afi),
                      mm_bgp_safi_name(o.mp[i].safi));
    int rc = j_strn(b, key, caps.data ? caps.data : (const uint8_t *)"", caps.len);
    mm_buf_free(&caps);
    return rc;
}

static int render_peer_up(mm_bmp_json_ctx *ctx, const mm_bmp_msg *m, mm_buf *b)
{
    MM_GUARD(j_begin(ctx, m, "peer_up", b));
    char a[INET6_ADDRSTRLEN];
    bool v6 = mm_bmp_peer_is_v6(&m->peer);
    inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? m->local_addr : m->local_addr + 12, a, sizeof(a));
    MM_GUARD(j_str(b, "local_ip", a));
    MM_GUARD(j_u64(b, "local_port", m->local_port));
    MM_GUARD(j_u64(b, "remote_port", m->remote_port));
    MM_GUARD(render_open("open_sent", m->open_sent, m->open_sent_len, b));
    MM_GUARD(render_open("open_recv", m->open_recv, m->open_recv_len, b));
    MM_GUARD(render_info_tlvs(m, "bmp_peer_up_info", b));
    MM_GUARD(j_end(b));
    return 1;
}

static int render_peer_down(mm_bmp_json_ctx *ctx, const mm_bmp_msg *m, mm_buf *b)
{
    MM_GUARD(j_begin(ctx, m, "peer_down", b));
    MM_GUARD(j_u64(b, "reason_type", m->down_reason));
    MM_GUARD(j_str(b, "reason_str", mm_bmp_peer_down_reason_name(m->down_reason)));
    if (m->down_reason == 2)
        MM_GUARD(j_u64(b, "reason_loc_code", m->down_fsm_event));
    if (m->bgp) {
        mm_cursor c, body;
        mm_bgp_hdr h;
        mm_bgp_notification n;
        mm_cursor_init_read(&c, m->bgp, m->bgp_len);
        if (mm_bgp_hdr_decode(&c, MM_BGP_EXT_MAX_LEN, &h, &body) == 0 &&
            mm_bgp_notification_decode(&body, &n) == 0) {
            MM_GUARD(j_u64(b, "notification_code", n.code));
            MM_GUARD(j_u64(b, "notification_subcode", n.subcode));
            MM_GUARD(j_str(b, "notification_str", mm_bgp_notification_code_name(n.code)));
        }
    }
    if (m->down_reason == 6)
        MM_GUARD(render_info_tlvs(m, "bmp_peer_down_info", b));
    MM_GUARD(j_end(b));
    return 1;
}

static int render_stats(mm_bmp_json_ctx *ctx, const mm_bmp_msg *m, mm_buf *b)
{
    mm_cursor c = m->stats;
    mm_bmp_stat s;
    int lines = 0;
    for (uint32_t i = 0; i < m->stats_count && mm_bmp_stat_next(&c, &s) > 0; i++) {
        MM_GUARD(j_begin(ctx, m, "stats", b));
        MM_GUARD(j_u64(b, "counter_type", s.type));
        MM_GUARD(j_str(b, "counter_type_str", s.def ? s.def->descr : "Unknown"));
        if (s.def)
            MM_GUARD(j_str(b, "counter_name", s.def->name));
        if (s.kind == MM_BMP_STAT_AFISAFI_GAUGE64) {
            MM_GUARD(j_u64(b, "afi", s.afi));
            MM_GUARD(j_u64(b, "safi", s.safi));
        }
        if (s.kind == MM_BMP_STAT_OPAQUE) {
            MM_GUARD(j_hex(b, "counter_value", s.val, s.len, true));
            MM_GUARD(j_u64(b, "counter_len", s.len));
            if (s.reason)
                MM_GUARD(j_str(b, "counter_reason", s.reason));
        } else {
            MM_GUARD(j_u64(b, "counter_value", s.value));
        }
        MM_GUARD(j_end(b));
        lines++;
    }
    return lines;
}

/* The attribute fields shared by every prefix line of one UPDATE. */
static int render_attrs(const mm_bgp_update *u, mm_buf *b)
{
    mm_buf t;
    mm_buf_init(&t, 1u << 20);
    int rc = 0;
    for (size_t i = 0; i < u->n_attrs && rc == 0; i++) {
        const mm_bgp_attr *a = &u->attrs[i];
        const mm_bgp_attr_desc *d = mm_bgp_attr_desc_find(a->code);
        mm_cursor v;
        mm_cursor_init_read(&v, a->val, a->len);
        mm_buf_reset(&t);
        switch (a->code) {
        case MM_BGP_ATTR_ORIGIN: {
            const char *o = a->len == 1 ? mm_bgp_origin_name(a->val[0]) : NULL;
            rc = o ? j_str(b, "origin", o) : 0;
            break;
        }
        case MM_BGP_ATTR_AS_PATH:
        case MM_BGP_ATTR_AS4_PATH:
            if (mm_bgp_aspath_format(a->val, a->len, a->code == MM_BGP_ATTR_AS4_PATH || u->as4,
                                     &t) == 0)
                rc = j_strn(b, d->name, t.data ? t.data : (const uint8_t *)"", t.len);
            break;
        case MM_BGP_ATTR_NEXT_HOP:
        case MM_BGP_ATTR_ORIGINATOR_ID:
            if (a->len == 4) {
                char ip[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, a->val, ip, sizeof(ip));
                rc = j_str(b, d->name, ip);
            }
            break;
        case MM_BGP_ATTR_MED:
        case MM_BGP_ATTR_LOCAL_PREF:
        case 35:
            if (a->len == 4)
                rc = j_u64(b, d->name, mm_cursor_read_u32(&v));
            break;
        case MM_BGP_ATTR_ATOMIC_AGGREGATE:
            rc = j_u64(b, d->name, 1);
            break;
        case MM_BGP_ATTR_COMMUNITIES:
            if (mm_bgp_communities_format(a->val, a->len, &t) == 0)
                rc = j_strn(b, d->name, t.data, t.len);
            break;
        case MM_BGP_ATTR_EXT_COMMUNITIES:
            if (mm_bgp_ext_communities_format(a->val, a->len, &t) == 0)
                rc = j_strn(b, d->name, t.data, t.len);
            break;
        case MM_BGP_ATTR_LARGE_COMMUNITIES:
            if (mm_bgp_large_communities_format(a->val, a->len, &t) == 0)
                rc = j_strn(b, d->name, t.data, t.len);
            break;
        case MM_BGP_ATTR_MP_REACH:
        case MM_BGP_ATTR_MP_UNREACH:
            break; /* rendered per prefix */
        default: {
            char key[32];
            snprintf(key, sizeof(key), "attr_%u", a->code);
            rc = j_hex(b, d ? d->name : key, a->val, a->len, false);
            break;
        }
        }
    }
    mm_buf_free(&t);
    if (rc == 0 && u->error)
        rc = j_str(b, "attr_error", u->error);
    return rc;
}

/* One line per prefix of a unicast NLRI list, or per FlowSpec rule. */
static int render_nlri(mm_bmp_json_ctx *ctx, const mm_bmp_msg *m, const char *type,
                       const mm_bgp_update *u, const char *log_type, uint16_t afi, uint8_t safi,
                       const uint8_t *nlri, size_t nlri_len, const char *nh, const mm_buf *attrs,
                       mm_buf *b)
{
    mm_cursor c;
    mm_cursor_init_read(&c, nlri, nlri_len);
    int lines = 0;
    for (;;) {
        mm_bgp_prefix p;
        const uint8_t *rule = NULL;
        size_t rule_len = 0;
        int rc;
        if (safi == MM_BGP_SAFI_FLOWSPEC)
            rc = mm_bgp_flowspec_next(&c, &rule, &rule_len);
        else if (safi == MM_BGP_SAFI_UNICAST || safi == MM_BGP_SAFI_MULTICAST)
            rc = mm_bgp_nlri_next(&c, afi, u->addpath, &p);
        else
            rc = mm_cursor_remaining(&c) ? 2 : 0;
        if (rc <= 0)
            return lines;
        MM_GUARD(j_begin(ctx, m, type, b));
        MM_GUARD(j_str(b, "log_type", log_type));
        MM_GUARD(j_u64(b, "afi", afi));
        MM_GUARD(j_u64(b, "safi", safi));
        if (rc == 2) {
            MM_GUARD(j_hex(b, "nlri_hex", mm_cursor_ptr(&c), mm_cursor_remaining(&c), false));
            mm_cursor_skip(&c, mm_cursor_remaining(&c));
        } else if (rule) {
            mm_buf t;
            mm_buf_init(&t, 65536);
            int frc = mm_bgp_flowspec_format(afi, rule, rule_len, &t);
            MM_GUARD(j_strn(b, "flowspec", t.data ? t.data : (const uint8_t *)"", t.len));
            mm_buf_free(&t);
            if (frc < 0)
                MM_GUARD(j_str(b, "flowspec_error", mm_strerror(frc)));
            MM_GUARD(j_hex(b, "flowspec_hex", rule, rule_len, false));
        } else {
            char s[64];
            mm_bgp_prefix_format(&p, s, sizeof(s));
            MM_GUARD(j_str(b, "ip_prefix", s));
            if (u->addpath)
                MM_GUARD(j_u64(b, "path_id", p.path_id));
        }
        if (nh && *nh)
            MM_GUARD(j_str(b, "bgp_nexthop", nh));
        if (attrs->len)
            MM_GUARD(mm_buf_append(b, attrs->data, attrs->len));
        MM_GUARD(j_end(b));
        lines++;
    }
}

static void mp_nexthop(const mm_bgp_mp *mp, char *out, size_t outlen)
{
    out[0] = 0;
    if (mp->nh_len == 4)
        inet_ntop(AF_INET, mp->nh, out, (socklen_t)outlen);
    else if (mp->nh_len == 16 || mp->nh_len == 32) /* global (+ link-local), RFC 2545 §3 */
        inet_ntop(AF_INET6, mp->nh, out, (socklen_t)outlen);
}

static int render_update(mm_bmp_json_ctx *ctx, const mm_bmp_msg *m, const char *type,
                         const uint8_t *pdu, size_t len, bool addpath, mm_buf *b)
{
    mm_cursor c, body;
    mm_bgp_hdr h;
    mm_bgp_update u;
    mm_cursor_init_read(&c, pdu, len);
    int rc = mm_bgp_hdr_decode(&c, MM_BGP_EXT_MAX_LEN, &h, &body);
    if (rc == 0)
        rc = mm_bgp_update_decode(&body, mm_bmp_peer_as4(&m->peer), addpath, &u);
    if (rc < 0) {
        MM_GUARD(j_begin(ctx, m, type, b));
        MM_GUARD(j_str(b, "log_type", "error"));
        MM_GUARD(j_str(b, "error", u.error ? u.error : "malformed BGP UPDATE"));
        MM_GUARD(j_hex(b, "bgp_hex", pdu, len, false));
        MM_GUARD(j_end(b));
        return 1;
    }
    if (mm_bgp_update_is_eor(&u)) {
        MM_GUARD(j_begin(ctx, m, type, b));
        MM_GUARD(j_str(b, "log_type", "end_of_rib"));
        MM_GUARD(j_u64(b, "afi", u.mp_unreach.present ? u.mp_unreach.afi : MM_BGP_AFI_IPV4));
        MM_GUARD(j_u64(b, "safi", u.mp_unreach.present ? u.mp_unreach.safi : MM_BGP_SAFI_UNICAST));
        MM_GUARD(j_end(b));
        return 1;
    }
    mm_buf attrs;
    mm_buf_init(&attrs, 1u << 20);
    int lines = 0;
    rc = render_attrs(&u, &attrs);
    if (rc < 0)
        goto out;
    /*
     * A monitored router already accepted what it reports (a Loc-RIB route of
     * its own may lack AS_PATH, RFC 9069 §5.3.1): attribute problems are shown
     * in attr_error, the route stays an update. RFC 7606 is the speaker's job.
     */
    const char *announce = "update";
    mm_buf none;
    mm_buf_init(&none, 0);
    char nh[INET6_ADDRSTRLEN] = "";
    const mm_bgp_attr *nha = mm_bgp_update_attr(&u, MM_BGP_ATTR_NEXT_HOP);
    if (nha && nha->len == 4)
        inet_ntop(AF_INET, nha->val, nh, sizeof(nh));
    int n;
    if ((n = render_nlri(ctx, m, type, &u, "withdraw", 1, 1, u.withdrawn, u.withdrawn_len, NULL,
                         &none, b)) < 0)
        goto fail;
    lines += n;
    if ((n = render_nlri(ctx, m, type, &u, announce, 1, 1, u.nlri, u.nlri_len, NULL, &attrs, b)) <
        0)
        goto fail;
    lines += n;
    if (u.mp_unreach.present) {
        n = render_nlri(ctx, m, type, &u, "withdraw", u.mp_unreach.afi, u.mp_unreach.safi,
                        u.mp_unreach.nlri, u.mp_unreach.nlri_len, NULL, &none, b);
        if (n < 0)
            goto fail;
        lines += n;
    }
    if (u.mp_reach.present) {
        char mnh[INET6_ADDRSTRLEN];
        mp_nexthop(&u.mp_reach, mnh, sizeof(mnh));
        n = render_nlri(ctx, m, type, &u, announce, u.mp_reach.afi, u.mp_reach.safi,
                        u.mp_reach.nlri, u.mp_reach.nlri_len, mnh, &attrs, b);
        if (n < 0)
            goto fail;
        lines += n;
    }
    (void)nh;
    rc = lines;
    goto out;
fail:
    rc = n;
out:
    mm_buf_free(&attrs);
    return rc;
}

/*
 * A mirrored UPDATE was received from the peer (RFC 7854 §4.7): path ids as
 * the peer's Adj-RIB-In direction negotiated. One that does not parse with
 * them is rendered without, and then shows its error line.
 */
static bool mirror_addpath(const mm_bmp_json_ctx *ctx, const mm_bmp_msg *m, const uint8_t *pdu,
                           size_t len)
{
    bool addpath;
    const char *err;
    return ctx->ap && mm_bmp_update_addpath(ctx->ap, &m->peer, pdu, len, &addpath, &err) == 0 &&
           addpath;
}

static int render_mirror(mm_bmp_json_ctx *ctx, const mm_bmp_msg *m, mm_buf *b)
{
    mm_cursor c = m->tlvs;
    mm_bmp_tlv t;
    int lines = 0;
    while (mm_bmp_tlv_next(&c, &t) > 0) {
        MM_GUARD(j_begin(ctx, m, "route_mirror", b));
        if (t.type == MM_BMP_MIRROR_INFO && t.len == 2) {
            MM_GUARD(j_u64(b, "mirror_info_code", (uint64_t)t.val[0] << 8 | t.val[1]));
        } else if (t.type == MM_BMP_MIRROR_BGP_MSG && t.len >= MM_BGP_HDR_LEN) {
            MM_GUARD(j_str(b, "bgp_msg_type", mm_bgp_msg_type_name(t.val[MM_BGP_HDR_LEN - 1])));
            MM_GUARD(j_hex(b, "bgp_hex", t.val, t.len, false));
            if (t.val[MM_BGP_HDR_LEN - 1] == MM_BGP_UPDATE) {
                /* A mirrored UPDATE also gets its routes (FRR mirrors FlowSpec this way). */
                MM_GUARD(j_end(b));
                lines++;
                int n = render_update(ctx, m, "route_mirror", t.val, t.len,
                                      mirror_addpath(ctx, m, t.val, t.len), b);
                if (n < 0)
                    return n;
                lines += n;
                continue;
            }
        } else {
            MM_GUARD(j_u64(b, "mirror_tlv_type", t.type));
            MM_GUARD(j_hex(b, "mirror_tlv_hex", t.val, t.len, false));
        }
        MM_GUARD(j_end(b));
        lines++;
    }
    return lines;
}

int mm_bmp_json_render(mm_bmp_json_ctx *ctx, const mm_bmp_msg *m, mm_buf *out)
{
    ctx->msg_gen++;
    ctx->pre_gen = 0;
    switch (m->type) {
    case MM_BMP_ROUTE_MONITORING:
        return render_update(ctx, m, "route_monitor", m->bgp, m->bgp_len, m->addpath, out);
    case MM_BMP_STATS_REPORT:
        return render_stats(ctx, m, out);
    case MM_BMP_PEER_DOWN:
        return render_peer_down(ctx, m, out);
    case MM_BMP_PEER_UP:
        return render_peer_up(ctx, m, out);
    case MM_BMP_ROUTE_MIRRORING:
        return render_mirror(ctx, m, out);
    default:
        return render_simple(ctx, m, out);
    }
}

int mm_bmp_json_render_error(mm_bmp_json_ctx *ctx, const uint8_t *p, size_t len, const char *reason,
                             mm_buf *out)
{
    ctx->msg_gen++;
    ctx->pre_gen = 0;
    MM_GUARD(j_begin(ctx, NULL, "error", out));
    MM_GUARD(j_str(out, "error", reason ? reason : "malformed"));
    MM_GUARD(j_u64(out, "bmp_len", len));
    MM_GUARD(j_hex(out, "bmp_head_hex", p, len < 64 ? len : 64, false));
    MM_GUARD(j_end(out));
    return 1;
}
