/*
 * bgpd.c - mamori-bgpd: BGP sessions over TCP (libevent), the RIB, and
 * what happens to routes: every received FlowSpec rule and every change is
 * audited, max-prefix per peer and family is enforced (RFC 4486 Cease 1),
 * RFC 8955 §6 validation is optional per peer, originated rules are sent to
 * every Established peer of the family.
 *
 * Zero trust on the BGP side: only configured neighbour addresses are
 * accepted (others are closed and audited before anything is read),
 * TCP-MD5 (RFC 2385) and GTSM (RFC 5082) per peer, and a bounded output
 * backlog per peer (over it we stop reading that peer until it drains).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "bgpd.h"
#include "tcp_ao_uapi.h"
#ifdef MM_BGPD_NFT
#include "bgpd_nft.h"
#endif
#ifdef MM_BGPD_BMP
#include "bgpd_bmp.h"
#endif
#include "mamori/mm_audit.h"
#include "mamori/mm_core.h"

typedef struct bgpd_peer {
    bgpd *d;
    uint32_t id; /* RIB peer number: index + 1 (0 is "local") */
    bgpd_peer_cfg cfg;
    mm_bgp_session *s;
    struct bufferevent *bev;
    bool connecting;
    bool outbound; /* bev was initiated by us (RFC 4271 §6.8 needs to know) */
    /* RFC 4271 §6.8: an inbound connection that collides with ours is held
     * here until its OPEN tells the peer's BGP Identifier. */
    struct bufferevent *pend;
    uint8_t pend_buf[4096]; /* an OPEN is at most 4096 octets (RFC 8654 §3) */
    size_t pend_len;
    struct event *timers[MM_BGP_N_TIMERS];
    struct event *restart;
    uint32_t count[BGPD_NFAM];
    bool read_paused;
    int64_t up_since_ms;
    char last_error[200];
    uint64_t rules_in, rules_rejected;
    /* For BMP: the OPENs of this session, the last NOTIFICATION, the UPDATE being processed. */
    uint8_t open_sent[MM_BGP_MAX_LEN], open_recv[MM_BGP_MAX_LEN];
    size_t open_sent_len, open_recv_len;
    uint8_t notif[MM_BGP_MAX_LEN];
    size_t notif_len;
    int notif_dir; /* 0 none this session, 1 sent, 3 received (BMP Peer Down reasons) */
    const uint8_t *cur_update;
    size_t cur_update_len;
    struct sockaddr_storage local;
    uint16_t local_port, remote_port;
} bgpd_peer;

struct bgpd {
    struct event_base *base;
    bgpd_config *cfg;
    mm_audit *audit;
    mm_bgp_rib *rib;
    struct evconnlistener *lis;
    bgpd_control *ctl;
    bool stopping;
#ifdef MM_BGPD_NFT
    bgpd_nft *nft;
    struct event *nft_ev; /* coalesces a burst of changes into one table rebuild */
#endif
#ifdef MM_BGPD_BMP
    size_t n_bmp;
    bgpd_bmp *bmp[4];
    struct event *bmp_stats_ev;
#endif
    size_t n_peers;
    bgpd_peer peers[BGPD_MAX_PEERS];
};

struct mm_audit *bgpd_audit(bgpd *d) { return d->audit; }

static int audit(bgpd *d, const char *subject, const char *action, const char *object, bool permit,
                 const char *reason, const char *session)
{
    mm_audit_record r = {"bgp", subject, action, object, permit, reason, session};
    int rc = mm_audit_write(d->audit, &r);
    if (rc < 0)
        mm_log_error("audit", "cannot write the audit record (%s): %s", action, mm_strerror(rc));
    return rc;
}

/* "flow4 dst 10.0.0.0/24 proto =6 then rate-bytes 0; ifit ..." for audit and display. */
/* " then rate-bytes 0; ifit ..." for an EXTENDED_COMMUNITIES value (nothing if none). */
static void actions_text(const uint8_t *ec, size_t el, mm_buf *b)
{
    mm_bgp_fs_actions a;
    if (el && mm_bgp_fs_actions_decode(ec, el, &a) == 0) {
        mm_buf_append_str(b, " then ");
        mm_bgp_fs_actions_format(&a, b);
        if (a.n_unknown)
            mm_buf_printf(b, "; %zu other ECs", a.n_unknown);
    }
}

static void match_text(int fam, const uint8_t *rule, size_t rl, mm_buf *b)
{
    uint16_t afi;
    uint8_t safi;
    bgpd_fam_afisafi(fam, &afi, &safi);
    mm_buf_append_str(b, bgpd_fam_short(fam));
    mm_buf_append_str(b, " ");
    if (mm_bgp_flowspec_format(afi, rule, rl, b) < 0)
        mm_buf_append_str(b, "<undecodable>");
}

static void rule_text(int fam, const uint8_t *rule, size_t rl, const uint8_t *ec, size_t el, mm_buf *b)
{
    match_text(fam, rule, rl, b);
    actions_text(ec, el, b);
}

static void peer_subject(const bgpd_peer *p, char *out, size_t n)
{
    snprintf(out, n, "peer:%s", p->cfg.address);
}

/* ---------------------------------------------------------------- output */

static int peer_send(void *arg, const uint8_t *data, size_t n)
{
    bgpd_peer *p = arg;
    if (!p->bev)
        return MM_ECLOSED;
    if (bufferevent_write(p->bev, data, n) < 0)
        return MM_ENOMEM;
    /* Back-pressure: a peer that does not read its output is not read either. */
    if (!p->read_paused && evbuffer_get_length(bufferevent_get_output(p->bev)) > p->d->cfg->max_out_bytes) {
        p->read_paused = true;
        bufferevent_disable(p->bev, EV_READ);
        bufferevent_setwatermark(p->bev, EV_WRITE, p->d->cfg->max_out_bytes / 2, 0);
        mm_log_warn("backpressure", "peer=%s output backlog over %u bytes: reading paused",
                    p->cfg.address, p->d->cfg->max_out_bytes);
    }
    return 0;
}

static void send_originated(bgpd_peer *p, int fam, const mm_bgp_route *r, bool withdraw)
{
    uint16_t afi;
    uint8_t safi;
    bgpd_fam_afisafi(fam, &afi, &safi);
    const mm_bgp_session_info *in = mm_bgp_session_get_info(p->s);
    uint8_t msg[MM_BGP_EXT_MAX_LEN];
    mm_cursor w;
    mm_cursor_init_write(&w, msg, in->ext_msg ? MM_BGP_EXT_MAX_LEN : MM_BGP_MAX_LEN);
    bool ibgp = p->cfg.remote_as == p->d->cfg->local_as;
    if (mm_bgp_flowspec_update_build(&w, afi, withdraw, r->nlri, r->nlri_len, p->d->cfg->local_as,
                                     in->as4, ibgp, r->ecomm, withdraw ? 0 : r->ecomm_len) < 0) {
        mm_log_warn("originate", "peer=%s rule does not fit one UPDATE", p->cfg.address);
        return;
    }
    mm_bgp_session_send_update(p->s, msg, mm_cursor_offset(&w));
}

static bool peer_has(const bgpd_peer *p, int fam)
{
    const mm_bgp_session_info *in = mm_bgp_session_get_info(p->s);
    return mm_bgp_session_state(p->s) == MM_BGP_ST_ESTABLISHED &&
           (fam == BGPD_FLOW4 ? in->fam_flow4 : fam == BGPD_FLOW6 ? in->fam_flow6 : false);
}

typedef struct { bgpd_peer *p; int fam; } orig_walk;

static void orig_cb(void *arg, const mm_bgp_route *r)
{
    orig_walk *ow = arg;
    send_originated(ow->p, ow->fam, r, false);
}

static void send_eor(bgpd_peer *p, int fam)
{
    uint16_t afi;
    uint8_t safi;
    bgpd_fam_afisafi(fam, &afi, &safi);
    /* RFC 4724 §2: an MP_UNREACH with no NLRI. */
    uint8_t v[3] = {(uint8_t)(afi >> 8), (uint8_t)afi, safi}, msg[64];
    mm_cursor w;
    mm_cursor_init_write(&w, msg, sizeof(msg));
    size_t off = mm_bgp_hdr_begin(&w, MM_BGP_UPDATE);
    mm_cursor_write_u16(&w, 0);
    mm_cursor_write_u16(&w, 6);
    mm_bgp_attr_encode(&w, MM_BGP_ATTR_F_OPTIONAL, MM_BGP_ATTR_MP_UNREACH, v, 3);
    mm_bgp_hdr_finish(&w, off);
    if (!mm_cursor_error(&w))
        mm_bgp_session_send_update(p->s, msg, mm_cursor_offset(&w));
}

/* ---------------------------------------------------------------- install mode */

#ifdef MM_BGPD_NFT
static void nft_sync_cb(evutil_socket_t fd, short what, void *arg);
#endif

static void nft_schedule(bgpd *d)
{
#ifdef MM_BGPD_NFT
    if (d->nft && !evtimer_pending(d->nft_ev, NULL)) {
        struct timeval tv = {0, 0};
        evtimer_add(d->nft_ev, &tv);
    }
#else
    (void)d;
#endif
}

/* ---------------------------------------------------------------- connection handling */

static void conn_close(bgpd_peer *p);

static void closing_write_cb(struct bufferevent *bev, void *arg)
{
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        bufferevent_free(bev);
}

static void closing_event_cb(struct bufferevent *bev, short what, void *arg) { bufferevent_free(bev); }

