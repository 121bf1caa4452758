/*
 * NETCONF over TLS (RFC 7589): listeners, TLS sessions on libevent's
 * OpenSSL bufferevents, cert-to-name, continuous verification.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "mamori/mm_buf.h"
#include "mamori/mm_core.h"
#include "mamori/mm_netconf_tls.h"

/* Replies gathered from one burst of input before they are written. */
#define MM_NC_TLS_GATHER_MAX 16
/* A closing session gets this long without write progress to flush its last
 * replies; then it is dropped (a peer that does not read holds nothing). */
#define DRAIN_TIMEOUT_S 10

struct conn {
    struct mm_nc_tls_server *ts;
    struct bufferevent *bev;
    SSL *ssl;
    mm_nc_session *session;
    bool closing, released;
    bool in_read;     /* replies are gathered while a burst of input is handled */
    mm_buf out;       /* ...here, and written with one SSL_write afterwards */
    unsigned gathered; /* messages in out */
    struct event *free_ev; /* frees the connection outside any callback chain */
    bool paused;      /* input not read while replies wait to be sent */
    size_t max_queued; /* high-water mark of unsent reply bytes (debug counter) */
    unsigned pauses;
    char peer[96];
    char user[MM_NC_TLS_NAME_MAX];
    void (*closed)(void *arg); /* call home: the server's own connection ended */
    void *closed_arg;
    struct conn *prev, *next;
};

struct listener {
    struct evconnlistener *lev;
    mm_nc_tls_endpoint ep;
    uint16_t port;
};

struct mm_nc_tls_server {
    mm_nc_server *engine;
    struct event_base *base;
    mm_nc_tls_settings set;
    mm_ctn_map map;
    SSL_CTX *ctx;
    struct listener lis[MM_NC_TLS_MAX_ENDPOINTS];
    size_t n_lis;
    struct conn *conns;
    size_t n_conns;
    struct event *timer;
    struct timespec ca_mtime, crl_mtime;
};

/* ------------------------------------------------------------ TLS context */

static struct timespec mtime_of(const char *path)
{
    struct stat st;
    struct timespec zero = {0, 0};
    return (path[0] && stat(path, &st) == 0) ? st.st_mtim : zero;
}

