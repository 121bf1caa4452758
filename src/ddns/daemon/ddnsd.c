/*
 * mamori-ddnsd: ApertoDNS over HTTPS.
 *
 * Transport: libevent's evhttp on bufferevent_openssl with the mamori TLS
 * context (TLS 1.3, hybrid group first, client certificates optional as
 * the API authenticates with tokens). HTTP/1.1 keep-alive; bodies capped at
 * MM_DDNS_BODY_MAX (evhttp answers 413), headers at 8 KiB.
 *
 * Bounds: every connection is tracked through an SSL ex_data slot (freed
 * with the SSL, whoever frees it); at max_conns the listener pauses, so the
 * kernel backlog absorbs the excess. A watchdog closes a connection that has
 * not delivered a complete request within req_timeout_s of accepting or of
 * the previous reply: slow headers, slow bodies and idle keep-alive all
 * end the same way (the socket is shut down, evhttp then frees everything).
 *
 * Group commit is pipelined with a syncer thread (see group_close): the
 * loop keeps reading while a group is made durable. Sockets get TCP_NODELAY
 * (see on_request): with Nagle, every keep-alive reply stalled up to 40 ms.
 *
 * DNS: a worker thread drains the store's push queue with RFC 2136 UPDATEs
 * (push.c); the engine wakes it after each committed change, it retries with
 * backoff while the DNS server is unreachable and nothing is lost because
 * the queue is in the same database as the data.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "ddnsd.h"
#include "knot.h"
#include "mamori/mm_audit.h"
#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"
#include "mamori/mm_ddns_push.h"
#include "mamori/mm_event.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_tls.h"

struct conn {
    struct mm_ddnsd *d;
    struct bufferevent *bev;  /* TLS */
    struct bufferevent *filt; /* in_filter over bev: what evhttp uses */
    int64_t since_ms; /* accept or last reply: the next request is due within the timeout */
    bool nodelay;     /* TCP_NODELAY set on the socket */
    /* input screening (in_filter) */
    enum { F_HEAD, F_BODY, F_DISCARD } fstate;
    uint64_t body_left;
    size_t scanned;            /* bytes of the pending head already searched for CRLFCRLF */
    enum mm_ddns_err err;      /* F_DISCARD: the error the synthetic request stands for */
    const char *err_why;
    struct conn *prev, *next;
};

/*
 * What the input filter hands evhttp in place of a request it refused: the
 * request callback recognises it and answers the recorded error in JSON.
 */
#define SYNTH_PATH MM_DDNS_PREFIX "/.transport-error"
#define SYNTH_REQ "GET " SYNTH_PATH " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"

struct pusher {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started, stop, wake, dns_ok;
    mm_ddns_store *store; /* its own connection */
    mm_ddns_push_conn *conn; /* TCP to the primary, kept */
    char knot_ctl[108];      /* Knot's control socket, or empty (knotctl.c) */
    int64_t last_answer_ms;  /* wall clock of the last UPDATE answer */
    bool ctl_warned;
    mm_ddns_push_item *batch; /* MM_DDNS_PUSH_BATCH_MAX items, for one coalesced UPDATE */
    int64_t ids[MM_DDNS_PUSH_BATCH_MAX];
    size_t solo;             /* after a refused coalesced message: items to send alone */
    uint64_t messages;       /* UPDATE messages answered */
};

struct syncer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started, stop, job, done;
    int rc;
    int64_t audit_us, commit_us;
    int pipe[2];
    struct event *ev;
};

struct mm_ddnsd {
    mm_ddnsd_options o;
    struct event_base *base;
    SSL_CTX *ctx;
    struct evhttp *http;
    struct evconnlistener *lev;
    uint16_t port;
    struct conn *conns;
    unsigned n_conns;
    bool paused;
    struct event *watchdog;
    mm_ddns_store *store;
    mm_audit *audit;
    mm_ddns_service *svc;
    struct pusher push;
    /* group commit (see group_close) */
    struct pending *pend;
    size_t n_pend;
    bool group_open, syncing, push_wanted;
    struct event *flush_ev;
    struct evhttp_request **queue; /* complete requests waiting for the next group */
    size_t n_queue, queue_cap;
    struct syncer sy;
    mm_ddnsd_knot *knot;
};

/* A reply held until its group is durable. */
struct pending {
    struct evhttp_request *req;
    mm_ddns_http_resp rs;
};

#define GROUP_MAX 1024
/* How long a group waits for more requests (the latency one update may pay for batching). */
#define GROUP_WINDOW_US 2000

static int conn_idx = -1;
static void push_wake(void *arg);

/* ------------------------------------------------------------ connections */

/* Runs whenever an SSL is freed (evhttp frees it with the bufferevent). */
static void conn_exfree(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    struct conn *c = ptr;
    if (!c)
        return;
    struct mm_ddnsd *d = c->d;
    if (c->prev)
        c->prev->next = c->next;
    else
        d->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    d->n_conns--;
    if (d->paused && d->lev && d->n_conns < d->o.max_conns) {
        evconnlistener_enable(d->lev);
        d->paused = false;
    }
    free(c);
}

/* Refuse the rest of this connection's input: one synthetic request stands for the error. */
static void screen_fail(struct conn *c, struct evbuffer *src, struct evbuffer *dst,
                        enum mm_ddns_err e, const char *why)
{
    evbuffer_drain(src, evbuffer_get_length(src));
    evbuffer_add(dst, SYNTH_REQ, strlen(SYNTH_REQ));
    mm_log_debug("ddnsd-screen", "err=%s why=\"%s\"", mm_ddns_err_code(e), why ? why : "");
    c->fstate = F_DISCARD;
    c->err = e;
    c->err_why = why;
}

