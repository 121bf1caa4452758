/*
 * client/quic.c - the client end of NETCONF over QUIC as an
 * mm_nc_client_io, so mm_nc_client (and `mamori nc --transport quic`) run
 * unchanged over it.
 *
 * The NETCONF client reads one byte stream; QUIC brings several: stream 0
 * (hello with end-of-message framing, then chunked replies) and one
 * unidirectional stream per subscription (chunked notifications). Each
 * stream is deframed on its own and whole messages are re-framed, in arrival
 * order, into the one buffer recv() reads, so a notification never lands in
 * the middle of a reply.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_netconf_quic.h"
#include "mamori/mm_quic.h"

#define MAX_UNI 8

typedef struct uni_rx {
    int64_t sid;
    mm_nc_framer rx;
    bool used, ended;
} uni_rx;

typedef struct ncq_client {
    struct event_base *base;
    mm_quic_conn *qc;
    int64_t sid;
    mm_nc_framer rx; /* stream 0 */
    bool hello_done;
    uni_rx uni[MAX_UNI];
    int uni_opened, uni_ended;
    mm_buf ready; /* re-framed whole messages for recv() */
    bool connected, closed;
    int err;
    mm_quic_close_info close; /* how the connection ended (reason not kept) */
} ncq_client;

static int queue_messages(ncq_client *cl, mm_nc_framer *f, bool rpc_stream)
{
    for (;;) {
        const char *msg = NULL;
        size_t len = 0;
        int rc = mm_nc_framer_next(f, &msg, &len);
        if (rc <= 0)
            return rc;
        /* The hello travels with EOM framing; everything after it is chunked. */
        enum mm_nc_framing mode = MM_NC_FRAMING_CHUNKED;
        if (rpc_stream && !cl->hello_done)
            mode = MM_NC_FRAMING_EOM;
        MM_GUARD(mm_nc_frame(mode, msg, len, &cl->ready));
        if (rpc_stream && !cl->hello_done) {
            cl->hello_done = true;
            mm_nc_framer_set_mode(f, MM_NC_FRAMING_CHUNKED);
        }
    }
}

static uni_rx *uni_get(ncq_client *cl, int64_t sid)
{
    uni_rx *fresh = NULL;
    for (size_t i = 0; i < MAX_UNI; i++) {
        if (cl->uni[i].used && cl->uni[i].sid == sid)
            return &cl->uni[i];
        if (!cl->uni[i].used && fresh == NULL)
            fresh = &cl->uni[i];
    }
    if (fresh == NULL)
        return NULL;
    fresh->used = true;
    fresh->ended = false;
    fresh->sid = sid;
    mm_nc_framer_init(&fresh->rx, MM_NC_DEFAULT_MAX_MESSAGE);
    mm_nc_framer_set_mode(&fresh->rx, MM_NC_FRAMING_CHUNKED);
    cl->uni_opened++;
    return fresh;
}

static void uni_release(ncq_client *cl, uni_rx *u)
{
    mm_nc_framer_free(&u->rx);
    u->used = false;
    cl->uni_ended++;
}

/* ---------------------------------------------------------------- callbacks */

static int on_connected(mm_quic_conn *qc, void *arg)
{
    ((ncq_client *)arg)->connected = true;
    return 0;
}

static int on_stream_data(mm_quic_conn *qc, int64_t sid, const uint8_t *data, size_t len,
                          bool fin, void *arg)
{
    ncq_client *cl = arg;
    mm_nc_framer *f = &cl->rx;
    uni_rx *u = NULL;
    if (sid != cl->sid) {
        if ((sid & 0x3) != 0x3 || (u = uni_get(cl, sid)) == NULL) {
            mm_quic_conn_stream_shutdown(qc, sid, MM_QUIC_NC_CLOSE_STREAM_ERROR);
            return 0;
        }
        f = &u->rx;
    }
    int rc = len > 0 ? mm_nc_framer_push(f, data, len) : 0;
    if (rc == 0)
        rc = queue_messages(cl, f, u == NULL);
    if (rc < 0) {
        /* Draft section 9: malformed input ends the session. */
        cl->err = rc;
        mm_quic_conn_close(qc, MM_QUIC_NC_NO_ERROR, "malformed message", false);
        return 0;
    }
    if (fin && u != NULL)
        uni_release(cl, u);
    else if (fin)
        cl->closed = true; /* the server ended stream 0: EOF */
    return 0;
}

static void on_stream_reset(mm_quic_conn *qc, int64_t sid, uint64_t app_error, void *arg)
{
    ncq_client *cl = arg;
    if (sid == cl->sid)
        cl->closed = true;
}

static void on_closed(mm_quic_conn *qc, const mm_quic_close_info *info, void *arg)
{
    ncq_client *cl = arg;
    cl->closed = true;
    cl->close = *info;
    cl->close.reason = "";
    if (!cl->connected)
        mm_log_warn("nc_quic_connect_failed", "reason=\"%s\" code=0x%llx", info->reason,
                    (unsigned long long)info->error_code);
}

static const mm_quic_callbacks client_cbs = {
    .on_connected = on_connected,
    .on_stream_data = on_stream_data,
    .on_stream_reset = on_stream_reset,
    .on_closed = on_closed,
};

/* ---------------------------------------------------------------- loop */

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Run the private loop until cond(cl) or timeout (negative: forever). */
static bool run_until(ncq_client *cl, bool (*cond)(const ncq_client *), int timeout_ms)
{
    long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    struct event *ev = evtimer_new(cl->base, wake, NULL);
    while (!cond(cl)) {
        long left = deadline < 0 ? 1000 : deadline - now_ms();
        if (left <= 0)
            break;
        struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
        if (ev != NULL)
            evtimer_add(ev, &tv);
        event_base_loop(cl->base, EVLOOP_ONCE);
    }
    if (ev != NULL)
        event_free(ev);
    return cond(cl);
}