/* Let the NOTIFICATION (if any) reach the peer, then close; bounded by a write timeout. */
static void conn_close(bgpd_peer *p)
{
    struct bufferevent *bev = p->bev;
    p->bev = NULL;
    p->connecting = false;
    p->read_paused = false;
    if (!bev)
        return;
    bufferevent_disable(bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        bufferevent_free(bev);
        return;
    }
    struct timeval tv = {5, 0};
    bufferevent_set_timeouts(bev, NULL, &tv);
    bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
    bufferevent_setcb(bev, NULL, closing_write_cb, closing_event_cb, NULL);
}

static void peer_read_cb(struct bufferevent *bev, void *arg)
{
    bgpd_peer *p = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    mm_audit_batch_begin(p->d->audit);
    /* The session parses straight out of libevent's buffer chains (no copy);
     * a chain is drained only while the connection is still ours: the session
     * may close it (and free bev) from inside the input call. */
    while (p->bev == bev && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
            break;
        int rc = mm_bgp_session_input(p->s, v.iov_base, v.iov_len);
        if (p->bev != bev)
            break;
        evbuffer_drain(in, v.iov_len);
        if (rc < 0)
            break;
    }
    mm_audit_batch_end(p->d->audit);
}

static void peer_write_cb(struct bufferevent *bev, void *arg)
{
    bgpd_peer *p = arg;
    if (p->read_paused) {
        p->read_paused = false;
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        bufferevent_enable(bev, EV_READ);
        mm_log_info("backpressure", "peer=%s output drained: reading resumed", p->cfg.address);
    }
}

static void peer_event_cb(struct bufferevent *bev, short what, void *arg)
{
    bgpd_peer *p = arg;
    if (what & BEV_EVENT_CONNECTED) {
        p->connecting = false;
        mm_log_info("connected", "peer=%s outbound", p->cfg.address);
        mm_bgp_session_event(p->s, MM_BGP_EV_TCP_ACKNOWLEDGED);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        snprintf(p->last_error, sizeof(p->last_error), "%s",
                 (what & BEV_EVENT_EOF) ? "connection closed by peer"
                 : (what & BEV_EVENT_TIMEOUT) ? "connection timed out"
                                              : strerror(EVUTIL_SOCKET_ERROR()));
        conn_close(p);
        mm_bgp_session_event(p->s, MM_BGP_EV_TCP_FAILS);
    }
}

/*
 * RFC 5925 MKT for this peer on fd (the listener too, before any SYN: the
 * kernel copies matching keys to the connections it accepts). The kernel then
 * signs every segment to the peer and drops every segment from it whose MAC
 * does not verify (counted as TCPAOBad).
 */
static int set_ao(int fd, const bgpd_peer_cfg *c)
{
    if (!c->ao)
        return 0;
    struct mm_tcp_ao_add k;
    memset(&k, 0, sizeof(k));
    memcpy(&k.addr, &c->sa, c->salen);
    /* The key covers exactly the neighbor's address, any port. */
    if (c->sa.ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)&k.addr)->sin6_port = 0;
        k.prefix = 128;
    } else {
        ((struct sockaddr_in *)&k.addr)->sin_port = 0;
        k.prefix = 32;
    }
    snprintf(k.alg_name, sizeof(k.alg_name), "%s", c->ao_alg);
    k.sndid = c->ao_sndid;
    k.rcvid = c->ao_rcvid;
    k.maclen = c->ao_maclen;
    k.keylen = (uint8_t)strlen(c->ao_key);
    memcpy(k.key, c->ao_key, k.keylen);
    if (setsockopt(fd, IPPROTO_TCP, MM_TCP_AO_ADD_KEY, &k, sizeof(k)) < 0) {
        int e = errno;
        mm_log_error("tcp-ao", "peer=%s TCP_AO_ADD_KEY (%s): %s%s", c->address, c->ao_alg,
                     strerror(e),
                     e == ENOPROTOOPT ? " - this kernel has no TCP-AO (CONFIG_TCP_AO)" : "");
        explicit_bzero(&k, sizeof(k));
        return MM_ESYS;
    }
    explicit_bzero(&k, sizeof(k));
    return 0;
}

/* RFC 2385 key for this peer on fd (also used on the listener, before any SYN). */
static int set_md5(int fd, const bgpd_peer_cfg *c)
{
    if (!c->md5[0])
        return 0;
    struct tcp_md5sig sig;
    memset(&sig, 0, sizeof(sig));
    memcpy(&sig.tcpm_addr, &c->sa, c->salen);
    sig.tcpm_keylen = (uint16_t)strlen(c->md5);
    memcpy(sig.tcpm_key, c->md5, sig.tcpm_keylen);
    if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) < 0) {
        mm_log_error("md5", "peer=%s TCP_MD5SIG: %s", c->address, strerror(errno));
        return MM_ESYS;
    }
    return 0;
}

/* RFC 5082: send with TTL 255 and drop anything that arrives with less than 254. */
static int set_gtsm(int fd, const bgpd_peer_cfg *c)
{
    if (!c->gtsm)
        return 0;
    int ttl = 255, min = 254;
    if (c->sa.ss_family == AF_INET6) {
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl)) < 0 ||
            setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &min, sizeof(min)) < 0)
            return MM_ESYS;
    } else if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0 ||
               setsockopt(fd, IPPROTO_IP, IP_MINTTL, &min, sizeof(min)) < 0) {
        return MM_ESYS;
    }
    return 0;
}

static void conn_attach(bgpd_peer *p, evutil_socket_t fd)
{
    p->bev = bufferevent_socket_new(p->d->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!p->bev) {
        evutil_closesocket(fd);
        return;
    }
    /* Large reads: a full-table feed arrives in 256 KiB gulps, not libevent's
     * default 16 KiB (the session buffers at most one partial message). */
    bufferevent_set_max_single_read(p->bev, 256u << 10);
    bufferevent_setcb(p->bev, peer_read_cb, peer_write_cb, peer_event_cb, p);
    bufferevent_enable(p->bev, EV_READ | EV_WRITE);
}

static void peer_connect(void *arg)
{
    bgpd_peer *p = arg;
    conn_close(p);
    int fd = socket(p->cfg.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    if (p->cfg.local_address[0]) {
        struct sockaddr_storage la;
        memset(&la, 0, sizeof(la));
        socklen_t ll;
        if (p->cfg.sa.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&la;
            a->sin6_family = AF_INET6;
            inet_pton(AF_INET6, p->cfg.local_address, &a->sin6_addr);
            ll = sizeof(*a);
        } else {
            struct sockaddr_in *a = (struct sockaddr_in *)&la;
            a->sin_family = AF_INET;
            inet_pton(AF_INET, p->cfg.local_address, &a->sin_addr);
            ll = sizeof(*a);
        }
        if (bind(fd, (struct sockaddr *)&la, ll) < 0) {
            snprintf(p->last_error, sizeof(p->last_error), "bind %s: %s", p->cfg.local_address,
                     strerror(errno));
            close(fd);
            goto fail;
        }
    }
    if (set_md5(fd, &p->cfg) < 0 || set_ao(fd, &p->cfg) < 0 || set_gtsm(fd, &p->cfg) < 0) {
        close(fd);
        goto fail;
    }
    conn_attach(p, fd);
    if (!p->bev)
        goto fail;
    p->connecting = true;
    p->outbound = true;
    if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&p->cfg.sa, (int)p->cfg.salen) < 0) {
        conn_close(p);
        goto fail;
    }
    return;
fail:
    /* Report asynchronously: the FSM is in the middle of a transition. */
    mm_log_info("connect", "peer=%s failed to start: %s", p->cfg.address, p->last_error);
}

/* ------------------------------------------------ collision resolution (RFC 4271 §6.8) */

static void peer_notification(void *arg, bool sent, const mm_bgp_notification *n);

/* Write NOTIFICATION Cease / Connection Collision Resolution (RFC 4486 §3,
 * subcode 7) on bev, then free it once written (bounded by a timeout). */
static void collision_close_bev(struct bufferevent *bev)
{
    uint8_t msg[32];
    mm_cursor w;
    mm_cursor_init_write(&w, msg, sizeof(msg));
    mm_bgp_notification n = {6, 7, NULL, 0};
    if (mm_bgp_notification_encode(&w, &n) == 0)
        bufferevent_write(bev, msg, mm_cursor_offset(&w));
    bufferevent_disable(bev, EV_READ);
    struct timeval tv = {5, 0};
    bufferevent_set_timeouts(bev, NULL, &tv);
    bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
    bufferevent_setcb(bev, NULL, closing_write_cb, closing_event_cb, NULL);
    bufferevent_enable(bev, EV_WRITE);
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        bufferevent_free(bev);
}

static void collision_close_fd(bgpd *d, evutil_socket_t fd)
{
    struct bufferevent *bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        evutil_closesocket(fd);
        return;
    }
    collision_close_bev(bev);
}

static void pend_drop(bgpd_peer *p)
{
    if (p->pend)
        bufferevent_free(p->pend);
    p->pend = NULL;
    p->pend_len = 0;
}

static void pend_event_cb(struct bufferevent *bev, short what, void *arg)
{
    bgpd_peer *p = arg;
    mm_log_info("collision", "peer=%s held inbound connection %s", p->cfg.address,
                (what & BEV_EVENT_TIMEOUT) ? "timed out" : "closed");
    pend_drop(p);
}

/* The held connection's OPEN is complete: keep the connection initiated by
 * the speaker with the higher BGP Identifier, close the other with Cease 7. */
