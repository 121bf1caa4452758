/*
 * session.c - one BGP session without a transport: frames the peer's byte
 * stream (RFC 4271 §4.1, §6.1 header checks), negotiates the OPEN (§6.2,
 * RFC 5492 capabilities: MP-BGP, 4-octet AS, route refresh, extended
 * message, graceful restart as receiver), judges UPDATEs per RFC 7606 and
 * drives the FSM of fsm.c. The owner (daemon, tests) moves bytes and timers
 * through the ops callbacks.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_bgp_speaker.h"
#include "mamori/mm_core.h"

#define AS_TRANS 23456 /* RFC 6793 §9 */

struct mm_bgp_session {
    mm_bgp_session_config cfg;
    mm_bgp_session_ops ops;
    void *arg;
    enum mm_bgp_state state;
    mm_bgp_session_info info;
    size_t max_len;        /* 4096, or 65535 after RFC 8654 negotiation */
    uint8_t notif_code, notif_sub; /* for FSM steps whose code the session decides */
    uint8_t notif_data[2];
    size_t notif_data_len;
    const char *why;
    uint8_t *in;           /* partial message, at most max_len bytes */
    size_t in_len;
    bool closed;
};

int mm_bgp_session_new(const mm_bgp_session_config *cfg, const mm_bgp_session_ops *ops, void *arg,
                       mm_bgp_session **out)
{
    if (cfg->hold_time == 1 || cfg->hold_time == 2)
        return MM_EINVAL; /* §4.2: 0 or at least 3 */
    mm_bgp_session *s = calloc(1, sizeof(*s));
    if (!s || !(s->in = malloc(MM_BGP_EXT_MAX_LEN))) {
        free(s);
        return MM_ENOMEM;
    }
    s->cfg = *cfg;
    s->ops = *ops;
    s->arg = arg;
    s->state = MM_BGP_ST_IDLE;
    s->max_len = MM_BGP_MAX_LEN;
    *out = s;
    return 0;
}

void mm_bgp_session_free(mm_bgp_session *s)
{
    if (s) {
        free(s->in);
        free(s);
    }
}

enum mm_bgp_state mm_bgp_session_state(const mm_bgp_session *s) { return s->state; }
const mm_bgp_session_info *mm_bgp_session_get_info(const mm_bgp_session *s) { return &s->info; }

static int send_bytes(mm_bgp_session *s, const uint8_t *p, size_t n)
{
    s->info.msgs_out++;
    if (s->ops.message)
        s->ops.message(s->arg, false, p, n);
    return s->ops.send ? s->ops.send(s->arg, p, n) : 0;
}

static void send_notification(mm_bgp_session *s, uint8_t code, uint8_t sub, const uint8_t *data,
                              size_t dlen)
{
    uint8_t buf[MM_BGP_HDR_LEN + 2 + 256];
    mm_cursor w;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    mm_bgp_notification n = {code, sub, data, dlen > 255 ? 255 : dlen};
    if (mm_bgp_notification_encode(&w, &n) < 0)
        return;
    s->info.last_notif_code = code;
    s->info.last_notif_subcode = sub;
    s->info.last_notif_sent = true;
    if (s->ops.notification)
        s->ops.notification(s->arg, true, &n);
    send_bytes(s, buf, mm_cursor_offset(&w));
}