static bool same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Load every CRL of a PEM file into the store and turn on CRL checking. */
static int load_crls(X509_STORE *store, const char *path)
{
    X509_LOOKUP *lu = X509_STORE_add_lookup(store, X509_LOOKUP_file());
    if (!lu || X509_load_crl_file(lu, path, X509_FILETYPE_PEM) <= 0) {
        mm_log_error("nc-tls-crl", "file=%s err=\"cannot load CRL\"", path);
        return MM_ECRYPTO;
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    return 0;
}

static SSL_CTX *make_ctx(const mm_nc_tls_settings *s)
{
    mm_tls_config cfg = {.ca_file = s->ca_file, .cert_file = s->cert_file,
                         .key_file = s->key_file, .groups = s->groups[0] ? s->groups : NULL};
    SSL_CTX *ctx = mm_tls_ctx_new_server(&cfg);
    if (!ctx)
        return NULL;
    if (s->crl_file[0] && load_crls(SSL_CTX_get_cert_store(ctx), s->crl_file) < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* ------------------------------------------------------------ connections */

static void conn_free(struct conn *c)
{
    struct mm_nc_tls_server *ts = c->ts;
    if (c->prev)
        c->prev->next = c->next;
    else
        ts->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ts->n_conns--;
    if (c->bev)
        bufferevent_free(c->bev); /* frees the SSL and closes the socket */
    if (c->free_ev)
        event_free(c->free_ev);
    mm_buf_free(&c->out);
    if (c->closed)
        c->closed(c->closed_arg);
    free(c);
}

static void deferred_free(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_free(arg);
}

/* Reply bytes of this session not yet handed to the kernel. */
static size_t queued(const struct conn *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev)) + c->out.len;
}

static void note_queued(struct conn *c)
{
    size_t q = queued(c);
    if (q > c->max_queued)
        c->max_queued = q;
}

/* Free outside the current callback chain: the engine may still be on the stack. */
static void conn_release(struct conn *c)
{
    if (c->released)
        return;
    if (c->max_queued)
        mm_log_info("nc-tls-queue", "peer=%s user=%s max_queued=%zu pauses=%u", c->peer,
                    c->user[0] ? c->user : "-", c->max_queued, c->pauses);
    c->released = c->closing = true;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    struct timeval now = {0, 0};
    evtimer_add(c->free_ev, &now);
}

/* Hand gathered replies to TLS in one go (one record batch, one syscall). */
static int flush_out(struct conn *c)
{
    if (c->out.len == 0)
        return 0;
    int rc = bufferevent_write(c->bev, c->out.data, c->out.len) == 0 ? 0 : MM_EIO;
    mm_buf_reset(&c->out);
    c->gathered = 0;
    note_queued(c);
    return rc;
}

static int op_send(void *io, const uint8_t *data, size_t len)
{
    struct conn *c = io;
    if (c->closing)
        return MM_ECLOSED;
    if (c->in_read && mm_buf_append(&c->out, data, len) == 0) {
        /* A long burst goes out in parts, so the client can work on the
         * first replies while the rest are produced. */
        if (++c->gathered >= MM_NC_TLS_GATHER_MAX)
            return flush_out(c);
        return 0;
    }
    MM_GUARD(flush_out(c)); /* keep the order if the gather buffer is full */
    int rc = bufferevent_write(c->bev, data, len) == 0 ? 0 : MM_EIO;
    note_queued(c);
    return rc;
}

static void on_drained(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct conn *c = arg;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_release(c);
}

/* While draining before a close, any error or EOF ends it at once. */
static void on_event_closing(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        conn_release(arg);
}

/* The engine ends the session: flush what is queued, then close. */
static void op_close(void *io, int app_error)
{
    (void)app_error; /* TLS has no application error codes */
    struct conn *c = io;
    c->session = NULL;
    if (c->closing)
        return;
    flush_out(c);
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        conn_release(c);
        return;
    }
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    struct timeval drain = {DRAIN_TIMEOUT_S, 0};
    bufferevent_set_timeouts(c->bev, NULL, &drain);
    bufferevent_setcb(c->bev, NULL, on_drained, on_event_closing, c);
}

/* The engine ends a session whose peer does not read: drop its backlog. */
static void op_abort(void *io, int app_error)
{
    (void)app_error;
    struct conn *c = io;
    c->session = NULL;
    if (c->closing)
        return;
    mm_log_info("nc-tls-abort", "peer=%s user=%s dropped=%zu", c->peer,
                c->user[0] ? c->user : "-", queued(c));
    mm_buf_reset(&c->out);
    c->gathered = 0;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_drain(out, evbuffer_get_length(out));
    conn_release(c);
}

static size_t max_queue(const struct conn *c)
{
    return c->ts->set.max_queue ? c->ts->set.max_queue : MM_NC_TLS_DEFAULT_MAX_QUEUE;
}

static size_t op_queued(void *io, size_t *cap)
{
    struct conn *c = io;
    *cap = max_queue(c);
    return queued(c);
}

static const mm_nc_transport_ops tls_ops = {.send = op_send, .close = op_close,
                                           .queued = op_queued, .abort = op_abort};

static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

/* Enough of the backlog went out: read (and answer) again. */
static void on_write(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (!c->paused || c->closing)
        return;
    c->paused = false;
    bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
    bufferevent_setcb(bev, on_read, NULL, on_event, c);
    bufferevent_enable(bev, EV_READ);
    on_read(bev, c); /* requests already read are waiting */
}

/*
 * A peer that sends requests and does not read the replies must not grow
 * our memory without bound (issue 10 #4): while more than max_queue bytes
 * of replies wait to be sent, the session's input is not read; reading
 * resumes once the backlog is down to half. Input is handed to the engine
 * in small pieces (1 KiB, 256 bytes once replies are waiting), so a burst
 * of pipelined requests overshoots the cap by a few replies at most; the
 * framer keeps its scan position, so small pieces cost no rescanning.
 */