static void collision_resolve(bgpd_peer *p, uint32_t remote_id)
{
    bgpd *d = p->d;
    uint32_t local_id = d->cfg->router_id;
    enum mm_bgp_state st = mm_bgp_session_state(p->s);
    char subj[80], obj[120];
    peer_subject(p, subj, sizeof(subj));
    struct in_addr la = {htonl(local_id)}, ra = {htonl(remote_id)};
    char ls[INET_ADDRSTRLEN], rs[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &la, ls, sizeof(ls));
    inet_ntop(AF_INET, &ra, rs, sizeof(rs));
    /* Keep ours when it is established or still the only live option, or when our identifier wins. */
    bool keep_ours = p->bev && (st == MM_BGP_ST_ESTABLISHED ||
                                (!p->connecting && p->outbound && local_id >= remote_id));
    snprintf(obj, sizeof(obj), "local id %s %s remote id %s: keep the %s connection", ls,
             local_id > remote_id ? ">" : local_id < remote_id ? "<" : "=", rs,
             keep_ours ? "outbound" : "inbound");
    audit(d, subj, "collision", obj, true, "RFC 4271 §6.8", NULL);
    mm_log_info("collision", "peer=%s %s", p->cfg.address, obj);
    if (keep_ours) {
        struct bufferevent *bev = p->pend;
        p->pend = NULL;
        p->pend_len = 0;
        collision_close_bev(bev);
        return;
    }
    if (p->bev) {
        if (!p->connecting) {
            /* Our connection got as far as OPEN: tell the peer why it goes. */
            mm_bgp_notification n = {6, 7, NULL, 0};
            peer_notification(p, true, &n);
            uint8_t msg[32];
            mm_cursor w;
            mm_cursor_init_write(&w, msg, sizeof(msg));
            if (mm_bgp_notification_encode(&w, &n) == 0)
                bufferevent_write(p->bev, msg, mm_cursor_offset(&w));
        }
        conn_close(p);
        mm_bgp_session_event(p->s, MM_BGP_EV_TCP_FAILS);
    }
    /* Adopt the held connection as the session's, then give it the OPEN. */
    struct bufferevent *bev = p->pend;
    p->pend = NULL;
    p->bev = bev;
    p->outbound = false;
    p->connecting = false;
    bufferevent_set_timeouts(bev, NULL, NULL);
    bufferevent_set_max_single_read(bev, 256u << 10);
    bufferevent_setcb(bev, peer_read_cb, peer_write_cb, peer_event_cb, p);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    if (mm_bgp_session_state(p->s) == MM_BGP_ST_IDLE)
        mm_bgp_session_event(p->s, MM_BGP_EV_MANUAL_START_PASSIVE);
    mm_bgp_session_event(p->s, MM_BGP_EV_TCP_CONFIRMED);
    size_t n = p->pend_len;
    p->pend_len = 0;
    mm_audit_batch_begin(d->audit);
    int rc = p->bev == bev ? mm_bgp_session_input(p->s, p->pend_buf, n) : -1;
    mm_audit_batch_end(d->audit);
    if (rc >= 0 && p->bev == bev && evbuffer_get_length(bufferevent_get_input(bev)) > 0)
        peer_read_cb(bev, p);
}

static void pend_read_cb(struct bufferevent *bev, void *arg)
{
    bgpd_peer *p = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    /* Header first, then the rest of the OPEN; anything else ends the connection. */
    while (p->pend) {
        size_t need = MM_BGP_HDR_LEN;
        if (p->pend_len >= MM_BGP_HDR_LEN) {
            need = (size_t)p->pend_buf[16] << 8 | p->pend_buf[17];
            bool marker = true;
            for (int i = 0; i < 16; i++)
                marker = marker && p->pend_buf[i] == 0xff;
            if (!marker || p->pend_buf[18] != MM_BGP_OPEN || need < MM_BGP_HDR_LEN + 10 ||
                need > sizeof(p->pend_buf)) {
                mm_log_warn("collision", "peer=%s held connection did not start with an OPEN",
                            p->cfg.address);
                pend_drop(p);
                return;
            }
        }
        if (p->pend_len == need) {
            mm_bgp_open o;
            mm_cursor c;
            mm_cursor_init_read(&c, p->pend_buf + MM_BGP_HDR_LEN, need - MM_BGP_HDR_LEN);
            /* An undecodable OPEN counts as identifier 0: it loses, unless
             * it is all there is - then the session answers it per RFC 4271 §6.2. */
            if (mm_bgp_open_decode(&c, &o) < 0)
                o.bgp_id = 0;
            collision_resolve(p, o.bgp_id);
            return;
        }
        int r = evbuffer_remove(in, p->pend_buf + p->pend_len, need - p->pend_len);
        if (r <= 0)
            return;
        p->pend_len += (size_t)r;
    }
}

static void listener_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                        void *arg)
{
    bgpd *d = arg;
    char addr[64] = "?";
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, addr, sizeof(addr));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof(addr));
    bgpd_peer *p = NULL;
    for (size_t i = 0; i < d->n_peers; i++)
        if (strcmp(d->peers[i].cfg.address, addr) == 0)
            p = &d->peers[i];
    char subj[80];
    snprintf(subj, sizeof(subj), "peer:%s", addr);
    /* Allow-list first: nothing is read from an unknown address. */
    if (!p) {
        audit(d, subj, "connect", "bgp", false, "not a configured neighbor", NULL);
        mm_log_warn("refused", "connection from %s: not a configured neighbor", addr);
        evutil_closesocket(fd);
        return;
    }
    if (set_gtsm(fd, &p->cfg) < 0) {
        evutil_closesocket(fd);
        return;
    }
    evutil_make_socket_nonblocking(fd);
    enum mm_bgp_state st = mm_bgp_session_state(p->s);
    if (st == MM_BGP_ST_ESTABLISHED || p->pend || (p->bev && !p->outbound)) {
        /* RFC 4271 §6.8: a collision with an Established session closes the
         * new connection; so does a second one from the peer while one of its
         * connections is already being opened. */
        audit(d, subj, "connect", "bgp", false,
              st == MM_BGP_ST_ESTABLISHED ? "RFC 4271 §6.8: a session with this neighbor is established"
                                          : "RFC 4271 §6.8: a connection from this neighbor is already open",
              NULL);
        collision_close_fd(d, fd);
        return;
    }
    audit(d, subj, "connect", "bgp", true, "configured neighbor", NULL);
    if (p->bev) {
        /* Our own connection is being opened too: hold this one until its
         * OPEN tells the peer's BGP Identifier (RFC 4271 §6.8). */
        p->pend = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (!p->pend) {
            evutil_closesocket(fd);
            return;
        }
        p->pend_len = 0;
        struct timeval tv = {d->cfg->hold_time ? d->cfg->hold_time : 90, 0};
        bufferevent_set_timeouts(p->pend, &tv, NULL);
        bufferevent_setcb(p->pend, pend_read_cb, NULL, pend_event_cb, p);
        bufferevent_enable(p->pend, EV_READ);
        mm_log_info("collision", "peer=%s inbound connection held until its OPEN (RFC 4271 §6.8)",
                    p->cfg.address);
        return;
    }
    conn_attach(p, fd);
    if (!p->bev)
        return;
    p->outbound = false;
    if (st == MM_BGP_ST_IDLE)
        mm_bgp_session_event(p->s, MM_BGP_EV_MANUAL_START_PASSIVE);
    mm_bgp_session_event(p->s, MM_BGP_EV_TCP_CONFIRMED);
}

/* ---------------------------------------------------------------- BMP sender */

#ifdef MM_BGPD_BMP
static void bmp_peer_of(const bgpd_peer *p, bgpd_bmp_peer *bp)
{
    const mm_bgp_session_info *in = mm_bgp_session_get_info(p->s);
    memset(bp, 0, sizeof(*bp));
    memcpy(&bp->addr, &p->cfg.sa, p->cfg.salen);
    bp->as = p->cfg.remote_as;
    bp->bgp_id = in->peer_router_id;
    bp->as4 = in->as4;
}

static void bmp_send_peer_up(bgpd_peer *p, bgpd_bmp *b)
{
    bgpd_bmp_peer bp;
    bmp_peer_of(p, &bp);
    bgpd_bmp_peer_up(b, &bp, &p->local, p->local_port, p->remote_port, p->open_sent,
                     p->open_sent_len, p->open_recv, p->open_recv_len);
}

static void bmp_resync(void *arg, bgpd_bmp *b)
{
    bgpd *d = arg;
    for (size_t i = 0; i < d->n_peers; i++)
        if (mm_bgp_session_state(d->peers[i].s) == MM_BGP_ST_ESTABLISHED)
            bmp_send_peer_up(&d->peers[i], b);
}

static void bmp_stats_cb(evutil_socket_t fd, short what, void *arg)
{
    bgpd *d = arg;
    for (size_t i = 0; i < d->n_peers; i++) {
        bgpd_peer *p = &d->peers[i];
        if (mm_bgp_session_state(p->s) != MM_BGP_ST_ESTABLISHED)
            continue;
        bgpd_bmp_counts c;
        memset(&c, 0, sizeof(c));
        c.rejected = p->rules_rejected;
        c.treat_as_withdraw = mm_bgp_session_get_info(p->s)->withdraw_treated;
        for (int f = 0; f < BGPD_NFAM && f < BGPD_BMP_NFAM; f++) {
            c.adj_rib_in += p->count[f];
            if (p->cfg.fam[f]) {
                c.fam[f].present = true;
                bgpd_fam_afisafi(f, &c.fam[f].afi, &c.fam[f].safi);
                c.fam[f].routes = p->count[f];
            }
        }
        bgpd_bmp_peer bp;
        bmp_peer_of(p, &bp);
        for (size_t k = 0; k < d->n_bmp; k++)
            bgpd_bmp_stats(d->bmp[k], &bp, &c);
    }
}
#endif