static void send_open(mm_bgp_session *s)
{
    uint8_t mp[4][4], as4[4], gr[2] = {0, 0};
    mm_bgp_open o;
    memset(&o, 0, sizeof(o));
    o.version = 4;
    o.my_as = s->cfg.local_as > 0xffff ? AS_TRANS : (uint16_t)s->cfg.local_as;
    o.hold_time = s->cfg.hold_time;
    o.bgp_id = s->cfg.router_id;
    const struct { bool on; uint16_t afi; uint8_t safi; } fams[4] = {
        {s->cfg.fam_v4_unicast, 1, 1}, {s->cfg.fam_v6_unicast, 2, 1},
        {s->cfg.fam_flow4, 1, 133}, {s->cfg.fam_flow6, 2, 133}};
    for (int i = 0; i < 4; i++) {
        if (!fams[i].on)
            continue;
        mp[i][0] = (uint8_t)(fams[i].afi >> 8), mp[i][1] = (uint8_t)fams[i].afi;
        mp[i][2] = 0, mp[i][3] = fams[i].safi;
        o.caps[o.n_caps++] = (mm_bgp_cap){MM_BGP_CAP_MP, 4, mp[i]};
    }
    o.caps[o.n_caps++] = (mm_bgp_cap){MM_BGP_CAP_ROUTE_REFRESH, 0, NULL};
    if (s->cfg.ext_msg)
        o.caps[o.n_caps++] = (mm_bgp_cap){MM_BGP_CAP_EXT_MSG, 0, NULL};
    /* RFC 4724 §3: a receiving speaker advertises the capability with no AFI/SAFI tuples. */
    if (s->cfg.graceful_restart)
        o.caps[o.n_caps++] = (mm_bgp_cap){MM_BGP_CAP_GR, 2, gr};
    as4[0] = (uint8_t)(s->cfg.local_as >> 24), as4[1] = (uint8_t)(s->cfg.local_as >> 16);
    as4[2] = (uint8_t)(s->cfg.local_as >> 8), as4[3] = (uint8_t)s->cfg.local_as;
    o.caps[o.n_caps++] = (mm_bgp_cap){MM_BGP_CAP_AS4, 4, as4};
    uint8_t buf[512];
    mm_cursor w;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    if (mm_bgp_open_encode(&w, &o) == 0)
        send_bytes(s, buf, mm_cursor_offset(&w));
}

static void send_keepalive(mm_bgp_session *s)
{
    uint8_t buf[MM_BGP_HDR_LEN];
    mm_cursor w;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    if (mm_bgp_keepalive_encode(&w) == 0)
        send_bytes(s, buf, sizeof(buf));
}

static void timer(mm_bgp_session *s, int which, uint32_t secs)
{
    if (s->ops.timer)
        s->ops.timer(s->arg, which, secs);
}

static void run(mm_bgp_session *s, enum mm_bgp_event ev)
{
    mm_bgp_fsm_step st = mm_bgp_fsm_next(s->state, ev, s->cfg.passive);
    uint32_t a = st.actions;
    if (a & MM_BGP_DO_SEND_NOTIF) {
        uint8_t code = st.notif_code ? st.notif_code : s->notif_code;
        uint8_t sub = st.notif_code ? st.notif_subcode : s->notif_sub;
        send_notification(s, code, sub, st.notif_code ? NULL : s->notif_data,
                          st.notif_code ? 0 : s->notif_data_len);
        if (!s->why)
            s->why = mm_bgp_notification_code_name(code);
    }
    if (a & MM_BGP_DO_DROP_TCP) {
        s->closed = true;
        s->in_len = 0;
        if (s->ops.drop)
            s->ops.drop(s->arg);
    }
    if (a & MM_BGP_DO_STOP_TIMERS)
        for (int t = 0; t < MM_BGP_N_TIMERS; t++)
            timer(s, t, 0);
    uint32_t cr = s->cfg.connect_retry ? s->cfg.connect_retry : MM_BGP_CONNECT_RETRY;
    if (a & MM_BGP_DO_START_CONNECT_RETRY)
        timer(s, MM_BGP_TIMER_CONNECT_RETRY, cr);
    if (a & MM_BGP_DO_STOP_CONNECT_RETRY)
        timer(s, MM_BGP_TIMER_CONNECT_RETRY, 0);
    if (a & MM_BGP_DO_CONNECT) {
        s->closed = false;
        if (s->ops.connect)
            s->ops.connect(s->arg);
    }
    if (a & MM_BGP_DO_SEND_OPEN) {
        s->closed = false;
        s->max_len = MM_BGP_MAX_LEN;
        memset(&s->info, 0, sizeof(s->info));
        send_open(s);
    }
    if (a & MM_BGP_DO_START_HOLD_LARGE)
        timer(s, MM_BGP_TIMER_HOLD, MM_BGP_OPENSENT_HOLD);
    if (a & MM_BGP_DO_SEND_KEEPALIVE)
        send_keepalive(s);
    if (a & (MM_BGP_DO_START_HOLD | MM_BGP_DO_RESTART_HOLD))
        timer(s, MM_BGP_TIMER_HOLD, s->info.hold_time);
    if (a & MM_BGP_DO_START_KEEPALIVE)
        timer(s, MM_BGP_TIMER_KEEPALIVE, s->info.hold_time / 3);
    enum mm_bgp_state from = s->state;
    s->state = st.next;
    if (from != st.next && s->ops.state)
        s->ops.state(s->arg, from, st.next, s->why ? s->why : "");
    s->why = NULL;
    s->notif_code = s->notif_sub = 0;
    s->notif_data_len = 0;
}