/*
 * Input filter between TLS and evhttp: each request's header section is
 * screened (mm_ddns_http_head_check) before evhttp parses it, and its body
 * passed through by Content-Length. evhttp's own errors are HTML pages
 * (libevent 2.1 has no hook for them), so anything it would refuse is
 * refused here first, to be answered in the API's JSON envelope.
 */
static enum bufferevent_filter_result in_filter(struct evbuffer *src, struct evbuffer *dst,
                                                ev_ssize_t limit, enum bufferevent_flush_mode mode,
                                                void *arg)
{
    (void)limit;
    (void)mode;
    struct conn *c = arg;
    bool moved = false;
    for (;;) {
        size_t have = evbuffer_get_length(src);
        if (!have)
            break;
        if (c->fstate == F_DISCARD) {
            evbuffer_drain(src, have);
            break;
        }
        if (c->fstate == F_BODY) {
            size_t n = have < c->body_left ? have : (size_t)c->body_left;
            evbuffer_remove_buffer(src, dst, n);
            moved = true;
            c->body_left -= n;
            if (c->body_left == 0)
                c->fstate = F_HEAD;
            continue;
        }
        /* Search only what is new since the last call (less the 3 bytes a split CRLFCRLF needs). */
        struct evbuffer_ptr start;
        evbuffer_ptr_set(src, &start, c->scanned > 3 ? c->scanned - 3 : 0, EVBUFFER_PTR_SET);
        struct evbuffer_ptr end = evbuffer_search(src, "\r\n\r\n", 4, &start);
        if (end.pos < 0) {
            c->scanned = have;
            if (have < MM_DDNS_HEAD_MAX)
                break; /* wait for the rest of the header section */
            screen_fail(c, src, dst, MM_DDNS_PAYLOAD_TOO_LARGE, "request header section larger than 8 KiB");
            moved = true;
            continue;
        }
        size_t hl = (size_t)end.pos + 4;
        c->scanned = 0;
        if (hl > MM_DDNS_HEAD_MAX) {
            screen_fail(c, src, dst, MM_DDNS_PAYLOAD_TOO_LARGE, "request header section larger than 8 KiB");
            moved = true;
            continue;
        }
        uint64_t cl = 0;
        const char *why = NULL;
        enum mm_ddns_err e = mm_ddns_http_head_check(evbuffer_pullup(src, (ev_ssize_t)hl), hl, &cl, &why);
        moved = true;
        if (e != MM_DDNS_OK) {
            screen_fail(c, src, dst, e, why);
            continue;
        }
        evbuffer_remove_buffer(src, dst, hl);
        c->body_left = cl;
        c->fstate = cl ? F_BODY : F_HEAD;
    }
    return moved ? BEV_OK : BEV_NEED_MORE;
}

/* The filter is being freed, and with it (CLOSE_ON_FREE) the TLS bufferevent. */
static void filter_gone(void *arg)
{
    ((struct conn *)arg)->filt = NULL;
}

/*
 * Encrypt and write what waits in the TLS output now. evhttp shuts the
 * socket down as soon as a closing reply has left the filter (before
 * bufferevent_openssl gets to write it): for such replies the bytes must be
 * in the kernel first. A short reply fits the socket buffer; a partial
 * write leaves the rest to the bufferevent.
 */
static void tls_push(struct conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    size_t n = evbuffer_get_length(out);
    while (n && ssl && SSL_is_init_finished(ssl)) {
        int w = SSL_write(ssl, evbuffer_pullup(out, (ev_ssize_t)n), n > INT_MAX ? INT_MAX : (int)n);
        if (w <= 0)
            break;
        evbuffer_drain(out, (size_t)w);
        n = evbuffer_get_length(out);
    }
}

/*
 * Output filter: the reply's pieces (status line and headers, body) as one
 * contiguous block, so that TLS sends one record in one write(2) instead of
 * one per piece (bufferevent_openssl writes each buffer chain separately).
 */
static enum bufferevent_filter_result out_filter(struct evbuffer *src, struct evbuffer *dst,
                                                 ev_ssize_t limit, enum bufferevent_flush_mode mode,
                                                 void *arg)
{
    (void)limit;
    (void)mode;
    (void)arg;
    size_t n = evbuffer_get_length(src);
    if (!n)
        return BEV_NEED_MORE;
    while (n) {
        size_t k = n > 16384 ? 16384 : n; /* a TLS record's worth at a time */
        if (evbuffer_add(dst, evbuffer_pullup(src, (ev_ssize_t)k), k) != 0)
            return BEV_ERROR;
        evbuffer_drain(src, k);
        n -= k;
    }
    return BEV_OK;
}