static bool is_connected(const ncq_client *cl) { return cl->connected || cl->closed; }
static bool has_input(const ncq_client *cl) { return cl->ready.len > 0 || cl->closed; }
static bool is_closed(const ncq_client *cl) { return cl->closed; }

/* ---------------------------------------------------------------- mm_nc_client_io */

static int io_send(void *io, const uint8_t *data, size_t len)
{
    ncq_client *cl = io;
    MM_ENSURE(!cl->closed, MM_ECLOSED);
    return mm_quic_conn_send(cl->qc, cl->sid, data, len, false);
}

static long io_recv(void *io, uint8_t *buf, size_t cap, int timeout_ms)
{
    ncq_client *cl = io;
    if (!run_until(cl, has_input, timeout_ms))
        return MM_ETIMEOUT;
    if (cl->ready.len == 0)
        return cl->err < 0 ? cl->err : 0; /* EOF */
    size_t n = cl->ready.len < cap ? cl->ready.len : cap;
    memcpy(buf, cl->ready.data, n);
    mm_buf_consume(&cl->ready, n);
    return (long)n;
}

static void client_free(ncq_client *cl)
{
    if (cl->qc != NULL)
        mm_quic_endpoint_free(mm_quic_conn_endpoint(cl->qc));
    for (size_t i = 0; i < MAX_UNI; i++)
        if (cl->uni[i].used)
            mm_nc_framer_free(&cl->uni[i].rx);
    mm_nc_framer_free(&cl->rx);
    mm_buf_free(&cl->ready);
    if (cl->base != NULL)
        event_base_free(cl->base);
    free(cl);
}

int mm_nc_quic_client_io(const char *host, uint16_t port, const mm_quic_config *cfg,
                         int timeout_ms, struct mm_nc_client_io *out)
{
    MM_ENSURE(host != NULL && cfg != NULL && out != NULL, MM_EINVAL);
    ncq_client *cl = calloc(1, sizeof(*cl));
    MM_ENSURE(cl != NULL, MM_ENOMEM);
    mm_nc_framer_init(&cl->rx, MM_NC_DEFAULT_MAX_MESSAGE);
    mm_buf_init(&cl->ready, 4 * (size_t)MM_NC_DEFAULT_MAX_MESSAGE);
    mm_quic_config c = *cfg;
    if (c.alpn == NULL)
        c.alpn = MM_QUIC_ALPN_NETCONF;
    c.max_streams_bidi = 0; /* the server opens no bidi stream */
    if (c.max_streams_uni == 0)
        c.max_streams_uni = MM_NC_QUIC_MAX_SUBSCRIPTIONS;
    /* Spec summary section 6: advertise an idle timeout and keep the session
     * alive with PINGs (quic-go peers drop a connection that advertises none
     * after ~3 PTO; a server learns that a vanished client is gone). */
    if (c.idle_timeout_ms == 0) {
        c.idle_timeout_ms = MM_NC_QUIC_DEFAULT_IDLE_MS;
        if (c.keep_alive_ms == 0)
            c.keep_alive_ms = MM_NC_QUIC_DEFAULT_KEEPALIVE_MS;
    }
    int rc = MM_ENOMEM;
    cl->base = event_base_new();
    if (cl->base == NULL)
        goto fail;
    if ((rc = mm_quic_connect(cl->base, &c, host, port, &client_cbs, cl, &cl->qc)) < 0)
        goto fail;
    rc = MM_ETIMEOUT;
    if (!run_until(cl, is_connected, timeout_ms))
        goto fail;
    rc = MM_EVERIFY;
    if (!cl->connected || cl->closed)
        goto fail;
    if ((rc = mm_quic_conn_open_bidi(cl->qc, &cl->sid)) < 0)
        goto fail;
    *out = (struct mm_nc_client_io){.send = io_send, .recv = io_recv, .io = cl};
    return 0;
fail:
    client_free(cl);
    return rc;
}

void mm_nc_quic_client_io_free(struct mm_nc_client_io *io)
{
    if (io == NULL || io->io == NULL)
        return;
    ncq_client *cl = io->io;
    if (!cl->closed) {
        /*
         * The session is over (close-session answered, or it failed): send
         * CONNECTION_CLOSE now rather than wait for acknowledgements that a
         * server which already closed will never send. The packet leaves
         * before mm_quic_conn_close returns (no ngtcp2 callback is running).
         */
        mm_quic_conn_close(cl->qc, MM_QUIC_NC_NO_ERROR, "client done", false);
        run_until(cl, is_closed, 200);
    }
    client_free(cl);
    io->io = NULL;
}

mm_quic_conn *mm_nc_quic_client_conn(const struct mm_nc_client_io *io)
{
    return ((const ncq_client *)io->io)->qc;
}

int mm_nc_quic_client_close_info(const struct mm_nc_client_io *io, bool *local, bool *app,
                                 uint64_t *code)
{
    const ncq_client *cl = io->io;
    MM_ENSURE(cl->closed, MM_ESTATE);
    *local = cl->close.local;
    *app = cl->close.app;
    *code = cl->close.error_code;
    return 0;
}

void mm_nc_quic_client_stream_stats(const struct mm_nc_client_io *io, int *opened, int *ended)
{
    const ncq_client *cl = io->io;
    *opened = cl->uni_opened;
    *ended = cl->uni_ended;
}
