/*
 * callhome.c - NETCONF call home (RFC 8071) for mamori-netconfd: the server
 * opens the TCP connection to each configured client, then acts as the TLS
 * (RFC 8071 section 4.2) or SSH (section 4.1) server on it, exactly as on an
 * accepted connection: the client still authenticates the server's
 * certificate or host key and the server the client.
 *
 * Reconnect strategy (the "persistent" connection type of
 * ietf-netconf-server's call-home): when the connection cannot be opened or
 * ends, the next attempt comes after a delay that doubles from retry_ms up
 * to 60 s, and goes back to retry_ms once a session has been established.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mamori/mm_core.h"
#include "netconfd_callhome.h"

#define MAX_BACKOFF_MS 60000u
#define CONNECT_TIMEOUT_S 10

struct peer {
    struct mm_netconfd_callhome *ch;
    mm_netconfd_callhome_client cfg;
    evutil_socket_t fd; /* while connecting */
    struct event *ev;   /* connect completion or retry timer */
    uint32_t backoff_ms;
    unsigned attempts, connects;
    bool connected;
};

struct mm_netconfd_callhome {
    struct event_base *base;
    mm_netconfd_callhome_adopt adopt;
    void *adopt_arg;
    uint32_t retry_ms;
    struct peer *peers;
    size_t n;
};

static void attempt(evutil_socket_t fd, short what, void *arg);

static void ev_free(struct event **ev)
{
    if (*ev)
        event_free(*ev);
    *ev = NULL;
}

static void schedule(struct peer *p, uint32_t ms)
{
    ev_free(&p->ev);
    p->ev = evtimer_new(p->ch->base, attempt, p);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (p->ev)
        evtimer_add(p->ev, &tv);
}

static void retry_later(struct peer *p, const char *why)
{
    uint32_t ms = p->backoff_ms ? p->backoff_ms : p->ch->retry_ms;
    mm_log_info("netconfd-callhome",
                "client=%s:%u transport=%s result=retry reason=\"%s\" "
                "retry_ms=%u",
                p->cfg.host, p->cfg.port, p->cfg.transport, why, ms);
    p->backoff_ms = ms * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : ms * 2;
    schedule(p, ms);
}

/* The transport's connection to this client ended: call again. */
static void on_closed(void *arg)
{
    struct peer *p = arg;
    p->connected = false;
    retry_later(p, "connection ended");
}

static void on_connected(evutil_socket_t fd, short what, void *arg)
{
    struct peer *p = arg;
    int err = 0;
    socklen_t el = sizeof(err);
    if (!(what & EV_WRITE) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) {
        evutil_closesocket(fd);
        p->fd = -1;
        retry_later(p, what & EV_TIMEOUT ? "connect timeout" : strerror(err ? err : errno));
        return;
    }
    p->fd = -1;
    p->connects++;
    mm_log_info("netconfd-callhome", "client=%s:%u transport=%s result=connected attempt=%u",
                p->cfg.host, p->cfg.port, p->cfg.transport, p->attempts);
    /* The transport owns fd now, also if it fails. */
    int rc = p->ch->adopt(p->cfg.transport, fd, on_closed, p, p->ch->adopt_arg);
    if (rc < 0) {
        retry_later(p, mm_strerror(rc));
        return;
    }
    p->connected = true;
    p->backoff_ms = 0; /* a working connection resets the back-off */
}

static void attempt(evutil_socket_t unused, short what, void *arg)
{
    (void)unused;
    (void)what;
    struct peer *p = arg;
    p->attempts++;
    char port[8];
    snprintf(port, sizeof(port), "%u", p->cfg.port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
    int g = getaddrinfo(p->cfg.host, port, &hints, &ai);
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
    struct timeval tv = {CONNECT_TIMEOUT_S, 0};
    if (p->ev)
        event_add(p->ev, &tv);
}

int mm_netconfd_callhome_start(struct event_base *base, const mm_netconfd_callhome_client *clients,
                               size_t n, uint32_t retry_ms, mm_netconfd_callhome_adopt adopt,
                               void *adopt_arg, mm_netconfd_callhome **out)
{
    *out = NULL;
    struct mm_netconfd_callhome *ch = calloc(1, sizeof(*ch));
    MM_ENSURE(ch, MM_ENOMEM);
    ch->peers = calloc(n ? n : 1, sizeof(*ch->peers));
    if (!ch->peers) {
        free(ch);
        return MM_ENOMEM;
    }
    ch->base = base;
    ch->adopt = adopt;
    ch->adopt_arg = adopt_arg;
    ch->retry_ms = retry_ms ? retry_ms : 1000;
    ch->n = n;
    for (size_t i = 0; i < n; i++) {
        struct peer *p = &ch->peers[i];
        p->ch = ch;
        p->cfg = clients[i];
        p->fd = -1;
        schedule(p, 0);
    }
    *out = ch;
    return 0;
}

unsigned mm_netconfd_callhome_connects(const mm_netconfd_callhome *ch, size_t i)
{
    return ch && i < ch->n ? ch->peers[i].connects : 0;
}

void mm_netconfd_callhome_free(mm_netconfd_callhome *ch)
{
    if (!ch)
        return;
    for (size_t i = 0; i < ch->n; i++) {
        ev_free(&ch->peers[i].ev);
        if (ch->peers[i].fd >= 0)
            evutil_closesocket(ch->peers[i].fd);
    }
    free(ch->peers);
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