static struct bufferevent *new_bev(struct event_base *base, void *arg)
{
    struct mm_ddnsd *d = arg;
    SSL *ssl = SSL_new(d->ctx);
    struct conn *c = calloc(1, sizeof(*c));
    if (!ssl || !c) {
        /*
         * Returning NULL would make libevent 2.1 fall back to a plaintext
         * bufferevent for this connection: never serve without TLS.
         */
        mm_log_error("ddnsd-conn", "err=\"out of memory for a TLS connection\"");
        abort();
    }
    c->d = d;
    c->since_ms = mm_monotonic_ms();
    c->next = d->conns;
    if (d->conns)
        d->conns->prev = c;
    d->conns = c;
    d->n_conns++;
    SSL_set_ex_data(ssl, conn_idx, c);
    c->bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!c->bev) {
        mm_log_error("ddnsd-conn", "err=\"cannot create a TLS bufferevent\"");
        abort(); /* as above: NULL would mean plaintext */
    }
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    /* Freeing the filter frees the TLS bufferevent (after filter_gone), the SSL, and c. */
    struct bufferevent *f = bufferevent_filter_new(c->bev, in_filter, out_filter,
                                                   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS,
                                                   filter_gone, c);
    if (!f) {
        mm_log_error("ddnsd-conn", "err=\"cannot create the input filter\"");
        abort(); /* as above: NULL would mean plaintext */
    }
    c->filt = f;
    /*
     * Writing stays enabled on the TLS side, so that what the filter passes
     * down is encrypted and written at once: evhttp shuts the socket down
     * as soon as a "Connection: close" reply has left the filter.
     */
    bufferevent_enable(c->bev, EV_WRITE);
    if (d->n_conns >= d->o.max_conns && !d->paused) {
        evconnlistener_disable(d->lev);
        d->paused = true;
        mm_log_warn("ddnsd-conn-limit", "conns=%u", d->n_conns);
    }
    return f;
}

static struct conn *conn_of(struct evhttp_request *req)
{
    struct evhttp_connection *evc = evhttp_request_get_connection(req);
    struct bufferevent *bev = evc ? evhttp_connection_get_bufferevent(evc) : NULL;
    struct bufferevent *tls = bev ? bufferevent_get_underlying(bev) : NULL; /* under the filter */
    SSL *ssl = tls ? bufferevent_openssl_get_ssl(tls) : NULL;
    return ssl ? SSL_get_ex_data(ssl, conn_idx) : NULL;
}

static void watchdog(void *arg)
{
    struct mm_ddnsd *d = arg;
    int64_t now = mm_monotonic_ms(), limit = (int64_t)d->o.req_timeout_s * 1000;
    for (struct conn *c = d->conns; c; c = c->next) {
        evutil_socket_t fd = bufferevent_getfd(c->bev);
        if (fd >= 0 && now - c->since_ms > limit) {
            /* evhttp sees EOF and frees the connection itself (never under its feet). */
            shutdown(fd, SHUT_RDWR);
            c->since_ms = now; /* once */
        }
    }
}

/* ------------------------------------------------------------ requests */

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    }
    return "?";
}

static const char *reason(int status)
{
    static const struct { int s; const char *r; } t[] = {
        {200, "OK"}, {204, "No Content"}, {207, "Multi-Status"}, {400, "Bad Request"},
        {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
        {405, "Method Not Allowed"}, {413, "Payload Too Large"}, {429, "Too Many Requests"},
        {500, "Internal Server Error"}, {502, "Bad Gateway"}, {503, "Service Unavailable"}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].s == status)
            return t[i].r;
    return "Status";
}

/*
 * X-Forwarded-For may come as several header lines (a proxy that adds its
 * own line instead of appending, after one the client sent): they are one
 * list (RFC 9110 section 5.3), and only the whole list read from the right
 * says who the client is. The lines are joined in order into one buffer
 * (the loop handles one request at a time); a list longer than
 * MM_DDNS_XFF_MAX is cut at MM_DDNS_XFF_MAX + 1 so that it reads as over the
 * limit.
 */
static const char *get_header(void *arg, const char *name)
{
    if (strcasecmp(name, "X-Forwarded-For") != 0)
        return evhttp_find_header(arg, name);
    static char xff[MM_DDNS_XFF_MAX + 2];
    size_t n = 0, cap = MM_DDNS_XFF_MAX + 1;
    bool any = false;
    struct evkeyval *h;
    TAILQ_FOREACH(h, (struct evkeyvalq *)arg, next) {
        if (strcasecmp(h->key, name) != 0)
            continue;
        const char *parts[2] = {any ? ", " : "", h->value};
        for (size_t k = 0; k < 2; k++)
            for (const char *p = parts[k]; *p && n < cap; p++)
                xff[n++] = *p;
        any = true;
    }
    xff[n] = 0;
    return any ? xff : NULL;
}

static void send_resp(struct evhttp_request *req, mm_ddns_http_resp *rs)
{
    struct conn *c = conn_of(req); /* before the reply: it may free req */
    /* Will evhttp close the connection after this reply (RFC 9112 9.3)? */
    const char *conn_hdr = evhttp_find_header(evhttp_request_get_input_headers(req), "Connection");
    bool closing = rs->close || (conn_hdr && !evutil_ascii_strcasecmp(conn_hdr, "close")) ||
                   (req->minor == 0 && !(conn_hdr && !evutil_ascii_strcasecmp(conn_hdr, "keep-alive")));
    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
    for (size_t i = 0; i < rs->n_headers; i++)
        evhttp_add_header(oh, rs->headers[i].name, rs->headers[i].value);
    if (rs->content_type)
        evhttp_add_header(oh, "Content-Type", rs->content_type);
    if (rs->close)
        evhttp_add_header(oh, "Connection", "close");
    struct evbuffer *out = evbuffer_new();
    if (out && rs->body.len)
        evbuffer_add(out, rs->body.data, rs->body.len);
    if (c)
        c->since_ms = mm_monotonic_ms();
    evhttp_send_reply(req, rs->status, reason(rs->status), out);
    if (out)
        evbuffer_free(out);
    /*
     * evhttp writes the reply before enabling EV_WRITE on the filter, and
     * libevent 2.1's filter does not look at its output again when writing
     * is enabled: push it down to TLS now (c outlives this: evhttp frees a
     * connection only from a later callback).
     */
    if (c && c->filt) {
        bufferevent_flush(c->filt, EV_WRITE, BEV_NORMAL);
        if (closing)
            tls_push(c);
    }
}

