/*
 * control.c - mamori-bgpd's control socket behind `mamori bgp`: a unix
 * stream socket (0600), one JSON request line, one JSON reply line.
 * Authorization comes first: the client's credentials (SO_PEERCRED) must
 * be root or the daemon's own user, else the refusal is audited and the
 * connection closed before anything is read. Requests are bounded (64 KiB
 * per line, 16 concurrent clients, 10 s to send the request).
 *
 * The rib reply is the exception: streamed in bounded chunks (ctl_rib.c),
 * produced only while this connection's output is under CTL_STREAM_CAP.
 *
 * Requests: {"cmd":"neighbors"}, {"cmd":"rib","family":"flow4"} (optional
 * "peer", "prefix", "limit"),
 * {"cmd":"announce","family":"flow4","match":"...","then":["..."]},
 * {"cmd":"withdraw","family":"flow4","match":"..."}.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "bgpd.h"
#include "mamori/mm_audit.h"
#include "mamori/mm_core.h"

#define CTL_MAX_LINE 65536
#define CTL_MAX_CLIENTS 16
/* A streamed reply (rib) is produced only while the connection's output is
 * under this cap, so a client that does not read costs at most this much. */
#define CTL_STREAM_CAP (256u * 1024u)
/* A streaming client that reads nothing for this long is dropped. */
#define CTL_STREAM_IDLE_S 60

struct bgpd_control {
    bgpd *d;
    struct evconnlistener *lis;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int clients;
};

typedef struct {
    bgpd_control *c;
    char subject[48];
    bgpd_rib_stream *rib; /* a reply being streamed, or NULL */
} ctl_client;

static void client_done(struct bufferevent *bev, ctl_client *cl)
{
    cl->c->clients--;
    bgpd_rib_stream_free(cl->rib);
    free(cl);
    bufferevent_free(bev);
}

static void client_flushed(struct bufferevent *bev, void *arg)
{
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        client_done(bev, arg);
}

static void client_event(struct bufferevent *bev, short what, void *arg);

/* Write callback of a streaming client: called when its output drained to
 * half the cap; one bounded step, then back to the event loop (BGP peers). */
static void client_stream(struct bufferevent *bev, void *arg)
{
    ctl_client *cl = arg;
    struct evbuffer *out = bufferevent_get_output(bev);
    if (evbuffer_get_length(out) >= CTL_STREAM_CAP)
        return;
    if (bgpd_rib_stream_fill(cl->rib, out, CTL_STREAM_CAP)) {
        bgpd_rib_stream_free(cl->rib);
        cl->rib = NULL;
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        bufferevent_setcb(bev, NULL, client_flushed, client_event, cl);
        client_flushed(bev, cl);
    }
}

static json_t *dispatch(bgpd *d, const char *subject, json_t *req)
{
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    json_t *fam = json_object_get(req, "family");
    int f = json_is_string(fam) ? bgpd_fam_parse(json_string_value(fam)) : BGPD_FLOW4;
    if (!cmd)
        return json_pack("{s:b, s:s}", "ok", 0, "error", "missing cmd");
    if (f < 0)
        return json_pack("{s:b, s:s}", "ok", 0, "error", "unknown family");
    const char *match = json_string_value(json_object_get(req, "match"));
    mm_audit_record r = {"bgp", subject, "read", cmd, true, "control socket peer credentials", NULL};
    bool reads = strcmp(cmd, "neighbors") == 0 || strcmp(cmd, "counters") == 0;
    /* The record before the answer; no record, no answer (fail closed). */
    if (reads && mm_audit_write(bgpd_audit(d), &r) < 0)
        return json_pack("{s:b, s:s}", "ok", 0, "error", "audit log unavailable");
    if (strcmp(cmd, "neighbors") == 0)
        return bgpd_ctl_neighbors(d);
    if (strcmp(cmd, "counters") == 0)
        return bgpd_ctl_counters(d);
    if (strcmp(cmd, "announce") == 0)
        return bgpd_ctl_announce(d, subject, f, match, json_object_get(req, "then"));
    if (strcmp(cmd, "withdraw") == 0)
        return bgpd_ctl_withdraw(d, subject, f, match);
    return json_pack("{s:b, s:s}", "ok", 0, "error", "unknown cmd");
}