void mm_bgp_session_event(mm_bgp_session *s, enum mm_bgp_event ev)
{
    if (ev == MM_BGP_EV_HOLD_EXPIRES)
        s->why = "hold timer expired";
    else if (ev == MM_BGP_EV_TCP_FAILS)
        s->why = "connection lost";
    else if (ev == MM_BGP_EV_MANUAL_STOP)
        s->why = "stopped";
    if (ev == MM_BGP_EV_TCP_ACKNOWLEDGED || ev == MM_BGP_EV_TCP_CONFIRMED)
        s->closed = false;
    run(s, ev);
}

void mm_bgp_session_shutdown(mm_bgp_session *s, uint8_t subcode, const char *text)
{
    if (s->state == MM_BGP_ST_IDLE || s->state == MM_BGP_ST_CONNECT || s->state == MM_BGP_ST_ACTIVE) {
        run(s, MM_BGP_EV_MANUAL_STOP);
        return;
    }
    /* RFC 9003: length byte + UTF-8 text (at most 255) for subcodes 2 and 4. */
    uint8_t data[256];
    size_t tl = text ? strlen(text) : 0;
    if (tl > 255)
        tl = 255;
    data[0] = (uint8_t)tl;
    if (tl)
        memcpy(data + 1, text, tl);
    send_notification(s, 6, subcode, data, text ? tl + 1 : 0);
    /* The NOTIFICATION is out: go down without the FSM's own second one. */
    s->closed = true;
    s->in_len = 0;
    if (s->ops.drop)
        s->ops.drop(s->arg);
    for (int t = 0; t < MM_BGP_N_TIMERS; t++)
        timer(s, t, 0);
    enum mm_bgp_state from = s->state;
    s->state = MM_BGP_ST_IDLE;
    if (s->ops.state)
        s->ops.state(s->arg, from, MM_BGP_ST_IDLE, "administrative shutdown");
}

int mm_bgp_session_send_update(mm_bgp_session *s, const uint8_t *msg, size_t n)
{
    if (s->state != MM_BGP_ST_ESTABLISHED)
        return MM_ESTATE;
    if (n > s->max_len)
        return MM_ELIMIT;
    s->info.updates_out++;
    return send_bytes(s, msg, n);
}

/* ---------------------------------------------------------------- received messages */

static void fail_with(mm_bgp_session *s, enum mm_bgp_event ev, uint8_t code, uint8_t sub,
                      const char *why)
{
    s->notif_code = code;
    s->notif_sub = sub;
    s->why = why;
    run(s, ev);
}

static bool peer_has_family(const mm_bgp_open *o, uint16_t afi, uint8_t safi)
{
    for (size_t i = 0; i < o->n_mp; i++)
        if (o->mp[i].afi == afi && o->mp[i].safi == safi)
            return true;
    return false;
}