/* The group could not be made durable: every reply of it becomes a 500. */
static void fail_resp(mm_ddns_http_resp *rs)
{
    mm_ddns_resp_error(rs, MM_DDNS_SERVER_ERROR, "storage or audit log unavailable");
}

/*
 * Group commit, pipelined. The loop thread handles requests into the open
 * group (store transaction + audit batch, both in memory or unsynced). When
 * the group closes (its window ran out, or every connection waits on it),
 * the syncer thread makes it durable: audit records first (write +
 * fdatasync), then the store's COMMIT (one fsync), and only then does the
 * loop send the group's replies. If either fails, the changes are rolled
 * back and every request of the group gets a 500.
 * While the syncer works, the loop keeps accepting, decrypting and parsing
 * (that CPU work overlaps the disk wait); the requests it completes wait in
 * a queue (at most one per connection, as evhttp reads one request of a
 * connection at a time) and form the next group once the sync is done: the
 * store connection and the audit batch are touched by one thread at a time.
 */
static void *syncer_main(void *arg)
{
    struct mm_ddnsd *d = arg;
    struct syncer *y = &d->sy;
    pthread_mutex_lock(&y->lock);
    for (;;) {
        while (!y->job && !y->stop)
            pthread_cond_wait(&y->cond, &y->lock);
        if (!y->job)
            break;
        pthread_mutex_unlock(&y->lock);
        int64_t t0 = mm_monotonic_us();
        int rc = mm_audit_batch_end(d->audit);
        int64_t t1 = mm_monotonic_us();
        if (mm_ddns_store_group_end(d->store, rc == 0) < 0)
            rc = MM_EIO;
        int64_t t2 = mm_monotonic_us();
        pthread_mutex_lock(&y->lock);
        y->job = false;
        y->done = true;
        y->rc = rc;
        y->audit_us = t1 - t0;
        y->commit_us = t2 - t1;
        pthread_cond_broadcast(&y->cond);
        char one = 1;
        if (write(y->pipe[1], &one, 1) < 0) /* the pipe never fills: one byte per group */
            mm_log_error("ddnsd-group", "err=\"cannot wake the loop\"");
    }
    pthread_mutex_unlock(&y->lock);
    return NULL;
}

/* Close the open group: hand it to the syncer (never with one in flight). */
static void group_close(struct mm_ddnsd *d)
{
    if (!d->group_open || d->syncing)
        return;
    d->group_open = false;
    event_del(d->flush_ev);
    d->syncing = true;
    pthread_mutex_lock(&d->sy.lock);
    d->sy.job = true;
    d->sy.done = false;
    pthread_cond_signal(&d->sy.cond);
    pthread_mutex_unlock(&d->sy.lock);
}

static void handle_now(struct mm_ddnsd *d, struct evhttp_request *req);

/*
 * Handle the queued requests as the next group. A full group (GROUP_MAX)
 * goes to the syncer at once; the rest then wait for the next turn.
 */
static void queue_run(struct mm_ddnsd *d)
{
    size_t n = d->n_queue;
    d->n_queue = 0;
    for (size_t i = 0; i < n; i++) {
        if (d->syncing)
            d->queue[d->n_queue++] = d->queue[i]; /* n_queue <= i: compaction in place */
        else
            handle_now(d, d->queue[i]);
    }
}

/* The syncer finished: reply to the group, then start the next from the queue. */
static void group_done(struct mm_ddnsd *d)
{
    pthread_mutex_lock(&d->sy.lock);
    int rc = d->sy.rc;
    long long au = (long long)d->sy.audit_us, cu = (long long)d->sy.commit_us;
    d->sy.done = false;
    pthread_mutex_unlock(&d->sy.lock);
    d->syncing = false;
    if (rc < 0)
        mm_log_error("ddnsd-group", "requests=%zu err=\"%s\"", d->n_pend, mm_strerror(rc));
    else
        mm_log_debug("ddnsd-group", "requests=%zu audit_us=%lld commit_us=%lld", d->n_pend, au, cu);
    for (size_t i = 0; i < d->n_pend; i++) {
        if (rc < 0)
            fail_resp(&d->pend[i].rs);
        send_resp(d->pend[i].req, &d->pend[i].rs);
        mm_ddns_resp_free(&d->pend[i].rs);
    }
    d->n_pend = 0;
    if (rc == 0 && d->push_wanted)
        push_wake(&d->push);
    d->push_wanted = false;
    queue_run(d);
}

static void sync_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    char b[64];
    while (read(fd, b, sizeof(b)) > 0)
        ;
    struct mm_ddnsd *d = arg;
    pthread_mutex_lock(&d->sy.lock);
    bool done = d->sy.done;
    pthread_mutex_unlock(&d->sy.lock);
    if (done && d->syncing)
        group_done(d);
}