static void on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t cap = max_queue(c);
    c->in_read = true;
    while (c->session && !c->closing && evbuffer_get_length(in) > 0) {
        size_t q = queued(c);
        if (q > cap) {
            c->paused = true;
            c->pauses++;
            break;
        }
        uint8_t buf[1024];
        int n = evbuffer_remove(in, buf, q > 0 ? 256 : sizeof(buf));
        if (n <= 0)
            break;
        /* A negative return means the engine ended and freed the session. */
        if (mm_nc_session_input(c->session, buf, (size_t)n) < 0)
            break;
    }
    c->in_read = false;
    if (c->closing)
        return;
    flush_out(c);
    if (c->paused) {
        /* The write callback only while paused: libevent defers it holding a
         * reference, which a callback that is never needed should not. */
        bufferevent_disable(bev, EV_READ);
        bufferevent_setwatermark(bev, EV_WRITE, cap / 2, 0);
        bufferevent_setcb(bev, on_read, on_write, on_event, c);
        mm_log_debug("nc-tls-pause", "peer=%s queued=%zu cap=%zu", c->peer, queued(c), cap);
    }
}

static void refuse(struct conn *c, const char *why)
{
    mm_log_warn("nc-tls-refuse", "peer=%s reason=\"%s\"", c->peer, why);
    conn_release(c);
}

/* Handshake done: derive the user name (RFC 7589 section 7) and start NETCONF. */
static void on_connected(struct conn *c)
{
    struct mm_nc_tls_server *ts = c->ts;
    if (SSL_get_verify_result(c->ssl) != X509_V_OK || !SSL_get0_peer_certificate(c->ssl)) {
        refuse(c, "client certificate not verified");
        return;
    }
    int rc = mm_tls_peer_identity(c->ssl, &ts->map, c->user, sizeof(c->user));
    if (rc < 0) {
        /* RFC 7589 section 7: no user name, no NETCONF. */
        refuse(c, "no cert-to-name mapping for the client certificate");
        return;
    }
    mm_nc_session_info info = {.username = c->user, .transport = "netconf-tls",
                               .peer = c->peer, .chunked_only = false};
    bufferevent_set_timeouts(c->bev, NULL, NULL);
    mm_log_info("nc-tls-accept", "peer=%s user=%s group=%s", c->peer, c->user,
                mm_tls_negotiated_group_name(c->ssl) ? mm_tls_negotiated_group_name(c->ssl)
                                                     : "?");
    c->session = mm_nc_session_new(ts->engine, &info, &tls_ops, c);
    if (!c->session)
        refuse(c, "cannot create a NETCONF session");
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        on_connected(c);
        return;
    }
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)))
        return;
    unsigned long e = bufferevent_get_openssl_error(c->bev);
    char reason[160] = "";
    if (e)
        ERR_error_string_n(e, reason, sizeof(reason));
    mm_log_info("nc-tls-close", "peer=%s user=%s cause=%s%s%s", c->peer,
                c->user[0] ? c->user : "-",
                (what & BEV_EVENT_TIMEOUT) ? "timeout" : (what & BEV_EVENT_EOF) ? "eof" : "error",
                e ? " tls=" : "", reason);
    if (c->session) {
        mm_nc_session *s = c->session;
        c->session = NULL;
        mm_nc_session_lost(s);
    }
    conn_release(c);
}

static struct conn *accept_fd(struct mm_nc_tls_server *ts, evutil_socket_t fd,
                              const struct sockaddr *sa, void (*closed)(void *), void *carg);

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)lev;
    (void)salen;
    accept_fd(arg, fd, sa, NULL, NULL);
}