static void client_read(struct bufferevent *bev, void *arg)
{
    ctl_client *cl = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n;
    char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
    if (!line) {
        if (evbuffer_get_length(in) > CTL_MAX_LINE)
            client_done(bev, cl);
        return;
    }
    json_error_t je;
    json_t *req = json_loadb(line, n, 0, &je);
    free(line);
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    if (json_is_object(req) && cmd && strcmp(cmd, "rib") == 0) {
        char err[128];
        mm_audit_record r = {"bgp", cl->subject, "read", "rib", true, "control socket peer credentials", NULL};
        if (mm_audit_write(bgpd_audit(cl->c->d), &r) < 0) {
            snprintf(err, sizeof(err), "audit log unavailable");
            cl->rib = NULL; /* no record, no listing (fail closed) */
        } else {
            cl->rib = bgpd_rib_stream_new(cl->c->d, req, err, sizeof(err));
        }
        json_decref(req);
        bufferevent_disable(bev, EV_READ);
        if (!cl->rib) {
            json_t *res = json_pack("{s:b, s:s}", "ok", 0, "error", err);
            char *out = json_dumps(res, JSON_COMPACT);
            json_decref(res);
            if (out) {
                bufferevent_write(bev, out, strlen(out));
                bufferevent_write(bev, "\n", 1);
                free(out);
            }
            bufferevent_setcb(bev, NULL, client_flushed, client_event, cl);
            client_flushed(bev, cl);
            return;
        }
        struct timeval tv = {CTL_STREAM_IDLE_S, 0};
        bufferevent_set_timeouts(bev, NULL, &tv);
        bufferevent_setwatermark(bev, EV_WRITE, CTL_STREAM_CAP / 2, 0);
        bufferevent_setcb(bev, NULL, client_stream, client_event, cl);
        client_stream(bev, cl);
        return;
    }
    json_t *res = json_is_object(req) ? dispatch(cl->c->d, cl->subject, req)
                                      : json_pack("{s:b, s:s}", "ok", 0, "error", "request is not a JSON object");
    json_decref(req);
    char *out = json_dumps(res, JSON_COMPACT);
    json_decref(res);
    bufferevent_disable(bev, EV_READ);
    if (out) {
        bufferevent_write(bev, out, strlen(out));
        bufferevent_write(bev, "\n", 1);
        free(out);
    }
    bufferevent_setcb(bev, NULL, client_flushed, NULL, cl);
    client_flushed(bev, cl);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        client_done(bev, arg);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    bgpd_control *c = arg;
    struct ucred cred;
    socklen_t cl = sizeof(cred);
    char subject[48];
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
        evutil_closesocket(fd);
        return;
    }
    snprintf(subject, sizeof(subject), "uid:%u", (unsigned)cred.uid);
    if (cred.uid != 0 && cred.uid != geteuid()) {
        mm_audit_record r = {"bgp", subject, "connect", "control-socket", false,
                             "peer credentials: not root or the daemon user", NULL};
        mm_audit_write(bgpd_audit(c->d), &r);
        evutil_closesocket(fd);
        return;
    }
    if (c->clients >= CTL_MAX_CLIENTS) {
        evutil_closesocket(fd);
        return;
    }
    ctl_client *x = calloc(1, sizeof(*x));
    struct bufferevent *bev = x ? bufferevent_socket_new(evconnlistener_get_base(l), fd,
                                                         BEV_OPT_CLOSE_ON_FREE)
                                : NULL;
    if (!bev) {
        free(x);
        evutil_closesocket(fd);
        return;
    }
    x->c = c;
    snprintf(x->subject, sizeof(x->subject), "%s", subject);
    c->clients++;
    struct timeval tv = {10, 0};
    bufferevent_set_timeouts(bev, &tv, &tv);
    bufferevent_setcb(bev, client_read, NULL, client_event, x);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int bgpd_control_start(bgpd *d, struct event_base *base, const char *path, bgpd_control **out)
{
    bgpd_control *c = calloc(1, sizeof(*c));
    if (!c)
        return MM_ENOMEM;
    c->d = d;
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        free(c);
        return MM_EINVAL;
    }
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    snprintf(c->path, sizeof(c->path), "%s", path);
    unlink(path);
    mode_t old = umask(0177); /* the socket is born 0600 */
    c->lis = evconnlistener_new_bind(base, accept_cb, c, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                     16, (struct sockaddr *)&sun, (int)sizeof(sun));
    umask(old);
    if (!c->lis) {
        mm_log_error("control", "cannot listen on %s: %s", path, strerror(errno));
        free(c);
        return MM_ESYS;
    }
    *out = c;
    return 0;
}

void bgpd_control_stop(bgpd_control *c)
{
    if (!c)
        return;
    evconnlistener_free(c->lis);
    unlink(c->path);
    free(c);
}