/* Shutdown: make everything open or queued durable and answered, synchronously. */
static void group_drain(struct mm_ddnsd *d)
{
    while (d->group_open || d->syncing || d->n_queue) {
        if (d->syncing) {
            pthread_mutex_lock(&d->sy.lock);
            while (!d->sy.done)
                pthread_cond_wait(&d->sy.cond, &d->sy.lock);
            pthread_mutex_unlock(&d->sy.lock);
            group_done(d);
        } else if (d->group_open) {
            group_close(d);
        } else {
            queue_run(d);
        }
    }
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    group_close(arg);
}

/* An immediate reply outside any group (nothing was handled). */
static void reply_now(struct evhttp_request *req, enum mm_ddns_err e, const char *msg)
{
    mm_ddns_http_resp rs;
    mm_ddns_resp_init(&rs);
    mm_ddns_resp_error(&rs, e, msg);
    rs.close = true;
    send_resp(req, &rs);
    mm_ddns_resp_free(&rs);
}

static void handle_now(struct mm_ddnsd *d, struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t blen = evbuffer_get_length(in);
    mm_ddns_http_req rq = {.method = method_name(evhttp_request_get_command(req)),
                           .target = evhttp_request_get_uri(req),
                           .header = get_header,
                           .header_arg = evhttp_request_get_input_headers(req),
                           .body = blen ? evbuffer_pullup(in, -1) : NULL,
                           .body_len = blen};
    struct conn *cn = conn_of(req);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (cn && getpeername(bufferevent_getfd(cn->bev), (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            rq.peer.family = AF_INET;
            memcpy(rq.peer.a, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        } else if (ss.ss_family == AF_INET6) {
            rq.peer.family = AF_INET6;
            memcpy(rq.peer.a, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
        }
    }
    if (!d->group_open) {
        if (mm_ddns_store_group_begin(d->store) < 0) {
            reply_now(req, MM_DDNS_SERVER_ERROR, "storage or audit log unavailable");
            return;
        }
        mm_audit_batch_begin(d->audit);
        d->group_open = true;
        /*
         * The group stays open for a short window while the loop keeps
         * reading: a request needs a few loop turns from its bytes arriving
         * to here (TLS record, deferred read callback, evhttp parsing), and
         * closing the group at the end of one turn made groups of a few
         * requests, each paying the full syncs. Lowest priority: it also
         * waits for every ready connection to be handled.
         */
        struct timeval win = {0, GROUP_WINDOW_US};
        event_add(d->flush_ev, &win);
    }
    struct pending *p = &d->pend[d->n_pend++];
    p->req = req;
    mm_ddns_resp_init(&p->rs);
    mm_ddns_service_handle(d->svc, &rq, &p->rs);
    if (d->n_pend >= GROUP_MAX)
        group_close(d); /* bounded: a full group is made durable at once */
    else if (d->n_pend >= d->n_conns)
        event_active(d->flush_ev, EV_TIMEOUT, 0); /* every connection waits on this group */
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct mm_ddnsd *d = arg;
    struct conn *c = conn_of(req);
    if (c && !c->nodelay) {
        /*
         * evhttp hands a reply to the TLS bufferevent in pieces (status and
         * headers, then body), which become separate TLS records; with
         * Nagle the second waits for the ACK of the first, which the
         * client delays (up to 40 ms): every keep-alive request paid that.
         */
        int one = 1;
        evutil_socket_t fd = bufferevent_getfd(c->bev);
        if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
            c->nodelay = true;
    }
    if (c && c->fstate == F_DISCARD && !strcmp(evhttp_request_get_uri(req), SYNTH_PATH)) {
        reply_now(req, c->err, c->err_why); /* refused by in_filter: the connection ends */
        return;
    }
    if (!d->syncing && !d->n_queue) {
        handle_now(d, req);
        return;
    }
    /* A group is being made durable: this request joins the next one. */
    if (d->n_queue >= d->queue_cap) {
        reply_now(req, MM_DDNS_MAINTENANCE, "server busy");
        return;
    }
    d->queue[d->n_queue++] = req;
}

/* ------------------------------------------------------------ DNS push worker */

/*
 * Knot 3.2 holds an UPDATE up to 1 s when a whole second boundary lies between
 * its previous event (the last answer) and the UPDATE's arrival: the NOTIFY
 * that the previous update planned for "that second" masks the new event and
 * the timer is not re-armed (knotctl.c). `zone-notify` on the control socket
 * re-arms it. Knot's timer is armed just after it answers and fires at most
 * 1 s later, so only an UPDATE sent within about a second of the last answer
 * and in a later second can be held. Knot reads its clock at other moments
 * than we do (its timer is armed after the answer leaves, the UPDATE is
 * planned when it arrives): KICK_MARGIN_MS on both sides.
 */
#define KICK_MARGIN_MS 10
static void push_kick(struct pusher *p, const char *zone)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (!p->knot_ctl[0] || !p->last_answer_ms || now_ms - p->last_answer_ms > 1100)
        return;
    if ((now_ms + KICK_MARGIN_MS) / 1000 == (p->last_answer_ms - KICK_MARGIN_MS) / 1000)
        return;
    int rc = mm_ddns_knotctl_zone_notify(p->knot_ctl, zone);
    if (rc < 0 && !p->ctl_warned) {
        p->ctl_warned = true; /* once: a wrong path must not flood the log */
        mm_log_warn("ddnsd-knot-control", "path=%s zone=%s err=\"%s\"", p->knot_ctl, zone,
                    mm_strerror(rc));
    } else {
        mm_log_debug("ddnsd-knot-kick", "zone=%s rc=%d", zone, rc);
    }
}

static void *push_main(void *arg)
{
    struct mm_ddnsd *d = arg;
    struct pusher *p = &d->push;
    int64_t backoff_ms = 0;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        if (!p->wake) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t wait = backoff_ms ? backoff_ms : 5000;
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&p->cond, &p->lock, &ts);
        }
        bool woken = p->wake;
        p->wake = false;
        if (p->stop)
            break;
        pthread_mutex_unlock(&p->lock);
        unsigned pushed = 0;
        int64_t send_max = 0, t_wake = mm_monotonic_us();
        /*
         * Drain what is due, in order; the first failure backs off the whole
         * queue. The changes queued behind the head (one zone, up to
         * MM_DDNS_PUSH_BATCH_MAX and MM_DDNS_PUSH_MSG_MAX) go as one UPDATE.
         */
        for (;;) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
            mm_ddns_push_item *items = p->batch;
            size_t n = 0;
            if (mm_ddns_store_push_batch(p->store, now_ms, items,
                                         p->solo ? 1 : MM_DDNS_PUSH_BATCH_MAX, &n) < 0)
                break;
            n = mm_ddns_push_fit(items, n);
            mm_ddns_zone z;
            int rc = mm_ddns_store_zone_get(p->store, items[0].zone, &z);
            if (rc == MM_ENOENT) { /* zone removed: nothing to push to */
                for (size_t i = 0; i < n; i++)
                    p->ids[i] = items[i].id;
                mm_ddns_store_push_done_many(p->store, p->ids, n);
                if (p->solo)
                    p->solo--;
                continue;
            }
            if (rc == 0)
                push_kick(p, items[0].zone);
            int64_t s0 = mm_monotonic_us();
            size_t rrs = 0;
            if (rc == 0)
                rc = mm_ddns_push_send_many(p->conn, &z, items, n, &rrs);
            if (rc == 0 || rc == MM_EPROTO) {
                clock_gettime(CLOCK_REALTIME, &now);
                p->last_answer_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
            }
            int64_t s1 = mm_monotonic_us();
            if (s1 - s0 > send_max)
                send_max = s1 - s0;
            if (rc == 0 || rc == MM_EPROTO) {
                p->messages++;
                mm_log_info("ddnsd-push-sent", "zone=%s changes=%zu rrs=%zu rc=%d messages=%llu",
                            items[0].zone, n, rrs, rc, (unsigned long long)p->messages);
            }
            if (rc == MM_EPROTO && n > 1) {
                /*
                 * The server refused the message as a whole: one refused name
                 * must not cost the others their changes. Send these entries
                 * one by one, so the refused one is found and logged alone.
                 */
                mm_log_warn("ddnsd-push-split", "zone=%s changes=%zu", items[0].zone, n);
                p->solo = n;
                continue;
            }
            if (rc == 0 || rc == MM_EPROTO) {
                /* A refusal (RCODE) will not get better by retrying: log it and move on. */
                if (rc == MM_EPROTO)
                    mm_log_error("ddnsd-push-refused", "zone=%s name=%s type=%u", items[0].zone,
                                 items[0].name, items[0].rtype);
                for (size_t i = 0; i < n; i++)
                    p->ids[i] = items[i].id;
                /* Exactly the entries sent, atomically: after a crash all are re-sent. */
                mm_ddns_store_push_done_many(p->store, p->ids, n);
                if (p->solo)
                    p->solo--;
                p->dns_ok = true;
                backoff_ms = 0;
                pushed += (unsigned)n;
                continue;
            }
            p->dns_ok = false;
            backoff_ms = backoff_ms ? (backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2) : 250;
            /* The head carries the backoff: nothing behind it is due before it. */
            mm_ddns_store_push_retry(p->store, items[0].id, now_ms + backoff_ms);
            mm_log_warn("ddnsd-push-retry", "zone=%s name=%s changes=%zu attempts=%u next_ms=%lld",
                        items[0].zone, items[0].name, n, items[0].attempts + 1,
                        (long long)backoff_ms);
            break;
        }
        mm_log_debug("ddnsd-push", "woken=%d pushed=%u send_max_us=%lld total_us=%lld", (int)woken,
                     pushed, (long long)send_max, (long long)(mm_monotonic_us() - t_wake));
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void push_wake(void *arg)
{
    struct pusher *p = arg;
    pthread_mutex_lock(&p->lock);
    p->wake = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* A change queued DNS work: wake the pusher once its group is committed. */
static void push_mark(void *arg)
{
    ((struct mm_ddnsd *)arg)->push_wanted = true;
}

static bool push_ok(void *arg)
{
    struct pusher *p = arg;
    pthread_mutex_lock(&p->lock);
    bool ok = p->dns_ok;
    pthread_mutex_unlock(&p->lock);
    return ok;
}

/* ------------------------------------------------------------ start / stop */

int mm_ddnsd_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon = NULL, *h = s;
    size_t hl;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return MM_EINVAL;
        h = s + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return MM_EINVAL;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= hostlen)
        return MM_EINVAL;
    memcpy(host, h, hl);
    host[hl] = 0;
    char *end = NULL;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || p > 65535)
        return MM_EINVAL;
    *port = (uint16_t)p;
    return 0;
}