static void peer_message(void *arg, bool received, const uint8_t *m, size_t n)
{
    bgpd_peer *p = arg;
    if (n < MM_BGP_HDR_LEN || n > MM_BGP_MAX_LEN * 16)
        return;
    uint8_t type = m[18];
    if (type == MM_BGP_OPEN && n <= MM_BGP_MAX_LEN) {
        memcpy(received ? p->open_recv : p->open_sent, m, n);
        *(received ? &p->open_recv_len : &p->open_sent_len) = n;
    } else if (type == MM_BGP_NOTIFICATION && n <= MM_BGP_MAX_LEN) {
        memcpy(p->notif, m, n);
        p->notif_len = n;
        p->notif_dir = received ? 3 : 1;
    } else if (type == MM_BGP_UPDATE && received) {
        p->cur_update = m;
        p->cur_update_len = n;
    }
}

/* ---------------------------------------------------------------- session callbacks */

static void timer_cb(evutil_socket_t fd, short what, void *arg);

typedef struct { bgpd_peer *p; int which; } timer_arg;
static timer_arg timer_args[BGPD_MAX_PEERS][MM_BGP_N_TIMERS];

static void peer_timer(void *arg, int which, uint32_t secs)
{
    bgpd_peer *p = arg;
    if (secs == 0) {
        evtimer_del(p->timers[which]);
        return;
    }
    struct timeval tv = {(time_t)secs, 0};
    evtimer_add(p->timers[which], &tv);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    timer_arg *ta = arg;
    static const enum mm_bgp_event ev[MM_BGP_N_TIMERS] = {
        MM_BGP_EV_CONNECT_RETRY_EXPIRES, MM_BGP_EV_HOLD_EXPIRES, MM_BGP_EV_KEEPALIVE_EXPIRES};
    if (ta->which == MM_BGP_TIMER_HOLD)
        snprintf(ta->p->last_error, sizeof(ta->p->last_error), "hold timer expired");
    mm_bgp_session_event(ta->p->s, ev[ta->which]);
}

static void peer_drop(void *arg) { conn_close(arg); }

static void restart_cb(evutil_socket_t fd, short what, void *arg)
{
    bgpd_peer *p = arg;
    if (!p->d->stopping && mm_bgp_session_state(p->s) == MM_BGP_ST_IDLE)
        mm_bgp_session_event(p->s, MM_BGP_EV_MANUAL_START);
}

typedef struct { bgpd_peer *p; size_t n; } flush_ctx;

static void flushed_cb(void *arg, const mm_bgp_route *r)
{
    flush_ctx *f = arg;
    int fam = bgpd_fam_of(r->afi, r->safi);
    if (fam == BGPD_FLOW4 || fam == BGPD_FLOW6) {
        mm_buf b;
        mm_buf_init(&b, 1u << 16);
        rule_text(fam, r->nlri, r->nlri_len, r->ecomm, r->ecomm_len, &b);
        char subj[80];
        peer_subject(f->p, subj, sizeof(subj));
        audit(f->p->d, subj, "release", mm_buf_cstr(&b), true, "session down", NULL);
        mm_buf_free(&b);
    }
    f->n++;
}

static void peer_state(void *arg, enum mm_bgp_state from, enum mm_bgp_state to, const char *why)
{
    bgpd_peer *p = arg;
    char subj[80], obj[96];
    peer_subject(p, subj, sizeof(subj));
    snprintf(obj, sizeof(obj), "%s -> %s", mm_bgp_state_name(from), mm_bgp_state_name(to));
    mm_log_info("state", "peer=%s %s (%s)", p->cfg.address, obj, why);
    audit(p->d, subj, "state", obj, true, why && *why ? why : "fsm", NULL);
    if (why && *why && to == MM_BGP_ST_IDLE)
        snprintf(p->last_error, sizeof(p->last_error), "%s", why);
#ifdef MM_BGPD_BMP
    if (from == MM_BGP_ST_ESTABLISHED) {
        bgpd_bmp_peer bp;
        bmp_peer_of(p, &bp);
        /* RFC 7854 §4.9: 1/3 carry the NOTIFICATION PDU; 2 the FSM event; 4 a close without one. */
        uint8_t reason = p->notif_dir ? (uint8_t)p->notif_dir : 4;
        for (size_t k = 0; k < p->d->n_bmp; k++)
            bgpd_bmp_peer_down(p->d->bmp[k], &bp, reason, p->notif, p->notif_len, 0);
    }
#endif
    if (from == MM_BGP_ST_ESTABLISHED) {
        /* A vanished peer releases what it holds. */
        mm_audit_batch_begin(p->d->audit);
        flush_ctx f = {p, 0};
        mm_bgp_rib_flush_peer(p->d->rib, p->id, flushed_cb, &f);
        mm_audit_batch_end(p->d->audit);
        memset(p->count, 0, sizeof(p->count));
        mm_log_info("released", "peer=%s routes=%zu", p->cfg.address, f.n);
        if (p->cfg.install)
            nft_schedule(p->d);
    }
    if (to == MM_BGP_ST_ESTABLISHED && p->pend) {
        /* RFC 4271 §6.8: once a session is Established, a colliding
         * connection is closed. A held inbound connection whose OPEN never
         * came (GoBGP may dial and then stay silent on it) would otherwise
         * linger until its hold timer. */
        audit(p->d, subj, "collision", "held inbound connection", true,
              "RFC 4271 §6.8: session established on the other connection", NULL);
        mm_log_info("collision", "peer=%s held inbound connection closed: session established",
                    p->cfg.address);
        struct bufferevent *held = p->pend;
        p->pend = NULL;
        p->pend_len = 0;
        collision_close_bev(held);
    }
    if (to == MM_BGP_ST_ESTABLISHED) {
        p->up_since_ms = mm_monotonic_ms();
        p->last_error[0] = 0;
        p->notif_dir = 0;
        p->notif_len = 0;
        if (p->bev) {
            evutil_socket_t fd = bufferevent_getfd(p->bev);
            struct sockaddr_storage rs;
            socklen_t ll = sizeof(p->local), rl = sizeof(rs);
            memset(&p->local, 0, sizeof(p->local));
            if (getsockname(fd, (struct sockaddr *)&p->local, &ll) == 0 &&
                getpeername(fd, (struct sockaddr *)&rs, &rl) == 0) {
                p->local_port = ntohs(p->local.ss_family == AF_INET6
                                          ? ((struct sockaddr_in6 *)&p->local)->sin6_port
                                          : ((struct sockaddr_in *)&p->local)->sin_port);
                p->remote_port = ntohs(rs.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&rs)->sin6_port
                                                                 : ((struct sockaddr_in *)&rs)->sin_port);
            }
        }
#ifdef MM_BGPD_BMP
        for (size_t k = 0; k < p->d->n_bmp; k++)
            bmp_send_peer_up(p, p->d->bmp[k]);
#endif
        for (int fam = BGPD_FLOW4; fam <= BGPD_FLOW6; fam++) {
            if (!peer_has(p, fam))
                continue;
            uint16_t afi;
            uint8_t safi;
            bgpd_fam_afisafi(fam, &afi, &safi);
            orig_walk ow = {p, fam};
            mm_bgp_rib_walk(p->d->rib, 0, afi, safi, orig_cb, &ow);
            send_eor(p, fam);
        }
    }
    if (to == MM_BGP_ST_IDLE && !p->d->stopping) {
        struct timeval tv = {p->d->cfg->connect_retry, 0};
        evtimer_add(p->restart, &tv);
    }
}

static void peer_notification(void *arg, bool sent, const mm_bgp_notification *n)
{
    bgpd_peer *p = arg;
    char subj[80], obj[160];
    peer_subject(p, subj, sizeof(subj));
    char text[130] = "";
    /* RFC 9003: Cease subcodes 2 and 4 carry a length-prefixed UTF-8 message. */
    if (n->code == 6 && (n->subcode == 2 || n->subcode == 4) && n->data_len >= 1 &&
        n->data[0] <= n->data_len - 1) {
        size_t l = n->data[0] < sizeof(text) - 1 ? n->data[0] : sizeof(text) - 1;
        for (size_t i = 0; i < l; i++)
            text[i] = n->data[1 + i] >= 0x20 && n->data[1 + i] < 0x7f ? (char)n->data[1 + i] : '?';
        text[l] = 0;
    }
    snprintf(obj, sizeof(obj), "%s %u/%u %s%s%s", sent ? "sent" : "received", n->code, n->subcode,
             mm_bgp_notification_code_name(n->code), text[0] ? ": " : "", text);
    snprintf(p->last_error, sizeof(p->last_error), "NOTIFICATION %s", obj);
    mm_log_warn("notification", "peer=%s %s", p->cfg.address, obj);
    audit(p->d, subj, "notification", obj, true, "protocol", NULL);
}

/* Is the eBGP route's AS_PATH led by the neighbour AS (RFC 8955 §6 c)? */
static bool aspath_first_is(const mm_bgp_update *u, uint32_t as)
{
    const mm_bgp_attr *a = mm_bgp_update_attr(u, MM_BGP_ATTR_AS_PATH);
    if (!a || a->len < 2 + (u->as4 ? 4 : 2) || a->val[0] != 2)
        return false;
    uint32_t first = u->as4 ? (uint32_t)a->val[2] << 24 | (uint32_t)a->val[3] << 16 |
                                  (uint32_t)a->val[4] << 8 | a->val[5]
                            : (uint32_t)a->val[2] << 8 | a->val[3];
    return first == as;
}

