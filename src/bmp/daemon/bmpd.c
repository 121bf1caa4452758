/*
 * bmpd.c - the collector: listeners and outbound connections, one session
 * per router, framing with a bounded buffer, decode, outputs, audit.
 *
 * Per-router cost is bounded: the input buffer stops reading at the message
 * cap (plus slack), a message over the cap is skipped without being
 * buffered, the number of routers is capped, and every session has an idle
 * timeout. A framing error that leaves no way to find the next message
 * (wrong version, length below the header) ends that router's session only;
 * a well-framed bad message is logged, counted and skipped.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "bmpd_internal.h"
#include "mamori/mm_core.h"
#include "mamori/mm_event.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_tls.h"

#include <openssl/err.h>

/* ---------------------------------------------------------------- config helpers */

void bmpd_config_defaults(bmpd_config *c)
{
    memset(c, 0, sizeof(*c));
    c->port = 1790;
    c->max_msg = MM_BMP_DEFAULT_MAX_MSG;
    c->idle_timeout_s = 3600;
    c->max_routers = 256;
    c->jsonl_keep = 5;
    c->metrics_addr = "127.0.0.1";
    c->metrics_port = 9179;
    c->pg_queue_bytes = 64u << 20;
    c->pg_overflow = MM_BMP_PG_DROP;
}

/* An allow-list entry: the BGP codec's prefix parser, kept as socket family. */
int bmpd_prefix_parse(const char *s, bmpd_prefix *p)
{
    mm_bgp_prefix b;
    MM_GUARD(mm_bgp_prefix_parse(s, &b));
    memset(p, 0, sizeof(*p));
    p->af = b.afi == MM_BGP_AFI_IPV6 ? AF_INET6 : AF_INET;
    memcpy(p->addr, b.addr, sizeof(p->addr));
    p->plen = b.len;
    return 0;
}

