/*
 * callhome.c - NETCONF call home (RFC 8071) for mamori-netconfd: the server
 * opens the TCP connection to each configured netconf-client, then acts as
 * the TLS (RFC 8071 section 4.2) or SSH (section 4.1) server on it, exactly
 * as on an accepted connection: the client still authenticates the server's
 * certificate or host key and the server the client.
 *
 * What is dialed is ietf-netconf-server's call-home container
 * (mm_netconfd_callhome_apply after every change of running), by
 * netconf-client name: a client added by edit-config is dialed at once, a
 * removed one stops being dialed and its connection is shut down.
 *
 * Reconnect strategy (call-home/netconf-client/reconnect-strategy): each
 * endpoint is tried max-attempts times, each attempt given max-wait seconds
 * to connect, before the next endpoint in the list (round robin); after a
 * connection ends the next round starts with the first-listed, the
 * last-connected or a random endpoint (start-with). Between failed attempts
 * the delay doubles from retry_ms up to 60 s (bounded back-off), and goes
 * back to retry_ms once a connection has been established. Connection type
 * persistent: dial again as soon as the connection ends; periodic: dial at
 * every period from anchor-time (or from the time the configuration was
 * applied), never while a connection is still up (RFC 8071 and the module's
 * description).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mamori/mm_core.h"
#include "netconfd_callhome.h"

#define MAX_BACKOFF_MS 60000u

struct peer {
    struct peer *next;
    struct mm_netconfd_callhome *ch;
    mm_netconfd_callhome_peer cfg;
    evutil_socket_t fd;      /* while connecting */
    evutil_socket_t live_fd; /* handed to a transport, until closed() */
    struct event *ev;        /* connect completion or retry timer */
    uint32_t backoff_ms;
    size_t cur, last;        /* endpoint being tried, endpoint last connected */
    unsigned tries;          /* attempts on cur in this round */
    unsigned attempts, connects;
    bool connected, removed;
    time_t period_base;      /* periodic: connection starts are period_base + k * period */
};

struct mm_netconfd_callhome {
    struct event_base *base;
    mm_netconfd_callhome_adopt adopt;
    void *adopt_arg;
    uint32_t retry_ms;
    struct peer *peers;   /* configured */
    struct peer *zombies; /* removed, waiting for their transport's closed() */
};

static void attempt(evutil_socket_t fd, short what, void *arg);

static void ev_free(struct event **ev)
{
    if (*ev)
        event_free(*ev);
    *ev = NULL;
}

static const mm_netconfd_callhome_client *ep_of(const struct peer *p)
{
    return &p->cfg.ep[p->cur];
}

static void schedule(struct peer *p, uint32_t ms)
{
    ev_free(&p->ev);
    p->ev = evtimer_new(p->ch->base, attempt, p);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (p->ev)
        evtimer_add(p->ev, &tv);
}

static size_t first_endpoint(const struct peer *p)
{
    switch (p->cfg.start_with) {
    case MM_CH_LAST_CONNECTED: return p->last;
    case MM_CH_RANDOM: return p->cfg.n_ep ? (size_t)rand() % p->cfg.n_ep : 0;
    default: return 0;
    }
}

/* An attempt failed: next endpoint after max-attempts, then wait (doubling). */
static void retry_later(struct peer *p, const char *why)
{
    const mm_netconfd_callhome_client *e = ep_of(p);
    uint32_t ms = p->backoff_ms ? p->backoff_ms : p->ch->retry_ms;
    mm_log_info("netconfd-callhome",
                "client=%s:%u transport=%s result=retry reason=\"%s\" retry_ms=%u name=%s "
                "endpoint=%s",
                e->host, e->port, e->transport, why, ms, p->cfg.name, e->name);
    if (++p->tries >= (p->cfg.max_attempts ? p->cfg.max_attempts : 3)) {
        p->tries = 0;
        p->cur = p->cfg.n_ep ? (p->cur + 1) % p->cfg.n_ep : 0;
    }
    p->backoff_ms = ms * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : ms * 2;
    schedule(p, ms);
}

static void peer_free(struct peer *p)
{
    ev_free(&p->ev);
    if (p->fd >= 0)
        evutil_closesocket(p->fd);
    free(p);
}

static void unlink_peer(struct peer **list, struct peer *p)
{
    for (struct peer **pp = list; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            return;
        }
    }
}

/*
 * Periodic: wait for the next connection start, period_base + k * period
 * (the anchor-time, or when the entry was applied). now_ok: a start that is
 * now (the first one) counts; after a connection, the next one is later.
 */