static bool validate_rule(bgpd_peer *p, uint16_t afi, const uint8_t *r, size_t rl,
                          const mm_bgp_update *u, const char **why)
{
    mm_bgp_fs_rule *rule = malloc(sizeof(*rule));
    if (!rule)
        return *why = "out of memory", false;
    mm_bgp_fs_validation_input in;
    memset(&in, 0, sizeof(in));
    mm_bgp_prefix dst;
    if (mm_bgp_fs_decode(afi, r, rl, rule, why) == 0 && mm_bgp_fs_rule_dst(rule, &dst)) {
        in.has_dst = true;
        const mm_bgp_route *best = mm_bgp_rib_lookup(p->d->rib, &dst);
        in.unicast_found = best != NULL;
        in.same_originator = best && best->peer == p->id;
    }
    free(rule);
    in.ebgp = p->cfg.remote_as != p->d->cfg->local_as;
    in.aspath_ok = aspath_first_is(u, p->cfg.remote_as);
    return mm_bgp_fs_validate(&in, why) == 0;
}

static void max_prefix_exceeded(bgpd_peer *p, int fam)
{
    uint16_t afi;
    uint8_t safi;
    bgpd_fam_afisafi(fam, &afi, &safi);
    uint32_t lim = p->cfg.max_prefix[fam];
    char subj[80], obj[96];
    peer_subject(p, subj, sizeof(subj));
    snprintf(obj, sizeof(obj), "%s over %u routes", bgpd_fam_short(fam), lim);
    audit(p->d, subj, "max-prefix", obj, false, "RFC 4486 Cease 1", NULL);
    /* RFC 4486 §4: data = AFI, SAFI, the limit. */
    uint8_t data[7] = {(uint8_t)(afi >> 8), (uint8_t)afi, safi, (uint8_t)(lim >> 24),
                       (uint8_t)(lim >> 16), (uint8_t)(lim >> 8), (uint8_t)lim};
    uint8_t msg[64];
    mm_cursor w;
    mm_cursor_init_write(&w, msg, sizeof(msg));
    mm_bgp_notification n = {6, 1, data, sizeof(data)};
    if (mm_bgp_notification_encode(&w, &n) == 0 && p->bev) {
        peer_notification(p, true, &n);
        bufferevent_write(p->bev, msg, mm_cursor_offset(&w));
    }
    snprintf(p->last_error, sizeof(p->last_error), "maximum prefixes reached (%s)", obj);
    conn_close(p);
    mm_bgp_session_event(p->s, MM_BGP_EV_TCP_FAILS);
}

#define LOOKAHEAD 8
#define LA_RING (2 * LOOKAHEAD)

typedef struct la_key {
    const uint8_t *key; /* the rule bytes in the UPDATE, or pk */
    size_t kl;
    uint8_t pk[17];
} la_key;

typedef struct la_ring {
    la_key k[LA_RING];
    size_t n_in, n_out;
} la_ring;
/* Accepted FlowSpec rules per audit record; the record's object stays under
 * the audit log's 4 KiB field limit, so no rule text is ever shortened. */
#define GROUP_MAX 64
#define GROUP_TEXT_MAX 3800

typedef struct rule_group {
    const uint8_t *key[GROUP_MAX];
    size_t len[GROUP_MAX];
    size_t n;
    mm_buf text; /* "flow4 [match] [match] ..." */
} rule_group;

/* One route into the Adj-RIB-In; false once the peer is over its maximum-prefix limit. */
static bool rib_take(bgpd_peer *p, int fam, const mm_bgp_route *r)
{
    bool replaced = false;
    if (mm_bgp_rib_add(p->d->rib, r, &replaced) == 0 && !replaced)
        p->count[fam]++;
    if (r->safi == MM_BGP_SAFI_FLOWSPEC)
        p->rules_in++;
    return !(p->cfg.max_prefix[fam] && p->count[fam] > p->cfg.max_prefix[fam]);
}

/* Audit the pending accepted rules in one record, then add them (tmpl gives
 * their attributes). A group that cannot be audited is not accepted. */
static bool group_flush(bgpd_peer *p, int fam, const char *subj, mm_buf *acts,
                        const mm_bgp_route *tmpl, rule_group *g)
{
    if (g->n == 0)
        return true;
    mm_buf_append(&g->text, mm_buf_cstr(acts), acts->len);
    char why[40];
    snprintf(why, sizeof(why), "accepted (%zu rule%s)", g->n, g->n == 1 ? "" : "s");
    bool ok = true;
    if (audit(p->d, subj, "receive-announce", mm_buf_cstr(&g->text), true, why, NULL) == 0) {
        for (size_t i = 0; i < g->n && ok; i++) {
            mm_bgp_route r = *tmpl;
            r.nlri = (uint8_t *)g->key[i];
            r.nlri_len = (uint16_t)g->len[i];
            r.valid = true;
            ok = rib_take(p, fam, &r);
        }
    }
    g->n = 0;
    mm_buf_reset(&g->text);
    return ok;
}

/* The next RIB key of an NLRI list: a FlowSpec rule's bytes, or a prefix's
 * (length, address bytes) in pk. False at the end or on a malformed entry. */
static bool next_key(mm_cursor *c, bool flow, uint16_t afi, const uint8_t **key, size_t *kl,
                     uint8_t pk[17])
{
    if (flow)
        return mm_bgp_flowspec_next(c, key, kl) > 0;
    mm_bgp_prefix pfx;
    if (mm_bgp_nlri_next(c, afi, false, &pfx) <= 0)
        return false;
    *kl = mm_bgp_rib_prefix_key(&pfx, pk);
    *key = pk;
    return true;
}

/* Apply one MP_REACH/MP_UNREACH or classic NLRI list to the Adj-RIB-In. */
static bool apply_list(bgpd_peer *p, uint16_t afi, uint8_t safi, const uint8_t *nl, size_t len,
                       bool reach, const mm_bgp_update *u, const mm_bgp_update_verdict *v)
{
    int fam = bgpd_fam_of(afi, safi);
    if (fam < 0)
        return true;
    const mm_bgp_session_info *in = mm_bgp_session_get_info(p->s);
    bool negotiated = fam == BGPD_FLOW4 ? in->fam_flow4 : fam == BGPD_FLOW6 ? in->fam_flow6
                      : fam == BGPD_V4U ? in->fam_v4_unicast : in->fam_v6_unicast;
    if (!negotiated)
        return true; /* RFC 4760 §7: ignore families not negotiated */
    bool flow = safi == MM_BGP_SAFI_FLOWSPEC;
    /* RFC 7606: treat-as-withdraw turns every announcement of the UPDATE into a withdrawal. */
    bool withdraw = !reach || v->action == MM_BGP_ERR_WITHDRAW;
    const mm_bgp_attr *ec = mm_bgp_update_attr(u, MM_BGP_ATTR_EXT_COMMUNITIES);
    mm_buf aspath;
    mm_buf_init(&aspath, 1u << 16);
    const mm_bgp_attr *ap = mm_bgp_update_attr(u, MM_BGP_ATTR_AS_PATH);
    if (ap && !withdraw)
        mm_bgp_aspath_format(ap->val, ap->len, u->as4, &aspath);
    const mm_bgp_attr *og = mm_bgp_update_attr(u, MM_BGP_ATTR_ORIGIN);
    char subj[80];
    peer_subject(p, subj, sizeof(subj));
    /* The actions are the same for every rule of the UPDATE: render them once. */
    mm_buf acts;
    mm_buf_init(&acts, 1u << 16);
    if (flow && ec && !withdraw)
        actions_text(ec->val, ec->len, &acts);
    mm_buf_cstr(&acts);
    mm_cursor c;
    mm_cursor_init_read(&c, nl, len);
    /* Keys are parsed once, 2*LOOKAHEAD ahead of their use, into a ring:
     * each one's RIB bucket is prefetched when it is parsed and its chain
     * head LOOKAHEAD keys before its turn. Without it a full table is one
     * cache miss after another. */
    la_ring ring = {.n_in = 0};
    bool la_ok = true;
    bool ok = true;
    rule_group grp = {.n = 0};
    mm_buf_init(&grp.text, GROUP_TEXT_MAX + 4096);
    for (;;) {
        while (la_ok && ring.n_in - ring.n_out < LA_RING) {
            la_key *k = &ring.k[ring.n_in % LA_RING];
            if ((la_ok = next_key(&c, flow, afi, &k->key, &k->kl, k->pk))) {
                mm_bgp_rib_prefetch(p->d->rib, afi, safi, k->key, k->kl, 0);
                ring.n_in++;
            }
        }
        if (ring.n_out == ring.n_in)
            break;
        la_key cur = ring.k[ring.n_out++ % LA_RING];
        const uint8_t *key = flow ? cur.key : cur.pk;
        size_t kl = cur.kl;
        if (ring.n_in - ring.n_out >= LOOKAHEAD) {
            const la_key *ah = &ring.k[(ring.n_out + LOOKAHEAD - 1) % LA_RING];
            mm_bgp_rib_prefetch(p->d->rib, afi, safi, ah->key, ah->kl, 1);
        }
        if (withdraw) {
            mm_buf t;
            mm_buf_init(&t, 1u << 16);
            if (flow) {
                match_text(fam, key, kl, &t);
                mm_buf_append(&t, mm_buf_cstr(&acts), acts.len);
            }
            if (mm_bgp_rib_del(p->d->rib, p->id, afi, safi, key, kl) == 0) {
                p->count[fam]--;
                if (flow)
                    audit(p->d, subj, v->action == MM_BGP_ERR_WITHDRAW && reach ? "treat-as-withdraw"
                                                                                : "receive-withdraw",
                          mm_buf_cstr(&t), true, v->why ? v->why : "withdrawn", NULL);
            } else if (flow && reach) {
                audit(p->d, subj, "treat-as-withdraw", mm_buf_cstr(&t), false, v->why, NULL);
            }
            mm_buf_free(&t);
            continue;
        }
        mm_bgp_route r = {.peer = p->id, .afi = afi, .safi = safi, .nlri = (uint8_t *)key,
                          .nlri_len = (uint16_t)kl, .ecomm = ec ? (uint8_t *)ec->val : NULL,
                          .ecomm_len = ec ? ec->len : 0, .origin = og ? og->val[0] : 2,
                          .aspath = (char *)mm_buf_cstr(&aspath), .valid = true};
        if (!flow) {
            if (!(ok = rib_take(p, fam, &r)))
                break;
            continue;
        }
        const char *why = NULL;
        if (p->cfg.validate)
            r.valid = validate_rule(p, afi, key, kl, u, &why);
        if (r.valid) {
            /* Accepted rules are audited in groups (one record for up to
             * GROUP_MAX rules of this UPDATE: their matches, then the actions
             * they share), each group before its rules enter the RIB. */
            if (grp.n == GROUP_MAX || grp.text.len + kl * 8 + acts.len + 64 > GROUP_TEXT_MAX)
                if (!(ok = group_flush(p, fam, subj, &acts, &r, &grp)))
                    break;
            if (grp.n == 0)
                mm_buf_append_str(&grp.text, bgpd_fam_short(fam));
            mm_buf_append_str(&grp.text, " [");
            if (mm_bgp_flowspec_format(afi, key, kl, &grp.text) < 0)
                mm_buf_append_str(&grp.text, "<undecodable>");
            mm_buf_append_str(&grp.text, "]");
            grp.key[grp.n] = key;
            grp.len[grp.n++] = kl;
            continue;
        }
        /* A refused rule gets a record of its own, with the reason. */
        if (!(ok = group_flush(p, fam, subj, &acts, &r, &grp)))
            break;
        mm_buf t;
        mm_buf_init(&t, 1u << 16);
        match_text(fam, key, kl, &t);
        mm_buf_append(&t, mm_buf_cstr(&acts), acts.len);
        /* The audit record comes first: a rule that cannot be audited is not accepted. */
        int arc = audit(p->d, subj, "receive-announce", mm_buf_cstr(&t), false, why, NULL);
        mm_buf_free(&t);
        if (arc < 0)
            continue;
        p->rules_rejected++;
        if (!(ok = rib_take(p, fam, &r)))
            break;
    }
    if (ok && flow && !withdraw) {
        mm_bgp_route r = {.peer = p->id, .afi = afi, .safi = safi,
                          .ecomm = ec ? (uint8_t *)ec->val : NULL, .ecomm_len = ec ? ec->len : 0,
                          .origin = og ? og->val[0] : 2, .aspath = (char *)mm_buf_cstr(&aspath),
                          .valid = true};
        ok = group_flush(p, fam, subj, &acts, &r, &grp);
    }
    mm_buf_free(&grp.text);
    mm_buf_free(&aspath);
    mm_buf_free(&acts);
    if (flow && p->cfg.install)
        nft_schedule(p->d);
    if (!ok)
        max_prefix_exceeded(p, fam);
    return ok;
}