static void on_open(mm_bgp_session *s, mm_cursor *body)
{
    mm_bgp_open o;
    if (mm_bgp_open_decode(body, &o) < 0)
        return fail_with(s, MM_BGP_EV_OPEN_ERR, 2, 0, "malformed OPEN");
    if (o.version != 4) {
        /* §6.2: the data is the largest supported version. */
        s->notif_data[0] = 0, s->notif_data[1] = 4;
        s->notif_data_len = 2;
        return fail_with(s, MM_BGP_EV_OPEN_ERR, 2, 1, "unsupported version");
    }
    uint32_t peer_as = o.has_as4 ? o.as4 : o.my_as;
    if (s->cfg.peer_as && peer_as != s->cfg.peer_as)
        return fail_with(s, MM_BGP_EV_OPEN_ERR, 2, 2, "bad peer AS");
    if (o.hold_time == 1 || o.hold_time == 2)
        return fail_with(s, MM_BGP_EV_OPEN_ERR, 2, 6, "unacceptable hold time");
    if (o.bgp_id == 0 || o.bgp_id == 0xffffffffu || o.bgp_id == s->cfg.router_id ||
        (s->cfg.peer_router_id && o.bgp_id != s->cfg.peer_router_id))
        return fail_with(s, MM_BGP_EV_OPEN_ERR, 2, 3, "bad BGP identifier");
    if (peer_as == s->cfg.local_as && !s->cfg.ibgp_allowed)
        return fail_with(s, MM_BGP_EV_OPEN_ERR, 2, 2, "iBGP not configured for this peer");
    mm_bgp_session_info *in = &s->info;
    in->peer_as = peer_as;
    in->peer_router_id = o.bgp_id;
    /* §4.2: the smaller of the two hold times; 0 turns keepalives off. */
    in->hold_time = o.hold_time < s->cfg.hold_time ? o.hold_time : s->cfg.hold_time;
    in->as4 = o.has_as4;
    in->route_refresh = o.route_refresh;
    in->ext_msg = o.ext_msg && s->cfg.ext_msg;
    for (size_t i = 0; i < o.n_caps; i++)
        if (o.caps[i].code == MM_BGP_CAP_GR)
            in->peer_gr = true;
    in->fam_v4_unicast = s->cfg.fam_v4_unicast && (o.n_mp == 0 || peer_has_family(&o, 1, 1));
    in->fam_v6_unicast = s->cfg.fam_v6_unicast && peer_has_family(&o, 2, 1);
    in->fam_flow4 = s->cfg.fam_flow4 && peer_has_family(&o, 1, 133);
    in->fam_flow6 = s->cfg.fam_flow6 && peer_has_family(&o, 2, 133);
    if (in->ext_msg)
        s->max_len = MM_BGP_EXT_MAX_LEN;
    run(s, MM_BGP_EV_OPEN);
}

static void on_update(mm_bgp_session *s, mm_cursor *body)
{
    if (s->state != MM_BGP_ST_ESTABLISHED)
        return run(s, MM_BGP_EV_UPDATE); /* FSM error in OpenSent/OpenConfirm */
    s->info.updates_in++;
    mm_bgp_update *u = malloc(sizeof(*u));
    if (!u)
        return fail_with(s, MM_BGP_EV_UPDATE_ERR, 6, 8, "out of resources");
    mm_bgp_update_verdict v;
    mm_bgp_update_judge(body, s->info.as4, s->info.peer_as == s->cfg.local_as, u, &v);
    if (v.action >= MM_BGP_ERR_AFISAFI) {
        if (s->ops.update)
            s->ops.update(s->arg, u, &v); /* lets the owner log it */
        free(u);
        return fail_with(s, MM_BGP_EV_UPDATE_ERR, v.notif_code, v.notif_subcode, v.why);
    }
    if (v.action == MM_BGP_ERR_WITHDRAW)
        s->info.withdraw_treated++;
    if (v.action == MM_BGP_ERR_DISCARD)
        s->info.attr_discarded++;
    run(s, MM_BGP_EV_UPDATE);
    if (s->ops.update)
        s->ops.update(s->arg, u, &v);
    free(u);
}