int mm_nc_tls_server_adopt(mm_nc_tls_server *ts, int fd, void (*closed)(void *), void *arg)
{
    struct sockaddr_storage ss;
    MM_GUARD(mm_sock_adopt(fd, &ss));
    return accept_fd(ts, fd, (struct sockaddr *)&ss, closed, arg) ? 0 : MM_ENOMEM;
}

static struct conn *accept_fd(struct mm_nc_tls_server *ts, evutil_socket_t fd,
                              const struct sockaddr *sa, void (*closed)(void *), void *carg)
{
    struct conn *c = calloc(1, sizeof(*c));
    SSL *ssl = c ? SSL_new(ts->ctx) : NULL;
    if (!ssl) {
        free(c);
        evutil_closesocket(fd);
        return NULL;
    }
    c->ts = ts;
    c->ssl = ssl;
    /* Replies and notifications are small and latency-bound: no Nagle. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    mm_tcp_dead_peer_detection(fd, ts->set.dead_peer_ms ? ts->set.dead_peer_ms
                                                        : MM_NC_TLS_DEFAULT_DEAD_PEER_MS);
    mm_buf_init(&c->out, 4u << 20);
    mm_sockaddr_format(sa, c->peer, sizeof(c->peer));
    c->bev = bufferevent_openssl_socket_new(ts->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    c->free_ev = evtimer_new(ts->base, deferred_free, c);
    if (!c->bev || !c->free_ev) {
        if (c->bev) {
            bufferevent_free(c->bev); /* also frees ssl and closes fd */
        } else {
            SSL_free(ssl);
            evutil_closesocket(fd);
        }
        if (c->free_ev)
            event_free(c->free_ev);
        free(c);
        return NULL;
    }
    c->closed = closed;
    c->closed_arg = carg;
    c->next = ts->conns;
    if (ts->conns)
        ts->conns->prev = c;
    ts->conns = c;
    ts->n_conns++;
    /* Handshake and hello must not take forever (unauthenticated peers). */
    struct timeval hs = {MM_NC_TLS_HANDSHAKE_TIMEOUT_S, 0};
    bufferevent_set_timeouts(c->bev, &hs, &hs);
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    return c;
}

/* ------------------------------------------------------------ continuous verification */

static bool cert_expired(X509 *cert)
{
    return X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0;
}

/* Full chain re-verification against the current trust anchors and CRLs. */
static const char *reverify_chain(struct mm_nc_tls_server *ts, struct conn *c, char *user,
                                  size_t ulen)
{
    X509 *leaf = SSL_get0_peer_certificate(c->ssl);
    if (!leaf)
        return "no client certificate";
    X509_STORE_CTX *x = X509_STORE_CTX_new_ex(mm_tls_libctx(), NULL);
    const char *why = NULL;
    if (!x || !X509_STORE_CTX_init(x, SSL_CTX_get_cert_store(ts->ctx), leaf,
                                   SSL_get_peer_cert_chain(c->ssl))) {
        why = "cannot verify";
    } else {
        X509_STORE_CTX_set_purpose(x, X509_PURPOSE_SSL_CLIENT);
        if (X509_verify_cert(x) != 1)
            why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(x));
        else if (mm_ctn_resolve(X509_STORE_CTX_get0_chain(x), &ts->map, user, ulen) < 0)
            why = "no cert-to-name mapping any more";
    }
    X509_STORE_CTX_free(x);
    return why;
}

static void check_conn(struct mm_nc_tls_server *ts, struct conn *c, bool full)
{
    if (!c->session || c->closing)
        return;
    const char *why = NULL;
    char user[MM_NC_TLS_NAME_MAX] = "";
    STACK_OF(X509) *chain = SSL_get0_verified_chain(c->ssl);
    for (int i = 0; chain && i < sk_X509_num(chain) && !why; i++)
        if (cert_expired(sk_X509_value(chain, i)))
            why = i == 0 ? "client certificate expired" : "issuer certificate expired";
    if (!why && full) {
        why = reverify_chain(ts, c, user, sizeof(user));
        if (!why && strcmp(user, c->user) != 0)
            why = "cert-to-name now maps to another user";
    }
    if (!why)
        return;
    mm_log_warn("nc-tls-revoke", "peer=%s user=%s session=%u reason=\"%s\"", c->peer, c->user,
                mm_nc_session_id(c->session), why);
    mm_nc_session *s = c->session;
    mm_nc_session_terminate(s, why); /* calls op_close */
}