static bool prefix_match(const bmpd_prefix *p, int af, const uint8_t *a)
{
    if (p->af != af)
        return false;
    unsigned full = p->plen / 8, rest = p->plen % 8;
    if (memcmp(p->addr, a, full) != 0)
        return false;
    return rest == 0 || ((p->addr[full] ^ a[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* Allow-list check on the connecting address (IPv4-mapped IPv6 counts as IPv4). */
static bool router_allowed(const bmpd *d, const struct sockaddr *sa)
{
    int af = sa->sa_family;
    const uint8_t *a;
    if (af == AF_INET) {
        a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else {
        a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a)) {
            af = AF_INET;
            a += 12;
        }
    }
    if (d->cfg.n_allow == 0) {
        static const uint8_t one6[16] = {[15] = 1};
        return af == AF_INET ? a[0] == 127 : memcmp(a, one6, 16) == 0;
    }
    for (size_t i = 0; i < d->cfg.n_allow; i++)
        if (prefix_match(&d->cfg.allow[i], af, a))
            return true;
    return false;
}

static void sockaddr_text(const struct sockaddr *sa, char *addr, size_t alen, uint16_t *port)
{
    const void *a;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        a = &s6->sin6_addr;
        *port = ntohs(s6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            inet_ntop(AF_INET, (const uint8_t *)a + 12, addr, (socklen_t)alen);
            return;
        }
    } else {
        a = &((const struct sockaddr_in *)sa)->sin_addr;
        *port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    }
    if (!inet_ntop(sa->sa_family, a, addr, (socklen_t)alen))
        snprintf(addr, alen, "?");
}

int bmpd_audit(bmpd *d, const char *action, bool permit, const char *reason, const char *who)
{
    mm_audit_record rec = {.module = "bmp",
                           .subject = who,
                           .action = action,
                           .object = "bmp-session",
                           .permit = permit,
                           .reason = reason,
                           .session = who};
    int rc = mm_audit_write(d->audit, &rec);
    if (rc < 0)
        mm_log_error("audit", "action=%s router=%s error=\"%s\"", action, who, mm_strerror(rc));
    return rc;
}

/* ---------------------------------------------------------------- sessions */

static void outbound_schedule(struct outbound *ob);

int64_t bmpd_wall_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

void bmpd_router_end(struct router *r, const char *reason)
{
    bmpd *d = r->d;
    if (r->active) {
        mm_log_info("session-end", "router=%s reason=\"%s\" messages_seq=%llu", r->label, reason,
                    (unsigned long long)r->jctx.seq);
        bmpd_audit(d, "session-end", true, reason, r->label);
    }
    if (d->store && r->db_id >= 0) {
        mm_bmp_store_begin(d->store);
        mm_bmp_store_router_down(d->store, r->db_id, bmpd_wall_us());
        mm_bmp_store_commit(d->store);
    }
    if (d->pg && r->active) {
        mm_bmp_pgstore_router_down(d->pg, r->addr, bmpd_wall_us());
        mm_bmp_pgstore_flush(d->pg);
    }
    bufferevent_free(r->bev);
    mm_bmp_addpath_free(r->ap);
    free(r->stat_cache);
    if (r->prev)
        r->prev->next = r->next;
    else
        d->routers = r->next;
    if (r->next)
        r->next->prev = r->prev;
    d->n_routers--;
    mm_metric_set(d->m_connected, (double)d->n_routers);
    if (r->ob) {
        r->ob->r = NULL;
        outbound_schedule(r->ob);
    }
    free(r);
}

/* One complete, framed message. */
static void router_message(struct router *r, const uint8_t *p, uint32_t len, uint8_t type)
{
    bmpd *d = r->d;
    mm_metric_add(r->m_msgs[type < 7 ? type : 7], 1);
    mm_metric_add(r->m_bytes, len);
    mm_bmp_msg m;
    int rc = mm_bmp_msg_decode_ap(p, len, r->ap, &m);
    if (rc < 0) {
        mm_log_warn("bmp-bad-message", "router=%s type=%u len=%u reason=\"%s\"", r->label, type,
                    len, m.error ? m.error : mm_strerror(rc));
        bmpd_metrics_error(r, m.error ? m.error : mm_strerror(rc));
        if (d->jsonl)
            mm_bmp_json_render_error(&r->jctx, p, len, m.error, &d->out);
        return;
    }
    if (m.type == MM_BMP_PEER_UP || m.type == MM_BMP_PEER_DOWN) {
        /* RFC 7911: the OPENs say whether this peer's Route Monitoring carries path ids. */
        if (!r->ap && m.type == MM_BMP_PEER_UP)
            r->ap = mm_bmp_addpath_new(0);
        if ((rc = r->ap ? mm_bmp_addpath_learn(r->ap, &m) : MM_ENOMEM) < 0) {
            mm_log_warn("bmp-addpath", "router=%s error=\"%s\"", r->label,
                        rc == MM_ELIMIT
                            ? "Add-Path peer table full: this peer decodes without path ids"
                            : mm_strerror(rc));
            bmpd_metrics_error(r, "add-path state");
        }
        r->jctx.ap = r->ap;
    }
    if (d->jsonl && mm_bmp_json_render(&r->jctx, &m, &d->out) < 0) {
        mm_log_warn("bmp-render", "router=%s type=%u error=\"output line over the bound\"",
                    r->label, type);
        bmpd_metrics_error(r, "render");
    }
    if (d->store && mm_bmp_store_msg(d->store, r->db_id, &m, bmpd_wall_us()) < 0)
        bmpd_metrics_error(r, "store");
    if (d->pg && (rc = mm_bmp_pgstore_msg(d->pg, r->addr, &m, bmpd_wall_us())) < 0 &&
        rc != MM_ELIMIT)
        bmpd_metrics_error(r, "store");
    if (m.type == MM_BMP_STATS_REPORT)
        bmpd_metrics_stats(r, &m);
}

/* Write what this burst produced: JSON Lines with one write(2), one SQLite commit. */
static void burst_flush(bmpd *d)
{
    if (d->pg) {
        mm_bmp_pgstore_flush(d->pg);
        bmpd_pg_check(d);
    }
    if (d->jsonl && d->out.len && bmpd_jsonl_write(d->jsonl, d->out.data, d->out.len) < 0)
        mm_log_error("jsonl-write", "error=\"%s\"", strerror(errno));
    mm_buf_reset(&d->out);
    if (d->store)
        mm_bmp_store_commit(d->store);
}

void bmpd_refuse(bmpd *d, const char *label, const char *deny)
{
    mm_log_warn("connect-refused", "router=%s reason=\"%s\"", label, deny);
    bmpd_audit(d, "connect", false, deny, label);
    mm_metric_add(d->m_refused, 1);
}

void bmpd_router_read(struct bufferevent *bev, void *arg)
{
    struct router *r = arg;
    bmpd *d = r->d;
    struct evbuffer *in = bufferevent_get_input(bev);
    const char *fatal = NULL;
    if (!r->active)
        return; /* TLS: bytes wait until the certificate identity is authorized */
    /* Continuous verification: an expired certificate loses the session at once. */
    if (r->cert_not_after && time(NULL) > r->cert_not_after) {
        const char *why = "client certificate expired during the session";
        mm_log_warn("session-revoked", "router=%s identity=%s reason=\"%s\"", r->label, r->identity,
                    why);
        bmpd_audit(d, "session-revoked", false, why, r->label);
        bmpd_router_end(r, why);
        return;
    }
    r->jctx.arrival_us = bmpd_wall_us();
    if (d->store)
        mm_bmp_store_begin(d->store);
    for (;;) {
        size_t avail = evbuffer_get_length(in);
        if (r->discard) {
            size_t n = avail < r->discard ? avail : (size_t)r->discard;
            evbuffer_drain(in, n);
            r->discard -= n;
            if (r->discard)
                break;
            continue;
        }
        uint8_t hdr[MM_BMP_HDR_LEN];
        if (evbuffer_copyout(in, hdr, sizeof(hdr)) < (ev_ssize_t)sizeof(hdr))
            break;
        uint32_t len;
        uint8_t type;
        int rc = mm_bmp_hdr_peek(hdr, sizeof(hdr), d->cfg.max_msg, &len, &type);
        if (rc == MM_EUNSUPPORTED) {
            fatal = "unsupported BMP version: the stream cannot be resynchronised";
            break;
        }
        if (rc == MM_EMALFORMED) {
            fatal = "message length below the common header: the stream cannot be resynchronised";
            break;
        }
        if (rc == MM_ELIMIT) {
            /* The length is trustworthy enough to skip: resync without buffering the message. */
            mm_log_warn("bmp-oversize", "router=%s type=%u len=%u cap=%u action=skip", r->label,
                        type, len, d->cfg.max_msg);
            bmpd_metrics_error(r, "message over the size cap");
            if (d->jsonl)
                mm_bmp_json_render_error(&r->jctx, hdr, sizeof(hdr), "message over the size cap",
                                         &d->out);
            r->discard = len;
            continue;
        }
        if (avail < len)
            break;
        const uint8_t *p = evbuffer_pullup(in, len);
        if (!p) {
            fatal = "out of memory";
            break;
        }
        router_message(r, p, len, type);
        evbuffer_drain(in, len);
    }
    burst_flush(d);
    if (fatal) {
        mm_log_warn("bmp-bad-stream", "router=%s reason=\"%s\"", r->label, fatal);
        bmpd_metrics_error(r, fatal);
        bmpd_router_end(r, fatal);
    }
}

/* Authorized: the session starts (stores, log) and reading begins. */
void bmpd_router_activate(struct router *r)
{
    bmpd *d = r->d;
    r->active = true;
    struct timeval idle = {.tv_sec = d->cfg.idle_timeout_s};
    bufferevent_set_timeouts(r->bev, d->cfg.idle_timeout_s ? &idle : NULL, NULL);
    if (!d->paused)
        bufferevent_enable(r->bev, EV_READ);
    if (d->pg)
        mm_bmp_pgstore_router_up(d->pg, r->addr, bmpd_wall_us());
    if (d->store) {
        mm_bmp_store_begin(d->store);
        if (mm_bmp_store_router_up(d->store, r->addr, bmpd_wall_us(), &r->db_id) < 0)
            r->db_id = -1;
        mm_bmp_store_commit(d->store);
    }
    if (r->tls)
        mm_log_info("session-start", "router=%s mode=passive transport=tls identity=%s", r->label,
                    r->identity);
    else
        mm_log_info("session-start", "router=%s mode=%s", r->label, r->ob ? "active" : "passive");
}

static void router_event(struct bufferevent *bev, short what, void *arg)
{
    struct router *r = arg;
    if (what & BEV_EVENT_CONNECTED) {
        if (r->tls && !r->active)
            bmpd_tls_authorize(r);
        return;
    }
    char why[256];
    if (r->tls && !r->active) {
        /* No certificate, an untrusted one, or no TLS at all: refused and audited. */
        if (what & BEV_EVENT_TIMEOUT)
            snprintf(why, sizeof(why), "TLS handshake timeout (%u s)", TLS_HANDSHAKE_TIMEOUT_S);
        else if (what & BEV_EVENT_EOF)
            snprintf(why, sizeof(why), "TLS handshake failed: closed by the router");
        else
            bmpd_tls_error_text(bev, why, sizeof(why));
        bmpd_refuse(r->d, r->label, why);
        bmpd_router_end(r, why);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        snprintf(why, sizeof(why), "idle timeout (%u s)", r->d->cfg.idle_timeout_s);
    else if (what & BEV_EVENT_EOF)
        snprintf(why, sizeof(why), "closed by the router");
    else if (r->tls)
        bmpd_tls_error_text(bev, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "socket error: %s",
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    /* Messages already complete in the buffer were handled by the read callback. */
    bmpd_router_end(r, why);
}

/* A session on bev (owned from here on, freed on failure); tls: authorized after the handshake. */
static struct router *router_new(bmpd *d, struct bufferevent *bev, const char *addr, uint16_t port,
                                 struct outbound *ob, bool tls)
{
    struct router *r = calloc(1, sizeof(*r));
    if (!r) {
        bufferevent_free(bev);
        return NULL;
    }
    r->d = d;
    r->ob = ob;
    r->db_id = -1;
    r->tls = tls;
    r->bev = bev;
    snprintf(r->addr, sizeof(r->addr), "%s", addr);
    r->port = port;
    snprintf(r->label, sizeof(r->label), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
    r->jctx.router = r->addr;
    r->jctx.router_port = port;
    static const char *const tnames[8] = {"route_monitor", "stats", "peer_down",    "peer_up",
                                          "init",          "term",  "route_mirror", "unknown"};
    for (int i = 0; i < 8; i++)
        r->m_msgs[i] = mm_metrics_getv(d->metrics, "mamori_bmp_messages_total", "router", r->addr,
                                       "type", tnames[i], NULL);
    r->m_bytes = mm_metrics_getv(d->metrics, "mamori_bmp_bytes_total", "router", r->addr, NULL);
    bufferevent_setcb(r->bev, bmpd_router_read, NULL, router_event, r);
    /* Bounded input: stop reading once one capped message (plus slack) is buffered. */
    bufferevent_setwatermark(r->bev, EV_READ, 0, (size_t)d->cfg.max_msg + READ_SLACK);
    /*
     * Read big bursts: one burst is one JSON Lines write and one SQLite
     * commit, and libevent's default of 16 KiB per read makes many small ones.
     */
    bufferevent_set_max_single_read(r->bev, READ_BURST);
    r->next = d->routers;
    if (d->routers)
        d->routers->prev = r;
    d->routers = r;
    d->n_routers++;
    mm_metric_set(d->m_connected, (double)d->n_routers);
    if (tls) {
        /* The handshake runs under its own short timeout; reading only drives it. */
        struct timeval hs = {.tv_sec = TLS_HANDSHAKE_TIMEOUT_S};
        bufferevent_set_timeouts(r->bev, &hs, &hs);
        bufferevent_enable(r->bev, EV_READ);
    } else {
        bmpd_router_activate(r);
    }
    return r;
}

/* Authorization by address, before any byte from the router is read. */
static bool accept_check(bmpd *d, struct sockaddr *sa, const char *label, bool tls)
{
    const char *deny = NULL;
    if (!router_allowed(d, sa))
        deny = "address not in the allow-list";
    else if (d->n_routers >= d->cfg.max_routers)
        deny = "router limit reached";
    if (deny) {
        bmpd_refuse(d, label, deny);
        return false;
    }
    if (bmpd_audit(d, "connect", true,
                   tls ? "allow-list; TLS client certificate next" : "allow-list", label) < 0)
        return false; /* no audit record, no session */
    mm_metric_add(d->m_accepted, 1);
    return true;
}

static void accept_one(bmpd *d, evutil_socket_t fd, struct sockaddr *sa, bool tls)
{
    char addr[INET6_ADDRSTRLEN], label[INET6_ADDRSTRLEN + 8];
    uint16_t port;
    sockaddr_text(sa, addr, sizeof(addr), &port);
    snprintf(label, sizeof(label), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
    if (!accept_check(d, sa, label, tls)) {
        evutil_closesocket(fd);
        return;
    }
    struct bufferevent *bev;
    if (tls) {
        SSL *ssl = SSL_new(d->tls_ctx);
        bev = ssl ? bufferevent_openssl_socket_new(d->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                   BEV_OPT_CLOSE_ON_FREE)
                  : NULL;
        if (!bev) {
            /* Never fall back to plaintext: no TLS object, no session. */
            SSL_free(ssl);
            evutil_closesocket(fd);
            return;
        }
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    } else if (!(bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE))) {
        evutil_closesocket(fd);
        return;
    }
    router_new(d, bev, addr, port, NULL, tls);
}

static void listener_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                            int salen, void *arg)
{
    (void)l;
    (void)salen;
    accept_one(arg, fd, sa, false);
}

static void listener_accept_tls(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                                int salen, void *arg)
{
    (void)l;
    (void)salen;
    accept_one(arg, fd, sa, true);
}

/* ---------------------------------------------------------------- outbound (routers that listen)
 */

static void outbound_event(struct bufferevent *bev, short what, void *arg);

static void outbound_try(void *arg)
{
    struct outbound *ob = arg;
    bmpd *d = ob->d;
    struct bufferevent *bev = bufferevent_socket_new(d->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        outbound_schedule(ob);
        return;
    }
    bufferevent_setcb(bev, NULL, NULL, outbound_event, ob);
    if (bufferevent_socket_connect(bev, (struct sockaddr *)&ob->ss, ob->sslen) < 0) {
        bufferevent_free(bev);
        outbound_schedule(ob);
    }
}

static void outbound_event(struct bufferevent *bev, short what, void *arg)
{
    struct outbound *ob = arg;
    bmpd *d = ob->d;
    if (!(what & BEV_EVENT_CONNECTED)) {
        bufferevent_free(bev);
        outbound_schedule(ob);
        return;
    }
    /* Hand the connected socket to a normal session (the bufferevent is replaced). */
    evutil_socket_t fd = bufferevent_getfd(bev);
    evutil_socket_t dup_fd = dup(fd);
    bufferevent_free(bev);
    char addr[INET6_ADDRSTRLEN];
    uint16_t port;
    sockaddr_text((struct sockaddr *)&ob->ss, addr, sizeof(addr), &port);
    if (dup_fd < 0 || bmpd_audit(d, "connect-out", true, "configured router", ob->target) < 0 ||
        d->n_routers >= d->cfg.max_routers) {
        if (dup_fd >= 0)
            close(dup_fd);
        outbound_schedule(ob);
        return;
    }
    evutil_make_socket_nonblocking(dup_fd);
    struct bufferevent *nb = bufferevent_socket_new(d->base, dup_fd, BEV_OPT_CLOSE_ON_FREE);
    if (!nb) {
        close(dup_fd);
        outbound_schedule(ob);
        return;
    }
    ob->r = router_new(d, nb, addr, port, ob, false);
    if (!ob->r) {
        outbound_schedule(ob);
        return;
    }
    ob->backoff_ms = 0;
}

static void outbound_schedule(struct outbound *ob)
{
    ob->backoff_ms = ob->backoff_ms ? ob->backoff_ms * 2 : 1000;
    if (ob->backoff_ms > 30000)
        ob->backoff_ms = 30000;
    mm_timer_arm(ob->timer, ob->backoff_ms);
}

/* ---------------------------------------------------------------- start/stop */

static int bind_one(bmpd *d, const char *addr, bool tls, uint16_t *port_io)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    if (strchr(addr, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(*port_io);
        if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
            return MM_ECONFIG;
        sl = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(*port_io);
        if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
            return MM_ECONFIG;
        sl = sizeof(*s4);
    }
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE;
    if (ss.ss_family == AF_INET6)
        flags |= LEV_OPT_BIND_IPV6ONLY; /* 127.0.0.1 and ::1 are separate listeners */
    struct evconnlistener *l =
        evconnlistener_new_bind(d->base, tls ? listener_accept_tls : listener_accept, d, flags, 64,
                                (struct sockaddr *)&ss, (int)sl);
    if (!l) {
        mm_log_error("listen", "addr=%s port=%u error=\"%s\"", addr, *port_io, strerror(errno));
        return MM_ESYS;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof(bound);
    getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&bound, &bl);
    uint16_t port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                      : ((struct sockaddr_in *)&bound)->sin_port);
    /* With --port 0 every address shares the first bound port. */
    *port_io = port;
    d->listeners[d->n_listeners++] = l;
    mm_log_info("listen", "addr=%s port=%u%s", addr, port, tls ? " transport=tls" : "");
    return 0;
}

static int write_port(const char *path, uint16_t port)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return MM_EIO;
    bool ok = fprintf(f, "%u\n", port) > 0;
    return fclose(f) == 0 && ok ? 0 : MM_EIO;
}

int bmpd_start(struct event_base *base, const bmpd_config *cfg, bmpd **out)
{
    bmpd *d = calloc(1, sizeof(*d));
    if (!d)
        return MM_ENOMEM;
    d->base = base;
    d->cfg = *cfg;
    mm_buf_init(&d->out, 256u << 20);
    int rc = MM_ENOMEM;
    d->metrics = mm_metrics_new(100000);
    if (!d->metrics)
        goto fail;
    bmpd_metrics_families(d);
    if ((rc = mm_audit_open(cfg->audit_path, &d->audit)) < 0) {
        mm_log_error("audit-open", "path=%s error=\"%s\"", cfg->audit_path, mm_strerror(rc));
        goto fail;
    }
    if (cfg->db_path && (rc = mm_bmp_store_open(cfg->db_path, &d->store)) < 0)
        goto fail;
    if (cfg->jsonl_path && (rc = bmpd_jsonl_open(cfg->jsonl_path, cfg->jsonl_rotate_bytes,
                                                 cfg->jsonl_keep, &d->jsonl)) < 0)
        goto fail;
    if (cfg->metrics) {
        uint16_t mp = 0;
        rc = mm_metrics_http_start(d->metrics, base, cfg->metrics_addr, cfg->metrics_port, &d->http,
                                   &mp);
        if (rc < 0) {
            mm_log_error(
                "metrics", "addr=%s port=%u error=\"%s\"", cfg->metrics_addr, cfg->metrics_port,
                rc == MM_EPERM ? "the metrics endpoint binds loopback only" : mm_strerror(rc));
            goto fail;
        }
        mm_log_info("metrics", "url=http://%s%s%s:%u/metrics",
                    strchr(cfg->metrics_addr, ':') ? "[" : "", cfg->metrics_addr,
                    strchr(cfg->metrics_addr, ':') ? "]" : "", mp);
    }
    for (size_t i = 0; i < cfg->n_listen; i++)
        if ((rc = bind_one(d, cfg->listen[i], false, &d->cfg.port)) < 0)
            goto fail;
    if (cfg->tls_port_set) {
        if ((rc = bmpd_tls_setup(d)) < 0)
            goto fail;
        for (size_t i = 0; i < cfg->n_listen; i++)
            if ((rc = bind_one(d, cfg->listen[i], true, &d->cfg.tls_port)) < 0)
                goto fail;
        if (cfg->tls_port_file && (rc = write_port(cfg->tls_port_file, d->cfg.tls_port)) < 0)
            goto fail;
    }
    if (cfg->port_file && (rc = write_port(cfg->port_file, d->cfg.port)) < 0)
        goto fail;
    if (!cfg->collector) {
        char host[256] = "localhost";
        gethostname(host, sizeof(host) - 1);
        snprintf(d->collector_buf, sizeof(d->collector_buf), "%s:%u", host, d->cfg.port);
        d->cfg.collector = d->collector_buf;
    }
    if (cfg->pg_conninfo) {
        if ((rc = mm_bmp_pgstore_open(cfg->pg_conninfo, d->cfg.collector, cfg->pg_queue_bytes,
                                      cfg->pg_overflow, &d->pg)) < 0)
            goto fail;
        if (!(d->pg_timer = mm_timer_new(base, 500, true, bmpd_pg_tick, d))) {
            rc = MM_ENOMEM;
            goto fail;
        }
        mm_log_info("store-pg", "collector=%s queue_bytes=%llu overflow=%s", d->cfg.collector,
                    (unsigned long long)cfg->pg_queue_bytes,
                    cfg->pg_overflow == MM_BMP_PG_PAUSE ? "pause" : "drop");
    }
    for (size_t i = 0; i < cfg->n_connect; i++) {
        struct outbound *ob = &d->outbound[d->n_outbound];
        ob->d = d;
        snprintf(ob->target, sizeof(ob->target), "%s", cfg->connect[i]);
        ob->sslen = sizeof(ob->ss);
        if (evutil_parse_sockaddr_port(cfg->connect[i], (struct sockaddr *)&ob->ss, &ob->sslen) <
            0) {
            mm_log_error("connect", "target=%s error=\"not ADDR:PORT\"", cfg->connect[i]);
            rc = MM_ECONFIG;
            goto fail;
        }
        ob->timer = mm_timer_new(base, 1000, false, outbound_try, ob);
        if (!ob->timer)
            goto fail;
        d->n_outbound++;
        mm_timer_arm(ob->timer, 1);
    }
    *out = d;
    return 0;
fail:
    bmpd_stop(d);
    return rc < 0 ? rc : MM_ESYS;
}

void bmpd_stop(bmpd *d)
{
    if (!d)
        return;
    while (d->routers)
        bmpd_router_end(d->routers, "collector shutting down");
    for (size_t i = 0; i < d->n_outbound; i++)
        mm_timer_free(d->outbound[i].timer);
    for (size_t i = 0; i < d->n_listeners; i++)
        evconnlistener_free(d->listeners[i]);
    mm_metrics_http_stop(d->http);
    bmpd_jsonl_close(d->jsonl);
    mm_bmp_store_close(d->store);
    if (d->pg_timer)
        mm_timer_free(d->pg_timer);
    if (d->pg) {
        bmpd_audit(d, "store-close", true, "collector stopping: queued rows written or counted",
                   d->cfg.collector);
        mm_bmp_pgstore_close(d->pg); /* writes what is queued, or counts and logs it dropped */
    }
    mm_audit_close(d->audit);
    mm_metrics_free(d->metrics);
    mm_buf_free(&d->out);
    SSL_CTX_free(d->tls_ctx);
    free(d);
}