static void peer_update(void *arg, const mm_bgp_update *u, const mm_bgp_update_verdict *v)
{
    bgpd_peer *p = arg;
#ifdef MM_BGPD_BMP
    if (p->cur_update && p->d->n_bmp) {
        bgpd_bmp_peer bp;
        bmp_peer_of(p, &bp);
        for (size_t k = 0; k < p->d->n_bmp; k++) {
            bgpd_bmp_route_monitoring(p->d->bmp[k], &bp, false, p->cur_update, p->cur_update_len);
            /* Post-policy: what we kept unchanged (no RFC 7606 action, and valid if validating). */
            if (v->action == MM_BGP_ERR_NONE)
                bgpd_bmp_route_monitoring(p->d->bmp[k], &bp, true, p->cur_update, p->cur_update_len);
        }
    }
    p->cur_update = NULL;
#endif
    if (v->action >= MM_BGP_ERR_AFISAFI) {
        char subj[80];
        peer_subject(p, subj, sizeof(subj));
        audit(p->d, subj, "update-error", v->why ? v->why : "malformed", false,
              mm_bgp_err_action_name(v->action), NULL);
        return;
    }
    if (u->withdrawn_len &&
        !apply_list(p, MM_BGP_AFI_IPV4, MM_BGP_SAFI_UNICAST, u->withdrawn, u->withdrawn_len, false, u, v))
        return;
    if (u->mp_unreach.present &&
        !apply_list(p, u->mp_unreach.afi, u->mp_unreach.safi, u->mp_unreach.nlri,
                    u->mp_unreach.nlri_len, false, u, v))
        return;
    if (u->nlri_len &&
        !apply_list(p, MM_BGP_AFI_IPV4, MM_BGP_SAFI_UNICAST, u->nlri, u->nlri_len, true, u, v))
        return;
    if (u->mp_reach.present)
        apply_list(p, u->mp_reach.afi, u->mp_reach.safi, u->mp_reach.nlri, u->mp_reach.nlri_len,
                   true, u, v);
}

static void peer_route_refresh(void *arg, uint16_t afi, uint8_t safi)
{
    bgpd_peer *p = arg;
    int fam = bgpd_fam_of(afi, safi);
    if (fam != BGPD_FLOW4 && fam != BGPD_FLOW6)
        return;
    /* RFC 2918: send the Adj-RIB-Out again. */
    orig_walk ow = {p, fam};
    mm_bgp_rib_walk(p->d->rib, 0, afi, safi, orig_cb, &ow);
    send_eor(p, fam);
}

static const mm_bgp_session_ops peer_ops = {peer_send, peer_state, peer_update, peer_notification,
                                            peer_timer, peer_drop, peer_connect, peer_route_refresh,
                                            peer_message};

/* ---------------------------------------------------------------- start / stop */

static int originate_config(bgpd *d)
{
    if (!d->cfg->flowspec)
        return 0;
    size_t i;
    json_t *r;
    json_array_foreach(d->cfg->flowspec, i, r) {
        json_t *fam = json_object_get(r, "family");
        int f = json_is_string(fam) ? bgpd_fam_parse(json_string_value(fam)) : BGPD_FLOW4;
        json_t *res = bgpd_ctl_announce(d, "config", f, json_string_value(json_object_get(r, "match")),
                                        json_object_get(r, "then"));
        bool ok = json_is_true(json_object_get(res, "ok"));
        json_decref(res);
        if (!ok)
            return MM_ECONFIG;
    }
    return 0;
}

int bgpd_start(struct event_base *base, bgpd_config *cfg, bgpd **out)
{
    bgpd *d = calloc(1, sizeof(*d));
    if (!d)
        return MM_ENOMEM;
    d->base = base;
    d->cfg = cfg;
    int rc = mm_audit_open(cfg->audit_path, &d->audit);
    if (rc < 0) {
        mm_log_error("audit", "cannot open %s: %s", cfg->audit_path, mm_strerror(rc));
        free(d);
        return rc;
    }
    /* 2^20 buckets: a full table never has to be rehashed on the way in; the
     * array is calloc'd (mmap'd zero pages), so a small RIB touches few pages. */
    if ((rc = mm_bgp_rib_new(20, &d->rib)) < 0)
        goto fail;
    d->n_peers = cfg->n_peers;
    for (size_t i = 0; i < cfg->n_peers; i++) {
        bgpd_peer *p = &d->peers[i];
        p->d = d;
        p->id = (uint32_t)i + 1;
        p->cfg = cfg->peers[i];
        mm_bgp_session_config sc = {
            .local_as = cfg->local_as, .peer_as = p->cfg.remote_as, .router_id = cfg->router_id,
            .hold_time = p->cfg.hold_time, .connect_retry = cfg->connect_retry,
            .passive = p->cfg.passive, .ibgp_allowed = true,
            .fam_v4_unicast = p->cfg.fam[BGPD_V4U], .fam_v6_unicast = p->cfg.fam[BGPD_V6U],
            .fam_flow4 = p->cfg.fam[BGPD_FLOW4], .fam_flow6 = p->cfg.fam[BGPD_FLOW6],
            .ext_msg = true, .graceful_restart = true};
        if ((rc = mm_bgp_session_new(&sc, &peer_ops, p, &p->s)) < 0)
            goto fail;
        for (int t = 0; t < MM_BGP_N_TIMERS; t++) {
            timer_args[i][t] = (timer_arg){p, t};
            p->timers[t] = evtimer_new(base, timer_cb, &timer_args[i][t]);
        }
        p->restart = evtimer_new(base, restart_cb, p);
    }
    if ((rc = originate_config(d)) < 0)
        goto fail;
    for (size_t i = 0; i < d->n_peers; i++) {
        if (!d->peers[i].cfg.install)
            continue;
#ifdef MM_BGPD_NFT
        if (!d->nft) {
            if ((rc = bgpd_nft_new(cfg->nft_table, &d->nft)) < 0)
                goto fail;
            d->nft_ev = evtimer_new(base, nft_sync_cb, d);
            nft_sync_cb(-1, 0, d); /* an empty table now: fail early without privileges */
            if (!d->nft) {
                rc = MM_ESYS;
                goto fail;
            }
        }
#else
        mm_log_error("install", "peer=%s: built without libnftables", d->peers[i].cfg.address);
        rc = MM_EUNSUPPORTED;
        goto fail;
#endif
    }
    if (cfg->listen) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        socklen_t sl;
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, cfg->listen_address, &a4->sin_addr) == 1) {
            a4->sin_family = AF_INET;
            a4->sin_port = htons(cfg->listen_port);
            sl = sizeof(*a4);
        } else {
            inet_pton(AF_INET6, cfg->listen_address, &a6->sin6_addr);
            a6->sin6_family = AF_INET6;
            a6->sin6_port = htons(cfg->listen_port);
            sl = sizeof(*a6);
        }
        d->lis = evconnlistener_new_bind(base, listener_cb, d,
                                         LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                         64, (struct sockaddr *)&ss, (int)sl);
        if (!d->lis) {
            mm_log_error("listen", "%s port %u: %s", cfg->listen_address, cfg->listen_port,
                         strerror(errno));
            rc = MM_ESYS;
            goto fail;
        }
        /* MD5 and AO keys must be on the listener before a peer's SYN arrives. */
        for (size_t i = 0; i < d->n_peers; i++)
            if ((rc = set_md5(evconnlistener_get_fd(d->lis), &d->peers[i].cfg)) < 0 ||
                (rc = set_ao(evconnlistener_get_fd(d->lis), &d->peers[i].cfg)) < 0)
                goto fail;
    }
    if (cfg->control_socket[0] && (rc = bgpd_control_start(d, base, cfg->control_socket, &d->ctl)) < 0)
        goto fail;