static int bind_listener(struct mm_ddnsd *d)
{
    char host[64];
    uint16_t port;
    MM_GUARD(mm_ddnsd_parse_listen(d->o.listen, host, sizeof(host), &port));
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    mm_ddns_addr a;
    if (mm_ddns_addr_parse(host, strlen(host), &a) < 0) {
        mm_log_error("ddnsd-listen", "addr=%s err=\"not an IP address\"", host);
        return MM_EINVAL;
    }
    /* Test mode accepts seeded tokens and documentation addresses: loopback only. */
    if (d->o.test_mode && mm_ddns_addr_classify(&a) != MM_DDNS_ADDR_LOOPBACK) {
        mm_log_error("ddnsd-test-mode", "addr=%s err=\"test mode listens on loopback only\"", host);
        return MM_EPERM;
    }
    if (a.family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr, a.a, 4);
        sl = sizeof(*s4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, a.a, 16);
        sl = sizeof(*s6);
    }
    d->lev = evconnlistener_new_bind(d->base, NULL, NULL,
                                     LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE |
                                         LEV_OPT_CLOSE_ON_EXEC,
                                     128, (struct sockaddr *)&ss, (int)sl);
    if (!d->lev) {
        mm_log_error("ddnsd-listen", "addr=%s port=%u err=\"%s\"", host, port, strerror(errno));
        return MM_ESYS;
    }
    if (!evhttp_bind_listener(d->http, d->lev))
        return MM_ESYS;
    struct sockaddr_storage got;
    socklen_t gl = sizeof(got);
    getsockname(evconnlistener_get_fd(d->lev), (struct sockaddr *)&got, &gl);
    d->port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
                                             : ((struct sockaddr_in6 *)&got)->sin6_port);
    return 0;
}