static void on_message(mm_bgp_session *s, const mm_bgp_hdr *h, mm_cursor *body)
{
    s->info.msgs_in++;
    switch (h->type) {
    case MM_BGP_OPEN:
        if (s->state != MM_BGP_ST_OPENSENT)
            return run(s, MM_BGP_EV_OPEN);
        return on_open(s, body);
    case MM_BGP_KEEPALIVE:
        return run(s, MM_BGP_EV_KEEPALIVE);
    case MM_BGP_UPDATE:
        return on_update(s, body);
    case MM_BGP_NOTIFICATION: {
        mm_bgp_notification n;
        memset(&n, 0, sizeof(n));
        mm_bgp_notification_decode(body, &n);
        s->info.last_notif_code = n.code;
        s->info.last_notif_subcode = n.subcode;
        s->info.last_notif_sent = false;
        if (s->ops.notification)
            s->ops.notification(s->arg, false, &n);
        s->why = "NOTIFICATION received";
        return run(s, n.code == 2 && n.subcode == 1 ? MM_BGP_EV_NOTIF_VERSION_ERR : MM_BGP_EV_NOTIF);
    }
    case MM_BGP_ROUTE_REFRESH: {
        if (s->state != MM_BGP_ST_ESTABLISHED)
            return run(s, MM_BGP_EV_UPDATE); /* unexpected: FSM error */
        uint16_t afi = mm_cursor_read_u16(body);
        mm_cursor_skip(body, 1);
        uint8_t safi = mm_cursor_read_u8(body);
        if (!mm_cursor_error(body) && s->ops.route_refresh)
            s->ops.route_refresh(s->arg, afi, safi);
        return;
    }
    }
}

/* §6.1 header checks plus the per-type length bounds of §4. */
static bool header_ok(mm_bgp_session *s, const uint8_t *p, size_t n, mm_bgp_hdr *h)
{
    for (int i = 0; i < MM_BGP_MARKER_LEN; i++)
        if (p[i] != 0xff) {
            fail_with(s, MM_BGP_EV_HEADER_ERR, 1, 1, "connection not synchronized");
            return false;
        }
    (void)n;
    h->len = (uint16_t)(p[16] << 8 | p[17]);
    h->type = p[18];
    size_t minl[] = {0, 29, 23, 21, 19, 23};
    bool bad_len = h->len < MM_BGP_HDR_LEN || h->len > s->max_len;
    if (!bad_len && h->type >= 1 && h->type <= 5)
        bad_len = h->len < minl[h->type] ||
                  ((h->type == MM_BGP_KEEPALIVE || h->type == MM_BGP_ROUTE_REFRESH) && h->len != minl[h->type]);
    if (h->type < 1 || h->type > 5) {
        s->notif_data[0] = h->type;
        s->notif_data_len = 1;
        fail_with(s, MM_BGP_EV_HEADER_ERR, 1, 3, "bad message type");
        return false;
    }
    if (bad_len) {
        s->notif_data[0] = p[16], s->notif_data[1] = p[17];
        s->notif_data_len = 2;
        fail_with(s, MM_BGP_EV_HEADER_ERR, 1, 2, "bad message length");
        return false;
    }
    return true;
}

int mm_bgp_session_input(mm_bgp_session *s, const uint8_t *p, size_t n)
{
    if (s->closed)
        return MM_ECLOSED;
    while (n > 0 || s->in_len >= MM_BGP_HDR_LEN) {
        /* Fill the partial buffer up to one header, then up to the message length. */
        size_t want = MM_BGP_HDR_LEN;
        if (s->in_len >= MM_BGP_HDR_LEN) {
            mm_bgp_hdr h;
            if (!header_ok(s, s->in, s->in_len, &h))
                return MM_ECLOSED;
            want = h.len;
        }
        if (s->in_len < want) {
            size_t take = want - s->in_len < n ? want - s->in_len : n;
            memcpy(s->in + s->in_len, p, take);
            s->in_len += take;
            p += take;
            n -= take;
            if (s->in_len < want)
                return 0;
            if (want == MM_BGP_HDR_LEN)
                continue; /* header complete: check it and learn the length */
        }
        mm_bgp_hdr h;
        mm_cursor c, body;
        mm_cursor_init_read(&c, s->in, s->in_len);
        if (mm_bgp_hdr_decode(&c, s->max_len, &h, &body) < 0)
            return MM_ECLOSED; /* cannot happen after header_ok */
        s->in_len = 0;
        if (s->ops.message)
            s->ops.message(s->arg, true, s->in, h.len);
        on_message(s, &h, &body);
        if (s->closed)
            return MM_ECLOSED;
    }
    return 0;
}