#ifdef MM_BGPD_BMP
    for (size_t k = 0; k < cfg->n_bmp; k++) {
        if ((rc = bgpd_bmp_new(base, cfg->bmp[k].address, cfg->bmp[k].port, cfg->connect_retry,
                               bmp_resync, d, &d->bmp[k])) < 0)
            goto fail;
        d->n_bmp = k + 1;
    }
    if (d->n_bmp) {
        d->bmp_stats_ev = event_new(base, -1, EV_PERSIST, bmp_stats_cb, d);
        struct timeval tv = {cfg->bmp_stats_interval, 0};
        event_add(d->bmp_stats_ev, &tv);
    }
#else
    if (cfg->n_bmp) {
        mm_log_error("bmp", "built without the BMP module");
        rc = MM_EUNSUPPORTED;
        goto fail;
    }
#endif
    for (size_t i = 0; i < d->n_peers; i++)
        mm_bgp_session_event(d->peers[i].s, d->peers[i].cfg.passive ? MM_BGP_EV_MANUAL_START_PASSIVE
                                                                    : MM_BGP_EV_MANUAL_START);
    *out = d;
    return 0;
fail:
    bgpd_stop(d);
    return rc;
}

void bgpd_stop(bgpd *d)
{
    if (!d)
        return;
    d->stopping = true;
    for (size_t i = 0; i < d->n_peers; i++) {
        bgpd_peer *p = &d->peers[i];
        if (p->s && mm_bgp_session_state(p->s) >= MM_BGP_ST_OPENSENT)
            mm_bgp_session_shutdown(p->s, 2, "mamori-bgpd shutting down");
        if (p->bev) {
            /* Best effort to get the NOTIFICATION out before exit. */
            evutil_socket_t fd = bufferevent_getfd(p->bev);
            struct evbuffer *o = bufferevent_get_output(p->bev);
            if (fd >= 0)
                evbuffer_write(o, fd);
        }
        conn_close(p);
        for (int t = 0; t < MM_BGP_N_TIMERS; t++)
            if (p->timers[t])
                event_free(p->timers[t]);
        if (p->restart)
            event_free(p->restart);
        pend_drop(p);
        mm_bgp_session_free(p->s);
    }
    if (d->ctl)
        bgpd_control_stop(d->ctl);
#ifdef MM_BGPD_BMP
    if (d->bmp_stats_ev)
        event_free(d->bmp_stats_ev);
    for (size_t k = 0; k < d->n_bmp; k++)
        bgpd_bmp_free(d->bmp[k]);
#endif
#ifdef MM_BGPD_NFT
    if (d->nft_ev)
        event_free(d->nft_ev);
    bgpd_nft_free(d->nft); /* a stopped speaker leaves no rules behind */
#endif
    if (d->lis)
        evconnlistener_free(d->lis);
    mm_bgp_rib_free(d->rib);
    mm_audit_close(d->audit);
    free(d);
}

/* ---------------------------------------------------------------- control requests */

json_t *bgpd_ctl_neighbors(bgpd *d)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < d->n_peers; i++) {
        bgpd_peer *p = &d->peers[i];
        const mm_bgp_session_info *in = mm_bgp_session_get_info(p->s);
        enum mm_bgp_state st = mm_bgp_session_state(p->s);
        json_t *fams = json_array(), *pfx = json_object();
        bool neg[BGPD_NFAM] = {in->fam_v4_unicast, in->fam_v6_unicast, in->fam_flow4, in->fam_flow6};
        for (int f = 0; f < BGPD_NFAM; f++) {
            if (st == MM_BGP_ST_ESTABLISHED && neg[f])
                json_array_append_new(fams, json_string(bgpd_fam_name(f)));
            if (p->cfg.fam[f])
                json_object_set_new(pfx, bgpd_fam_short(f), json_integer(p->count[f]));
        }
        char rid[32] = "";
        if (in->peer_router_id) {
            struct in_addr a = {htonl(in->peer_router_id)};
            inet_ntop(AF_INET, &a, rid, sizeof(rid));
        }
        json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:b, s:b, s:b, s:b, s:b}", "address", p->cfg.address,
                              "remote-as", (json_int_t)p->cfg.remote_as, "description",
                              p->cfg.description, "state", mm_bgp_state_name(st), "passive",
                              p->cfg.passive, "gtsm", p->cfg.gtsm, "md5", p->cfg.md5[0] != 0,
                              "tcp-ao", p->cfg.ao,
                              "validate", p->cfg.validate);
        json_object_set_new(o, "families", fams);
        json_object_set_new(o, "prefixes", pfx);
        if (st == MM_BGP_ST_ESTABLISHED) {
            json_object_set_new(o, "router-id", json_string(rid));
            json_object_set_new(o, "hold-time", json_integer(in->hold_time));
            json_object_set_new(o, "uptime-s", json_integer((mm_monotonic_ms() - p->up_since_ms) / 1000));
            json_object_set_new(o, "four-octet-as", json_boolean(in->as4));
            json_object_set_new(o, "extended-message", json_boolean(in->ext_msg));
        }
        json_object_set_new(o, "updates-in", json_integer((json_int_t)in->updates_in));
        json_object_set_new(o, "updates-out", json_integer((json_int_t)in->updates_out));
        json_object_set_new(o, "treat-as-withdraw", json_integer((json_int_t)in->withdraw_treated));
        json_object_set_new(o, "rules-received", json_integer((json_int_t)p->rules_in));
        json_object_set_new(o, "rules-invalid", json_integer((json_int_t)p->rules_rejected));
        json_object_set_new(o, "last-error", json_string(p->last_error));
        json_array_append_new(arr, o);
    }
    return json_pack("{s:b, s:o}", "ok", 1, "neighbors", arr);
}

typedef struct {
    bgpd *d;
    int fam;
    const mm_bgp_route **v;
    size_t n, cap;
} rib_list;

static void rib_collect(void *arg, const mm_bgp_route *r)
{
    rib_list *l = arg;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        const mm_bgp_route **nv = realloc(l->v, nc * sizeof(*nv));
        if (!nv)
            return;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = r;
}

static int rib_sort_afi;
static int rib_sort_cmp(const void *a, const void *b)
{
    const mm_bgp_route *x = *(const mm_bgp_route *const *)a, *y = *(const mm_bgp_route *const *)b;
    int c = mm_bgp_fs_cmp((uint16_t)rib_sort_afi, x->nlri, x->nlri_len, y->nlri, y->nlri_len);
    return c ? c : (x->peer < y->peer ? -1 : x->peer > y->peer);
}

static json_t *ifit_json(const mm_bgp_ifit *f)
{
    const mm_bgp_ifit_desc *dsc = mm_bgp_ifit_desc_get(f->method);
    json_t *o = json_pack("{s:s, s:b}", "method", dsc->name, "ignored", f->ignored);
    switch (dsc->layout) {
    case MM_BGP_IFIT_L_TRACE:
    case MM_BGP_IFIT_L_DEX:
        json_object_set_new(o, "namespace-id", json_integer(f->namespace_id));
        json_object_set_new(o, "trace-type", json_integer(f->trace_type));
        json_object_set_new(o, dsc->layout == MM_BGP_IFIT_L_DEX ? "ext-flags" : "flags",
                            json_integer(f->flags));
        break;
    case MM_BGP_IFIT_L_E2E:
        json_object_set_new(o, "namespace-id", json_integer(f->namespace_id));
        json_object_set_new(o, "e2e-type", json_integer(f->e2e_type));
        break;
    case MM_BGP_IFIT_L_EAM:
        json_object_set_new(o, "flow-mon-id", json_integer(f->flow_mon_id));
        json_object_set_new(o, "period", json_integer(f->period));
        json_object_set_new(o, "loss", json_boolean(f->loss));
        json_object_set_new(o, "delay", json_boolean(f->delay));
        break;
    }
    return o;
}

