/*
 * bmp_out.c - mamori-bgpd as a BMP sender (RFC 7854) to collectors such as
 * mamori-bmpd: Initiation (sysDescr, sysName), Peer Up with both OPENs,
 * Route Monitoring of every received UPDATE (pre-policy; post-policy too
 * when it passed RFC 7606 judging unchanged), Peer Down with the reason and
 * the NOTIFICATION, and periodic Statistics Reports of what we count:
 * 0 (FlowSpec rules failing §6 validation), 7 (Adj-RIB-In routes),
 * 9 (per AFI/SAFI) and 11 (updates treated as withdraw).
 *
 * Messages are built with the BMP codec's encoders (src/bmp). A collector
 * whose backlog passes 16 MiB is disconnected and reconnected later (it
 * then gets a fresh Initiation and Peer Up for every Established session)
 * rather than letting the queue grow.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "bgpd_bmp.h"
#include "mamori/mm_bmp.h"
#include "mamori/mm_core.h"

#define BMP_MAX_BACKLOG (16u << 20)

struct bgpd_bmp {
    struct event_base *base;
    struct sockaddr_storage sa;
    socklen_t salen;
    char name[80];
    struct bufferevent *bev;
    bool up;
    struct event *retry;
    uint32_t retry_s;
    bgpd_bmp_resync_cb resync;
    void *resync_arg;
};

static void bmp_connect(bgpd_bmp *b);

static void retry_cb(evutil_socket_t fd, short what, void *arg) { bmp_connect(arg); }

static void bmp_down(bgpd_bmp *b, const char *why)
{
    if (b->bev) {
        bufferevent_free(b->bev);
        b->bev = NULL;
    }
    if (b->up)
        mm_log_warn("bmp", "collector=%s down: %s", b->name, why);
    b->up = false;
    struct timeval tv = {b->retry_s, 0};
    evtimer_add(b->retry, &tv);
}

static void send_msg(bgpd_bmp *b, const uint8_t *p, size_t n)
{
    if (!b->up)
        return;
    if (evbuffer_get_length(bufferevent_get_output(b->bev)) + n > BMP_MAX_BACKLOG) {
        bmp_down(b, "backlog over 16 MiB");
        return;
    }
    bufferevent_write(b->bev, p, n);
}

static void send_initiation(bgpd_bmp *b)
{
    uint8_t buf[512];
    mm_cursor w;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    size_t off = mm_bmp_msg_begin(&w, MM_BMP_INITIATION);
    const char *descr = "mamori-bgpd " MM_VERSION;
    char host[128] = "mamori";
    gethostname(host, sizeof(host) - 1);
    mm_bmp_tlv_encode(&w, MM_BMP_INFO_SYSDESCR, descr, strlen(descr));
    mm_bmp_tlv_encode(&w, MM_BMP_INFO_SYSNAME, host, strlen(host));
    if (mm_bmp_msg_finish(&w, off) == 0)
        send_msg(b, buf, mm_cursor_offset(&w));
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    bgpd_bmp *b = arg;
    if (what & BEV_EVENT_CONNECTED) {
        b->up = true;
        mm_log_info("bmp", "collector=%s connected", b->name);
        send_initiation(b);
        if (b->resync)
            b->resync(b->resync_arg, b); /* Peer Up of every Established session */
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        bmp_down(b, (what & BEV_EVENT_EOF) ? "closed by the collector" : "connection error");
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    /* A collector sends nothing (RFC 7854 §3.3); discard anything it does. */
    evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void bmp_connect(bgpd_bmp *b)
{
    b->bev = bufferevent_socket_new(b->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!b->bev)
        return;
    bufferevent_setcb(b->bev, read_cb, NULL, event_cb, b);
    bufferevent_enable(b->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(b->bev, (struct sockaddr *)&b->sa, (int)b->salen) < 0)
        bmp_down(b, "connect failed");
}

int bgpd_bmp_new(struct event_base *base, const char *addr, uint16_t port, uint32_t retry_s,
                 bgpd_bmp_resync_cb resync, void *arg, bgpd_bmp **out)
{
    bgpd_bmp *b = calloc(1, sizeof(*b));
    if (!b)
        return MM_ENOMEM;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&b->sa;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&b->sa;
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        b->salen = sizeof(*a4);
    } else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        b->salen = sizeof(*a6);
    } else {
        free(b);
        return MM_EINVAL;
    }
    snprintf(b->name, sizeof(b->name), "%s:%u", addr, port);
    b->base = base;
    b->retry_s = retry_s ? retry_s : 5;
    b->resync = resync;
    b->resync_arg = arg;
    b->retry = evtimer_new(base, retry_cb, b);
    bmp_connect(b);
    *out = b;
    return 0;
}

void bgpd_bmp_free(bgpd_bmp *b)
{
    if (!b)
        return;
    if (b->bev) {
        /* RFC 7854 §4.5: Termination, reason 0 (administratively closed); best effort. */
        uint8_t buf[32];
        mm_cursor w;
        mm_cursor_init_write(&w, buf, sizeof(buf));
        size_t off = mm_bmp_msg_begin(&w, MM_BMP_TERMINATION);
        uint8_t reason[2] = {0, 0};
        mm_bmp_tlv_encode(&w, MM_BMP_TERM_REASON, reason, 2);
        if (b->up && mm_bmp_msg_finish(&w, off) == 0) {
            bufferevent_write(b->bev, buf, mm_cursor_offset(&w));
            evutil_socket_t fd = bufferevent_getfd(b->bev);
            if (fd >= 0)
                evbuffer_write(bufferevent_get_output(b->bev), fd);
        }
        bufferevent_free(b->bev);
    }
    event_free(b->retry);
    free(b);
}