static void schedule_period(struct peer *p, bool now_ok)
{
    int64_t now = (int64_t)time(NULL), period = p->cfg.period_s ? p->cfg.period_s : 3600;
    int64_t since = now - p->period_base, k;
    if (since < 0)
        k = 0; /* anchor in the future: its first start */
    else
        k = since / period + ((now_ok && since % period == 0) ? 0 : 1);
    int64_t wait_s = p->period_base + k * period - now;
    if (wait_s < 0)
        wait_s = 0;
    mm_log_info("netconfd-callhome", "name=%s result=wait-period next_in_s=%lld", p->cfg.name,
                (long long)wait_s);
    uint64_t ms = (uint64_t)wait_s * 1000u;
    schedule(p, ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms);
}

/* The transport's connection to this client ended. */
static void on_closed(void *arg)
{
    struct peer *p = arg;
    p->connected = false;
    p->live_fd = -1;
    if (p->removed) {
        unlink_peer(&p->ch->zombies, p);
        peer_free(p);
        return;
    }
    const mm_netconfd_callhome_client *e = ep_of(p);
    mm_log_info("netconfd-callhome", "client=%s:%u transport=%s result=ended name=%s endpoint=%s",
                e->host, e->port, e->transport, p->cfg.name, e->name);
    /* The next round starts where start-with says; an ended session is not a failed attempt. */
    p->cur = first_endpoint(p);
    p->tries = 0;
    if (!p->cfg.periodic) {
        /* Persistent: call again at once (after the first retry delay, so that a
         * client that accepts and closes at once is not called in a busy loop). */
        schedule(p, p->ch->retry_ms);
        return;
    }
    p->backoff_ms = 0;
    schedule_period(p, false);
}

static void on_connected(evutil_socket_t fd, short what, void *arg)
{
    struct peer *p = arg;
    int err = 0;
    socklen_t el = sizeof(err);
    if (!(what & EV_WRITE) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) {
        evutil_closesocket(fd);
        p->fd = -1;
        retry_later(p, what & EV_TIMEOUT ? "connect timeout (max-wait)"
                                         : strerror(err ? err : errno));
        return;
    }
    const mm_netconfd_callhome_client *e = ep_of(p);
    p->fd = -1;
    p->connects++;
    mm_log_info("netconfd-callhome",
                "client=%s:%u transport=%s result=connected attempt=%u name=%s endpoint=%s",
                e->host, e->port, e->transport, p->attempts, p->cfg.name, e->name);
    /* The transport owns fd now, also if it fails. */
    int rc = p->ch->adopt(e->transport, fd, p->cfg.name, on_closed, p, p->ch->adopt_arg);
    if (rc < 0) {
        retry_later(p, mm_strerror(rc));
        return;
    }
    p->connected = true;
    p->live_fd = fd;
    p->last = p->cur;
    p->tries = 0;
    p->backoff_ms = 0; /* a working connection resets the back-off */
}

static void attempt(evutil_socket_t unused, short what, void *arg)
{
    (void)unused;
    (void)what;
    struct peer *p = arg;
    if (p->connected || !p->cfg.n_ep)
        return; /* periodic: never a second connection while one is up */
    const mm_netconfd_callhome_client *e = ep_of(p);
    p->attempts++;
    char port[8];
    snprintf(port, sizeof(port), "%u", e->port);
    /* Numeric hosts resolve without blocking; a name is resolved here once per attempt. */
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
    int g = getaddrinfo(e->host, port, &hints, &ai);
    if (g != 0 || !ai) {
        retry_later(p, g ? gai_strerror(g) : "no address");
        return;
    }
    evutil_socket_t fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -1 : connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (fd < 0 || (rc != 0 && errno != EINPROGRESS)) {
        const char *why = strerror(errno);
        if (fd >= 0)
            evutil_closesocket(fd);
        retry_later(p, why);
        return;
    }
    p->fd = fd;
    ev_free(&p->ev);
    p->ev = event_new(p->ch->base, fd, EV_WRITE, on_connected, p);
    struct timeval tv = {p->cfg.max_wait_s ? p->cfg.max_wait_s : 5, 0};
    if (p->ev)
        event_add(p->ev, &tv);
}

int mm_netconfd_callhome_new(struct event_base *base, uint32_t retry_ms,
                             mm_netconfd_callhome_adopt adopt, void *adopt_arg,
                             mm_netconfd_callhome **out)
{
    *out = NULL;
    struct mm_netconfd_callhome *ch = calloc(1, sizeof(*ch));
    MM_ENSURE(ch, MM_ENOMEM);
    ch->base = base;
    ch->adopt = adopt;
    ch->adopt_arg = adopt_arg;
    ch->retry_ms = retry_ms ? retry_ms : 1000;
    *out = ch;
    return 0;
}

/*
 * Stop dialing p. A live connection is shut down, not closed: the transport
 * owns the descriptor and sees end-of-file on its next read, ends the
 * session as for a vanished peer and then calls closed(), which frees p.
 */