static int open_state(struct mm_ddnsd *d)
{
    char p[1200];
    MM_GUARD(mm_mkdir_p(d->o.state_dir, 0700));
    snprintf(p, sizeof(p), "%s/ddns.db", d->o.state_dir);
    const char *target = d->o.store ? d->o.store : p;
    MM_GUARD(mm_ddns_store_open(target, &d->store));
    MM_GUARD(mm_ddns_store_open(target, &d->push.store)); /* the push worker's own connection */
    MM_GUARD(mm_ddns_store_relax(d->push.store));
    d->push.conn = mm_ddns_push_conn_new();
    d->push.batch = calloc(MM_DDNS_PUSH_BATCH_MAX, sizeof(*d->push.batch));
    if (!d->push.conn || !d->push.batch)
        return MM_ENOMEM;
    snprintf(p, sizeof(p), "%s/audit.log", d->o.state_dir);
    MM_GUARD(mm_audit_open(p, &d->audit));
    mm_ddns_service_config cfg = {.store = d->store, .audit = d->audit,
                                  .test_mode = d->o.test_mode,
                                  .provider_name = d->o.provider_name,
                                  .on_push = push_mark, .push_arg = d, .group_commit = true,
                                  .dns_ok = push_ok, .dns_arg = &d->push,
                                  .trusted_proxies = d->o.trusted_proxies,
                                  .n_trusted_proxies = d->o.n_trusted_proxies};
    snprintf(p, sizeof(p), "%s/token.key", d->o.state_dir);
    int rc = mm_ddns_key_load(p, cfg.key);
    if (rc < 0) {
        mm_log_error("ddnsd-key", "path=%s err=\"%s\"", p, mm_strerror(rc));
        return rc;
    }
    d->svc = mm_ddns_service_new(&cfg);
    OPENSSL_cleanse(cfg.key, sizeof(cfg.key));
    return d->svc ? 0 : MM_ENOMEM;
}

static int make_tls(struct mm_ddnsd *d)
{
    if (!mm_pki_exists(d->o.pki_dir)) {
        MM_GUARD(mm_pki_init(d->o.pki_dir, false));
        mm_log_info("ddnsd-pki-created", "dir=%s", d->o.pki_dir);
    }
    char ca[1100], cert[1100], key[1100];
    MM_GUARD(mm_pki_path(d->o.pki_dir, MM_PKI_CA_CERT, ca, sizeof(ca)));
    MM_GUARD(mm_pki_path(d->o.pki_dir, MM_PKI_SERVER_CERT, cert, sizeof(cert)));
    MM_GUARD(mm_pki_path(d->o.pki_dir, MM_PKI_SERVER_KEY, key, sizeof(key)));
    mm_tls_config cfg = {.ca_file = ca, .cert_file = cert, .key_file = key,
                         .client_cert_optional = true};
    d->ctx = mm_tls_ctx_new_server(&cfg);
    return d->ctx ? 0 : MM_ECRYPTO;
}

/* The group-commit flush event, the syncer's wake-up pipe and its event. */
static void sync_events_free(struct mm_ddnsd *d)
{
    if (d->flush_ev)
        event_free(d->flush_ev);
    if (d->sy.ev)
        event_free(d->sy.ev);
    close(d->sy.pipe[0]);
    close(d->sy.pipe[1]);
}