bool bgpd_bmp_is_up(const bgpd_bmp *b) { return b->up; }

static void peer_hdr(mm_cursor *w, const bgpd_bmp_peer *p, bool post)
{
    mm_bmp_peer_hdr h;
    memset(&h, 0, sizeof(h));
    h.type = MM_BMP_PEER_GLOBAL;
    if (p->addr.ss_family == AF_INET6) {
        h.flags |= MM_BMP_PEER_F_V;
        memcpy(h.addr, &((const struct sockaddr_in6 *)&p->addr)->sin6_addr, 16);
    } else {
        memcpy(h.addr + 12, &((const struct sockaddr_in *)&p->addr)->sin_addr, 4);
    }
    if (!p->as4)
        h.flags |= MM_BMP_PEER_F_A; /* legacy 2-octet AS_PATH (RFC 7854 §4.2) */
    if (post)
        h.flags |= MM_BMP_PEER_F_L;
    h.as = p->as;
    h.bgp_id = p->bgp_id;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    h.ts_sec = (uint32_t)tv.tv_sec;
    h.ts_usec = (uint32_t)tv.tv_usec;
    mm_bmp_peer_hdr_encode(w, &h);
}

static uint8_t *scratch(size_t n)
{
    static uint8_t *buf;
    static size_t cap;
    if (n > cap) {
        uint8_t *nb = realloc(buf, n);
        if (!nb)
            return NULL;
        buf = nb;
        cap = n;
    }
    return buf;
}

void bgpd_bmp_route_monitoring(bgpd_bmp *b, const bgpd_bmp_peer *p, bool post, const uint8_t *msg,
                               size_t n)
{
    if (!b->up)
        return;
    size_t cap = n + 64;
    uint8_t *buf = scratch(cap);
    if (!buf)
        return;
    mm_cursor w;
    mm_cursor_init_write(&w, buf, cap);
    size_t off = mm_bmp_msg_begin(&w, MM_BMP_ROUTE_MONITORING);
    peer_hdr(&w, p, post);
    mm_cursor_write_bytes(&w, msg, n);
    if (mm_bmp_msg_finish(&w, off) == 0)
        send_msg(b, buf, mm_cursor_offset(&w));
}

void bgpd_bmp_peer_up(bgpd_bmp *b, const bgpd_bmp_peer *p, const struct sockaddr_storage *local,
                      uint16_t local_port, uint16_t remote_port, const uint8_t *open_sent,
                      size_t sent_len, const uint8_t *open_recv, size_t recv_len)
{
    if (!b->up)
        return;
    size_t cap = sent_len + recv_len + 128;
    uint8_t *buf = scratch(cap);
    if (!buf)
        return;
    mm_cursor w;
    mm_cursor_init_write(&w, buf, cap);
    size_t off = mm_bmp_msg_begin(&w, MM_BMP_PEER_UP);
    peer_hdr(&w, p, false);
    uint8_t la[16] = {0};
    if (local->ss_family == AF_INET6)
        memcpy(la, &((const struct sockaddr_in6 *)local)->sin6_addr, 16);
    else
        memcpy(la + 12, &((const struct sockaddr_in *)local)->sin_addr, 4);
    mm_cursor_write_bytes(&w, la, 16);
    mm_cursor_write_u16(&w, local_port);
    mm_cursor_write_u16(&w, remote_port);
    mm_cursor_write_bytes(&w, open_sent, sent_len);
    mm_cursor_write_bytes(&w, open_recv, recv_len);
    if (mm_bmp_msg_finish(&w, off) == 0)
        send_msg(b, buf, mm_cursor_offset(&w));
}

void bgpd_bmp_peer_down(bgpd_bmp *b, const bgpd_bmp_peer *p, uint8_t reason, const uint8_t *notif,
                        size_t notif_len, uint16_t fsm_event)
{
    if (!b->up)
        return;
    uint8_t buf[512];
    mm_cursor w;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    size_t off = mm_bmp_msg_begin(&w, MM_BMP_PEER_DOWN);
    peer_hdr(&w, p, false);
    mm_cursor_write_u8(&w, reason);
    if ((reason == 1 || reason == 3) && notif)
        mm_cursor_write_bytes(&w, notif, notif_len);
    else if (reason == 2)
        mm_cursor_write_u16(&w, fsm_event);
    if (mm_bmp_msg_finish(&w, off) == 0)
        send_msg(b, buf, mm_cursor_offset(&w));
}

void bgpd_bmp_stats(bgpd_bmp *b, const bgpd_bmp_peer *p, const bgpd_bmp_counts *c)
{
    if (!b->up)
        return;
    uint8_t buf[256];
    mm_cursor w;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    size_t off = mm_bmp_msg_begin(&w, MM_BMP_STATS_REPORT);
    peer_hdr(&w, p, false);
    uint32_t n = 3;
    for (int f = 0; f < BGPD_BMP_NFAM; f++)
        n += c->fam[f].present;
    mm_cursor_write_u32(&w, n);
    mm_bmp_stat_encode(&w, 0, c->rejected, 0, 0);
    mm_bmp_stat_encode(&w, 7, c->adj_rib_in, 0, 0);
    for (int f = 0; f < BGPD_BMP_NFAM; f++)
        if (c->fam[f].present)
            mm_bmp_stat_encode(&w, 9, c->fam[f].routes, c->fam[f].afi, c->fam[f].safi);
    mm_bmp_stat_encode(&w, 11, c->treat_as_withdraw, 0, 0);
    if (mm_bmp_msg_finish(&w, off) == 0)
        send_msg(b, buf, mm_cursor_offset(&w));
}