static void peer_remove(struct mm_netconfd_callhome *ch, struct peer *p)
{
    mm_log_info("netconfd-callhome", "name=%s result=removed connected=%s", p->cfg.name,
                p->connected ? "yes" : "no");
    unlink_peer(&ch->peers, p);
    ev_free(&p->ev);
    if (p->fd >= 0)
        evutil_closesocket(p->fd);
    p->fd = -1;
    if (!p->connected) {
        free(p);
        return;
    }
    p->removed = true;
    shutdown(p->live_fd, SHUT_RDWR);
    p->next = ch->zombies;
    ch->zombies = p;
}

static const mm_netconfd_callhome_peer *find_cfg(const mm_netconfd_callhome_peer *peers, size_t n,
                                                 const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(peers[i].name, name))
            return &peers[i];
    return NULL;
}

int mm_netconfd_callhome_apply(mm_netconfd_callhome *ch, const mm_netconfd_callhome_peer *peers,
                               size_t n)
{
    /* Removed or changed: stop. */
    for (struct peer *p = ch->peers, *next; p; p = next) {
        next = p->next;
        const mm_netconfd_callhome_peer *c = find_cfg(peers, n, p->cfg.name);
        if (!c || memcmp(c, &p->cfg, sizeof(*c)) != 0)
            peer_remove(ch, p);
    }
    /* New (or changed): dial at once. */
    for (size_t i = 0; i < n; i++) {
        bool have = false;
        for (struct peer *p = ch->peers; p && !have; p = p->next)
            have = !strcmp(p->cfg.name, peers[i].name);
        if (have || !peers[i].n_ep)
            continue;
        struct peer *p = calloc(1, sizeof(*p));
        MM_ENSURE(p, MM_ENOMEM);
        p->ch = ch;
        p->cfg = peers[i];
        p->fd = p->live_fd = -1;
        p->period_base = p->cfg.anchor ? p->cfg.anchor : time(NULL);
        p->cur = first_endpoint(p);
        p->next = ch->peers;
        ch->peers = p;
        mm_log_info("netconfd-callhome", "name=%s result=added endpoints=%zu type=%s",
                    p->cfg.name, p->cfg.n_ep, p->cfg.periodic ? "periodic" : "persistent");
        if (p->cfg.periodic && p->cfg.anchor)
            schedule_period(p, true); /* the first start on the anchor's grid */
        else
            schedule(p, 0);
    }
    return 0;
}

unsigned mm_netconfd_callhome_connects(const mm_netconfd_callhome *ch, const char *name)
{
    for (const struct peer *p = ch ? ch->peers : NULL; p; p = p->next)
        if (!strcmp(p->cfg.name, name))
            return p->connects;
    return 0;
}

int64_t mm_netconfd_callhome_next_ms(const mm_netconfd_callhome *ch, const char *name)
{
    for (const struct peer *p = ch ? ch->peers : NULL; p; p = p->next) {
        struct timeval at, now;
        if (strcmp(p->cfg.name, name) != 0)
            continue;
        if (p->connected || p->fd >= 0 || !p->ev || !evtimer_pending(p->ev, &at))
            return -1;
        evutil_gettimeofday(&now, NULL);
        int64_t ms = ((int64_t)at.tv_sec - now.tv_sec) * 1000 + (at.tv_usec - now.tv_usec) / 1000;
        return ms < 0 ? 0 : ms;
    }
    return -1;
}

void mm_netconfd_callhome_free(mm_netconfd_callhome *ch)
{
    if (!ch)
        return;
    struct peer *lists[] = {ch->peers, ch->zombies};
    for (size_t i = 0; i < 2; i++) {
        for (struct peer *p = lists[i], *next; p; p = next) {
            next = p->next;
            peer_free(p);
        }
    }
    free(ch);
}

int mm_netconfd_callhome_parse(const char *spec, mm_netconfd_callhome_client *out)
{
    memset(out, 0, sizeof(*out));
    const char *rest;
    if (!strncmp(spec, "tls:", 4)) {
        snprintf(out->transport, sizeof(out->transport), "tls");
        out->port = MM_NC_CALLHOME_TLS_PORT;
    } else if (!strncmp(spec, "ssh:", 4)) {
        snprintf(out->transport, sizeof(out->transport), "ssh");
        out->port = MM_NC_CALLHOME_SSH_PORT;
    } else {
        return MM_EINVAL;
    }
    rest = spec + 4;
    const char *host = rest, *end, *colon;
    if (*rest == '[') {
        host = rest + 1;
        end = strchr(host, ']');
        if (!end)
            return MM_EINVAL;
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] && !colon)
            return MM_EINVAL;
    } else {
        colon = strrchr(rest, ':');
        end = colon ? colon : rest + strlen(rest);
    }
    size_t hl = (size_t)(end - host);
    if (hl == 0 || hl >= sizeof(out->host))
        return MM_EINVAL;
    memcpy(out->host, host, hl);
    if (colon) {
        char *e = NULL;
        unsigned long v = strtoul(colon + 1, &e, 10);
        if (!colon[1] || *e || v == 0 || v > 65535)
            return MM_EINVAL;
        out->port = (uint16_t)v;
    }
    return 0;
}