int mm_ddnsd_start(const mm_ddnsd_options *o, struct event_base *base, mm_ddnsd **out)
{
    if (conn_idx < 0)
        conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_exfree);
    struct mm_ddnsd *d = calloc(1, sizeof(*d));
    if (!d)
        return MM_ENOMEM;
    d->o = *o;
    d->base = base;
    if (!d->o.max_conns)
        d->o.max_conns = 1024;
    if (!d->o.req_timeout_s)
        d->o.req_timeout_s = 10;
    d->pend = calloc(GROUP_MAX, sizeof(*d->pend));
    d->queue_cap = d->o.max_conns;
    d->queue = calloc(d->queue_cap, sizeof(*d->queue));
    d->sy.pipe[0] = d->sy.pipe[1] = -1;
    if (!d->pend || !d->queue || event_base_priority_init(base, 3) != 0 ||
        pipe2(d->sy.pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(d->pend);
        free(d->queue);
        free(d);
        return MM_ENOMEM;
    }
    d->flush_ev = event_new(base, -1, 0, flush_cb, d);
    d->sy.ev = event_new(base, d->sy.pipe[0], EV_READ | EV_PERSIST, sync_pipe_cb, d);
    if (!d->flush_ev || !d->sy.ev || event_add(d->sy.ev, NULL) != 0) {
        sync_events_free(d);
        free(d->pend);
        free(d->queue);
        free(d);
        return MM_ENOMEM;
    }
    event_priority_set(d->flush_ev, 2); /* default is 1 (3 queues): flush runs last */
    pthread_mutex_init(&d->push.lock, NULL);
    pthread_cond_init(&d->push.cond, NULL);
    pthread_mutex_init(&d->sy.lock, NULL);
    pthread_cond_init(&d->sy.cond, NULL);
    d->push.dns_ok = true;
    int rc = open_state(d);
    if (d->o.knot_control)
        snprintf(d->push.knot_ctl, sizeof(d->push.knot_ctl), "%s", d->o.knot_control);
    if (rc == 0 && d->o.knot_port) {
        snprintf(d->push.knot_ctl, sizeof(d->push.knot_ctl), "%s/knot/run/knot.sock",
                 d->o.state_dir);
        rc = mm_ddnsd_knot_start(base, d->o.state_dir, d->o.knot_port,
                                 d->o.knot_zone ? d->o.knot_zone : MM_DDNSD_KNOT_ZONE, d->store,
                                 &d->knot);
        if (rc == MM_ENOENT)
            rc = 0; /* knotd not installed: logged with a hint, the API works without it */
    }
    if (rc == 0)
        rc = make_tls(d);
    if (rc == 0) {
        d->http = evhttp_new(base);
        rc = d->http ? 0 : MM_ENOMEM;
    }
    if (rc == 0) {
        evhttp_set_bevcb(d->http, new_bev, d);
        evhttp_set_gencb(d->http, on_request, d);
        evhttp_set_max_body_size(d->http, MM_DDNS_BODY_MAX);
        /* in_filter enforces both caps first (JSON errors); these stay as a backstop */
        evhttp_set_max_headers_size(d->http, MM_DDNS_HEAD_MAX + 1024);
        evhttp_set_timeout(d->http, (int)d->o.req_timeout_s);
        evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE |
                                                EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PUT |
                                                EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
        rc = bind_listener(d);
    }
    if (rc == 0) {
        d->watchdog = mm_timer_new(base, 500, true, watchdog, d);
        rc = d->watchdog ? 0 : MM_ENOMEM;
    }
    if (rc == 0) {
        rc = pthread_create(&d->sy.thread, NULL, syncer_main, d) == 0 ? 0 : MM_ESYS;
        d->sy.started = rc == 0;
    }
    if (rc == 0) {
        rc = pthread_create(&d->push.thread, NULL, push_main, d) == 0 ? 0 : MM_ESYS;
        d->push.started = rc == 0;
        push_wake(&d->push); /* push what a previous run left queued */
    }
    if (rc < 0) {
        mm_ddnsd_free(d);
        return rc;
    }
    mm_log_info("ddnsd-listen", "listen=%s port=%u test_mode=%d", o->listen, d->port,
                (int)o->test_mode);
    *out = d;
    return 0;
}

uint16_t mm_ddnsd_port(const mm_ddnsd *d)
{
    return d->port;
}

void mm_ddnsd_free(mm_ddnsd *d)
{
    if (!d)
        return;
    if (d->push.started) {
        pthread_mutex_lock(&d->push.lock);
        d->push.stop = true;
        pthread_cond_signal(&d->push.cond);
        pthread_mutex_unlock(&d->push.lock);
        pthread_join(d->push.thread, NULL);
    }
    mm_timer_free(d->watchdog);
    if (d->sy.started) {
        group_drain(d); /* everything handled is made durable and answered */
        pthread_mutex_lock(&d->sy.lock);
        d->sy.stop = true;
        pthread_cond_signal(&d->sy.cond);
        pthread_mutex_unlock(&d->sy.lock);
        pthread_join(d->sy.thread, NULL);
    }
    sync_events_free(d);
    d->lev = NULL; /* evhttp_free frees the listener before the connections */
    if (d->http)
        evhttp_free(d->http); /* frees connections (and through them our conn records) */
    SSL_CTX_free(d->ctx);
    mm_ddns_service_free(d->svc);
    mm_audit_close(d->audit);
    mm_ddns_store_close(d->store);
    mm_ddns_store_close(d->push.store);
    mm_ddns_push_conn_free(d->push.conn);
    free(d->push.batch);
    mm_ddnsd_knot_stop(d->knot);
    pthread_mutex_destroy(&d->push.lock);
    pthread_cond_destroy(&d->push.cond);
    pthread_mutex_destroy(&d->sy.lock);
    pthread_cond_destroy(&d->sy.cond);
    free(d->pend);
    free(d->queue);
    free(d);
}