json_t *bgpd_ctl_route_json(bgpd *d, int fam, const mm_bgp_route *r)
{
    uint16_t afi;
    uint8_t safi;
    bgpd_fam_afisafi(fam, &afi, &safi);
    bool flow = safi == MM_BGP_SAFI_FLOWSPEC;
    json_t *o = json_object();
    json_object_set_new(o, "peer", json_string(bgpd_peer_address(d, r->peer)));
    json_object_set_new(o, "family", json_string(bgpd_fam_name(fam)));
    mm_buf t;
    mm_buf_init(&t, 1u << 16);
    if (flow) {
        mm_bgp_flowspec_format(afi, r->nlri, r->nlri_len, &t);
    } else {
        mm_bgp_prefix pfx;
        memset(&pfx, 0, sizeof(pfx));
        pfx.afi = afi;
        pfx.len = r->nlri[0];
        memcpy(pfx.addr, r->nlri + 1, r->nlri_len - 1u);
        char s[64];
        mm_bgp_prefix_format(&pfx, s, sizeof(s));
        mm_buf_append_str(&t, s);
    }
    json_object_set_new(o, flow ? "match" : "prefix", json_string(mm_buf_cstr(&t)));
    mm_buf_reset(&t);
    char hex[17];
    json_t *ecs = json_array();
    for (size_t k = 0; k + 8 <= r->ecomm_len; k += 8) {
        mm_hex_encode(r->ecomm + k, 8, hex);
        for (char *c = hex; *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c - 'A' + 'a');
        json_array_append_new(ecs, json_string(hex));
    }
    json_object_set_new(o, "extended-communities", ecs);
    mm_bgp_fs_actions a;
    if (flow && mm_bgp_fs_actions_decode(r->ecomm, r->ecomm_len, &a) == 0) {
        mm_bgp_fs_actions_format(&a, &t);
        json_object_set_new(o, "actions", json_string(mm_buf_cstr(&t)));
        json_t *ifit = json_array();
        for (size_t k = 0; k < a.n_ifit; k++)
            json_array_append_new(ifit, ifit_json(&a.ifit[k]));
        json_object_set_new(o, "ifit", ifit);
        json_object_set_new(o, "unknown-ecs", json_integer((json_int_t)a.n_unknown));
    }
    mm_buf_free(&t);
    json_object_set_new(o, "as-path", json_string(r->aspath ? r->aspath : ""));
    json_object_set_new(o, "valid", json_boolean(r->valid));
    json_object_set_new(o, "best", json_boolean(mm_bgp_rib_is_best(d->rib, r)));
    return o;
}

const mm_bgp_rib *bgpd_rib(bgpd *d) { return d->rib; }

const char *bgpd_peer_address(bgpd *d, uint32_t id)
{
    return id && id <= d->n_peers ? d->peers[id - 1].cfg.address : "local";
}

int64_t bgpd_peer_lookup(bgpd *d, const char *address)
{
    if (strcmp(address, "local") == 0)
        return 0;
    for (size_t i = 0; i < d->n_peers; i++)
        if (strcmp(d->peers[i].cfg.address, address) == 0)
            return d->peers[i].id;
    return -1;
}

static json_t *ctl_err(const char *msg) { return json_pack("{s:b, s:s}", "ok", 0, "error", msg); }

typedef struct { bgpd *d; int fam; const mm_bgp_route *r; bool withdraw; } fan_out;

static void fan(bgpd *d, int fam, const mm_bgp_route *r, bool withdraw)
{
    for (size_t i = 0; i < d->n_peers; i++)
        if (peer_has(&d->peers[i], fam))
            send_originated(&d->peers[i], fam, r, withdraw);
}

json_t *bgpd_ctl_announce(bgpd *d, const char *subject, int fam, const char *match, json_t *then)
{
    uint8_t rule[MM_BGP_FS_MAX_LEN], ec[8 * BGPD_MAX_ACTIONS];
    size_t rl, el;
    char err[256];
    if (!match)
        return ctl_err("match is required");
    if (bgpd_rule_compile(fam, match, then, rule, &rl, ec, &el, err, sizeof(err)) < 0) {
        audit(d, subject, "announce", match, false, err, NULL);
        return ctl_err(err);
    }
    mm_buf t;
    mm_buf_init(&t, 1u << 16);
    rule_text(fam, rule, rl, ec, el, &t);
    /* Audited (durably: a data change) before the change and the answer. */
    if (audit(d, subject, "create", mm_buf_cstr(&t), true, "announce", NULL) < 0 ||
        mm_audit_flush_critical(d->audit) < 0) {
        mm_buf_free(&t);
        return ctl_err("audit log unavailable: not announced");
    }
    uint16_t afi;
    uint8_t safi;
    bgpd_fam_afisafi(fam, &afi, &safi);
    char aspath[16] = "";
    mm_bgp_route r = {.peer = 0, .afi = afi, .safi = safi, .nlri = rule, .nlri_len = (uint16_t)rl,
                      .ecomm = ec, .ecomm_len = (uint16_t)el, .origin = 0, .aspath = aspath,
                      .valid = true};
    int rc = mm_bgp_rib_add(d->rib, &r, NULL);
    if (rc < 0) {
        mm_buf_free(&t);
        return ctl_err(mm_strerror(rc));
    }
    fan(d, fam, mm_bgp_rib_get(d->rib, 0, afi, safi, rule, rl), false);
    json_t *res = json_pack("{s:b, s:s}", "ok", 1, "rule", mm_buf_cstr(&t));
    mm_buf_free(&t);
    return res;
}

json_t *bgpd_ctl_withdraw(bgpd *d, const char *subject, int fam, const char *match)
{
    uint8_t rule[MM_BGP_FS_MAX_LEN], ec[8];
    size_t rl, el;
    char err[256];
    if (!match)
        return ctl_err("match is required");
    if (bgpd_rule_compile(fam, match, NULL, rule, &rl, ec, &el, err, sizeof(err)) < 0)
        return ctl_err(err);
    uint16_t afi;
    uint8_t safi;
    bgpd_fam_afisafi(fam, &afi, &safi);
    const mm_bgp_route *r = mm_bgp_rib_get(d->rib, 0, afi, safi, rule, rl);
    mm_buf t;
    mm_buf_init(&t, 1u << 16);
    rule_text(fam, rule, rl, NULL, 0, &t);
    if (!r) {
        audit(d, subject, "delete", mm_buf_cstr(&t), false, "no such originated rule", NULL);
        mm_buf_free(&t);
        return ctl_err("no such originated rule");
    }
    if (audit(d, subject, "delete", mm_buf_cstr(&t), true, "withdraw", NULL) < 0 ||
        mm_audit_flush_critical(d->audit) < 0) {
        mm_buf_free(&t);
        return ctl_err("audit log unavailable: not withdrawn");
    }
    fan(d, fam, r, true);
    mm_bgp_rib_del(d->rib, 0, afi, safi, rule, rl);
    json_t *res = json_pack("{s:b, s:s}", "ok", 1, "rule", mm_buf_cstr(&t));
    mm_buf_free(&t);
    return res;
}

/* ---------------------------------------------------------------- install mode: rebuild */

#ifdef MM_BGPD_NFT
static void nft_sync_cb(evutil_socket_t fd, short what, void *arg)
{
    bgpd *d = arg;
    size_t total = 0, cap = 0;
    bgpd_nft_rule *rules = NULL;
    char **comments = NULL;
    for (int fam = BGPD_FLOW4; fam <= BGPD_FLOW6; fam++) {
        uint16_t afi;
        uint8_t safi;
        bgpd_fam_afisafi(fam, &afi, &safi);
        rib_list l = {d, fam, NULL, 0, 0};
        mm_bgp_rib_walk(d->rib, UINT32_MAX, afi, safi, rib_collect, &l);
        rib_sort_afi = afi; /* RFC 8955 §5.1: the most specific rule first */
        if (l.n > 1) /* qsort of a NULL array is undefined, even for 0 elements */
            qsort(l.v, l.n, sizeof(*l.v), rib_sort_cmp);
        for (size_t i = 0; i < l.n; i++) {
            const mm_bgp_route *r = l.v[i];
            if (!r->peer || !d->peers[r->peer - 1].cfg.install || !mm_bgp_rib_is_best(d->rib, r))
                continue;
            if (total == cap) {
                size_t nc = cap ? cap * 2 : 64;
                bgpd_nft_rule *nr = realloc(rules, nc * sizeof(*nr));
                char **ncm = realloc(comments, nc * sizeof(*ncm));
                if (nr)
                    rules = nr;
                if (ncm)
                    comments = ncm;
                if (!nr || !ncm)
                    break;
                cap = nc;
            }
            mm_buf t;
            mm_buf_init(&t, 1024);
            mm_buf_printf(&t, "from %s: ", d->peers[r->peer - 1].cfg.address);
            mm_bgp_flowspec_format(afi, r->nlri, r->nlri_len, &t);
            comments[total] = strndup(mm_buf_cstr(&t), 120); /* nftables comments are short */
            mm_buf_free(&t);
            rules[total] = (bgpd_nft_rule){afi, r->nlri, r->nlri_len, r->ecomm, r->ecomm_len,
                                           comments[total]};
            total++;
        }
        free(l.v);
    }
    char err[512];
    size_t installed = 0;
    int rc = bgpd_nft_sync(d->nft, rules, total, &installed, err, sizeof(err));
    char obj[160];
    snprintf(obj, sizeof(obj), "nftables table inet %s: %zu of %zu rules", d->cfg->nft_table, installed,
             total);
    if (rc < 0) {
        mm_log_error("install", "%s: %s", obj, err);
        audit(d, "bgpd", "install", obj, false, err, NULL);
        if (fd < 0) { /* first sync at start: no privileges or no nftables */
            bgpd_nft_free(d->nft);
            d->nft = NULL;
        }
    } else {
        mm_log_info("install", "%s", obj);
        audit(d, "bgpd", "install", obj, true, "FlowSpec rules installed", NULL);
    }
    for (size_t i = 0; i < total; i++)
        free(comments[i]);
    free(comments);
    free(rules);
}

json_t *bgpd_ctl_counters(bgpd *d)
{
    if (!d->nft)
        return json_pack("{s:b, s:s}", "ok", 0, "error", "no neighbor has install mode");
    return json_pack("{s:b, s:s, s:o}", "ok", 1, "table", d->cfg->nft_table, "counters",
                     bgpd_nft_counters(d->nft));
}
#else
json_t *bgpd_ctl_counters(bgpd *d)
{
    (void)d;
    return json_pack("{s:b, s:s}", "ok", 0, "error", "built without libnftables");
}
#endif