/* ---------------------------------------------------------------- originating FlowSpec */

int mm_bgp_flowspec_update_build(mm_cursor *w, uint16_t afi, bool withdraw, const uint8_t *rule,
                                 size_t rule_len, uint32_t local_as, bool as4, bool ibgp,
                                 const uint8_t *ecomms, size_t ecomms_len)
{
    uint8_t nlri[MM_BGP_FS_MAX_LEN + 2 + 3];
    mm_cursor nw;
    mm_cursor_init_write(&nw, nlri, sizeof(nlri));
    mm_cursor_write_u16(&nw, afi);
    mm_cursor_write_u8(&nw, MM_BGP_SAFI_FLOWSPEC);
    if (!withdraw) {
        mm_cursor_write_u8(&nw, 0); /* FlowSpec has no next hop (RFC 8955 §4) */
        mm_cursor_write_u8(&nw, 0); /* reserved */
    }
    MM_GUARD(mm_bgp_fs_nlri_encode(&nw, rule, rule_len));
    size_t off = mm_bgp_hdr_begin(w, MM_BGP_UPDATE);
    mm_cursor_write_u16(w, 0);
    size_t alen_off = mm_cursor_offset(w);
    mm_cursor_write_u16(w, 0);
    if (withdraw) {
        MM_GUARD(mm_bgp_attr_encode(w, MM_BGP_ATTR_F_OPTIONAL, MM_BGP_ATTR_MP_UNREACH, nlri,
                                    mm_cursor_offset(&nw)));
    } else {
        uint8_t origin = 0, aspath[6], lp[4] = {0, 0, 0, 100};
        size_t aplen = 0;
        if (!ibgp) {
            /* One AS_SEQUENCE with our AS (AS_TRANS in 2-octet sessions, RFC 6793 §4.2.2). */
            aspath[0] = 2, aspath[1] = 1;
            if (as4) {
                aspath[2] = (uint8_t)(local_as >> 24), aspath[3] = (uint8_t)(local_as >> 16);
                aspath[4] = (uint8_t)(local_as >> 8), aspath[5] = (uint8_t)local_as;
                aplen = 6;
            } else {
                uint16_t a2 = local_as > 0xffff ? AS_TRANS : (uint16_t)local_as;
                aspath[2] = (uint8_t)(a2 >> 8), aspath[3] = (uint8_t)a2;
                aplen = 4;
            }
        }
        MM_GUARD(mm_bgp_attr_encode(w, MM_BGP_ATTR_F_TRANSITIVE, MM_BGP_ATTR_ORIGIN, &origin, 1));
        MM_GUARD(mm_bgp_attr_encode(w, MM_BGP_ATTR_F_TRANSITIVE, MM_BGP_ATTR_AS_PATH, aspath, aplen));
        if (ibgp)
            MM_GUARD(mm_bgp_attr_encode(w, MM_BGP_ATTR_F_TRANSITIVE, MM_BGP_ATTR_LOCAL_PREF, lp, 4));
        MM_GUARD(mm_bgp_attr_encode(w, MM_BGP_ATTR_F_OPTIONAL, MM_BGP_ATTR_MP_REACH, nlri,
                                    mm_cursor_offset(&nw)));
        if (ecomms_len)
            MM_GUARD(mm_bgp_attr_encode(w, MM_BGP_ATTR_F_OPTIONAL | MM_BGP_ATTR_F_TRANSITIVE,
                                        MM_BGP_ATTR_EXT_COMMUNITIES, ecomms, ecomms_len));
    }
    MM_GUARD(mm_cursor_error(w));
    size_t alen = mm_cursor_offset(w) - alen_off - 2;
    w->base[alen_off] = (uint8_t)(alen >> 8);
    w->base[alen_off + 1] = (uint8_t)alen;
    mm_bgp_hdr_finish(w, off);
    return mm_cursor_error(w);
}