static void check_all(struct mm_nc_tls_server *ts, bool full)
{
    for (struct conn *c = ts->conns, *next; c; c = next) {
        next = c->next;
        check_conn(ts, c, full);
    }
}

void mm_nc_tls_server_reverify(mm_nc_tls_server *ts) { check_all(ts, true); }

/* CA or CRL file changed on disk: new context for new connections, re-check the rest. */
static void reload_if_changed(struct mm_nc_tls_server *ts)
{
    struct timespec ca = mtime_of(ts->set.ca_file), crl = mtime_of(ts->set.crl_file);
    if (same_time(ca, ts->ca_mtime) && same_time(crl, ts->crl_mtime)) {
        check_all(ts, false);
        return;
    }
    SSL_CTX *ctx = make_ctx(&ts->set);
    if (!ctx) {
        mm_log_error("nc-tls-reload", "ca=%s crl=%s err=\"keeping the previous trust store\"",
                     ts->set.ca_file, ts->set.crl_file);
        return;
    }
    SSL_CTX_free(ts->ctx);
    ts->ctx = ctx;
    ts->ca_mtime = ca;
    ts->crl_mtime = crl;
    mm_log_info("nc-tls-reload", "ca=%s crl=%s", ts->set.ca_file,
                ts->set.crl_file[0] ? ts->set.crl_file : "-");
    check_all(ts, true);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    reload_if_changed(arg);
}

/* ------------------------------------------------------------ listeners */

static int bind_endpoint(struct mm_nc_tls_server *ts, struct listener *l)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, l->ep.address, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(l->ep.port);
        sl = sizeof(*in);
    } else if (inet_pton(AF_INET6, l->ep.address, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(l->ep.port);
        sl = sizeof(*in6);
    } else {
        mm_log_error("nc-tls-listen", "endpoint=%s address=%s err=\"not a numeric address\"",
                     l->ep.name, l->ep.address);
        return MM_ECONFIG;
    }
    l->lev = evconnlistener_new_bind(ts->base, on_accept, ts,
                                     LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE |
                                         LEV_OPT_CLOSE_ON_EXEC,
                                     128, (struct sockaddr *)&ss, (int)sl);
    if (!l->lev) {
        mm_log_error("nc-tls-listen", "endpoint=%s address=%s port=%u err=\"%s\"", l->ep.name,
                     l->ep.address, l->ep.port, strerror(errno));
        return MM_ESYS;
    }
    struct sockaddr_storage got;
    socklen_t gl = sizeof(got);
    getsockname(evconnlistener_get_fd(l->lev), (struct sockaddr *)&got, &gl);
    l->port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
                                             : ((struct sockaddr_in6 *)&got)->sin6_port);
    mm_log_info("nc-tls-listen", "endpoint=%s address=%s port=%u", l->ep.name, l->ep.address,
                l->port);
    return 0;
}

static bool same_endpoint(const mm_nc_tls_endpoint *a, const mm_nc_tls_endpoint *b)
{
    return !strcmp(a->address, b->address) && a->port == b->port;
}

/* Keep listeners whose address and port did not change; bind the new ones. */
static int apply_endpoints(struct mm_nc_tls_server *ts, const mm_nc_tls_settings *s)
{
    struct listener next[MM_NC_TLS_MAX_ENDPOINTS];
    memset(next, 0, sizeof(next));
    int rc = 0;
    for (size_t i = 0; i < s->n_endpoints; i++) {
        next[i].ep = s->endpoints[i];
        for (size_t j = 0; j < ts->n_lis; j++) {
            if (ts->lis[j].lev && same_endpoint(&ts->lis[j].ep, &s->endpoints[i])) {
                next[i].lev = ts->lis[j].lev;
                next[i].port = ts->lis[j].port;
                ts->lis[j].lev = NULL;
            }
        }
    }
    for (size_t j = 0; j < ts->n_lis; j++)
        if (ts->lis[j].lev)
            evconnlistener_free(ts->lis[j].lev);
    for (size_t i = 0; i < s->n_endpoints && rc == 0; i++)
        if (!next[i].lev)
            rc = bind_endpoint(ts, &next[i]);
    memcpy(ts->lis, next, sizeof(next));
    ts->n_lis = s->n_endpoints;
    return rc;
}

static void adopt_settings(struct mm_nc_tls_server *ts, const mm_nc_tls_settings *s)
{
    ts->set = *s;
    /* The names in ctn entries point into our own copy. */
    for (size_t i = 0; i < ts->set.n_ctn; i++)
        ts->set.ctn[i].name = ts->set.ctn_names[i][0] ? ts->set.ctn_names[i] : NULL;
    ts->map.entries = ts->set.ctn;
    ts->map.count = ts->set.n_ctn;
}

int mm_nc_tls_server_apply(mm_nc_tls_server *ts, const mm_nc_tls_settings *s)
{
    SSL_CTX *ctx = make_ctx(s);
    if (!ctx)
        return MM_ECRYPTO;
    SSL_CTX_free(ts->ctx);
    ts->ctx = ctx;
    adopt_settings(ts, s);
    ts->ca_mtime = mtime_of(s->ca_file);
    ts->crl_mtime = mtime_of(s->crl_file);
    int rc = apply_endpoints(ts, s);
    check_all(ts, true);
    return rc;
}

int mm_nc_tls_server_new(mm_nc_server *engine, struct event_base *base,
                         const mm_nc_tls_settings *s, mm_nc_tls_server **out)
{
    *out = NULL;
    struct mm_nc_tls_server *ts = calloc(1, sizeof(*ts));
    if (!ts)
        return MM_ENOMEM;
    ts->engine = engine;
    ts->base = base;
    int rc = mm_nc_tls_server_apply(ts, s);
    uint32_t ms = s->verify_interval_ms ? s->verify_interval_ms : MM_NC_TLS_DEFAULT_VERIFY_MS;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (rc == 0) {
        ts->timer = event_new(base, -1, EV_PERSIST, on_timer, ts);
        rc = (ts->timer && event_add(ts->timer, &tv) == 0) ? 0 : MM_ESYS;
    }
    if (rc < 0) {
        mm_nc_tls_server_free(ts);
        return rc;
    }
    *out = ts;
    return 0;
}

uint16_t mm_nc_tls_server_port(const mm_nc_tls_server *ts, size_t i)
{
    return i < ts->n_lis ? ts->lis[i].port : 0;
}

size_t mm_nc_tls_server_queued_bytes(const mm_nc_tls_server *ts)
{
    size_t n = 0;
    for (const struct conn *c = ts->conns; c; c = c->next)
        n += c->released ? 0 : queued(c);
    return n;
}

size_t mm_nc_tls_server_session_count(const mm_nc_tls_server *ts)
{
    size_t n = 0;
    for (const struct conn *c = ts->conns; c; c = c->next)
        n += c->session != NULL;
    return n;
}

void mm_nc_tls_server_free(mm_nc_tls_server *ts)
{
    if (!ts)
        return;
    if (ts->timer)
        event_free(ts->timer);
    for (size_t i = 0; i < ts->n_lis; i++)
        if (ts->lis[i].lev)
            evconnlistener_free(ts->lis[i].lev);
    while (ts->conns) {
        struct conn *c = ts->conns;
        c->closed = NULL; /* shutting down: nobody reconnects */
        if (c->session) {
            mm_nc_session *s = c->session;
            c->session = NULL;
            mm_nc_session_lost(s);
        }
        conn_free(c);
    }
    SSL_CTX_free(ts->ctx);
    free(ts);
}
