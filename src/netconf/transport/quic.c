/*
 * transport/quic.c - NETCONF sessions over QUIC connections
 * (draft-ietf-netconf-over-quic-06; decisions in docs/netconf-quic.md).
 *
 *  - One NETCONF session per connection. It starts when the client opens
 *    its first bidirectional stream (C-BD, stream 0) and lives on it: both
 *    hellos, every <rpc> and <rpc-reply>.
 *  - A second client bidirectional stream is refused with STOP_SENDING and
 *    RESET_STREAM carrying 0x02 (close-stream error); the session goes on.
 *  - Each subscription's <notification>s go on their own server-initiated
 *    unidirectional stream (S-UN), chunked-framed, FIN when it ends.
 *  - The client ending stream 0 (FIN or RESET) while the session is active
 *    is the draft's 0x02 error: the connection closes with it.
 *  - <close-session> and <kill-session> close the connection (0x00) after
 *    the reply is acknowledged; a lost connection is mm_nc_session_lost().
 *  - Identity is RFC 7407 cert-to-name over the verified chain, through the
 *    same mm_ctn_resolve() as the TLS transport: same user, same NACM rights.
 *  - Certificates are re-verified every second and when CA/CRL files change;
 *    a failing one ends the session at once (mm_nc_session_terminate).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_netconf_quic.h"
#include "mamori/mm_quic.h"
#include "mamori/mm_tls.h"

typedef struct ncq_chan {
    int64_t sid;
    struct ncq_chan *next;
} ncq_chan;

typedef struct ncq_conn {
    struct mm_nc_quic_server *qs;
    mm_quic_conn *qc;
    mm_nc_session *s;
    char user[MM_NC_QUIC_NAME_MAX];
    int64_t rpc_sid;
    bool kill_now; /* continuous verification failed: no grace */
    ncq_chan *chans;
    struct ncq_conn *prev, *next; /* the server's connections */
    mm_buf held;      /* stream 0 input not yet handed to the engine (back-pressure) */
    bool held_fin;    /* ...and the client's FIN after it */
    size_t max_queued; /* high-water mark of unacknowledged reply bytes (debug counter) */
} ncq_conn;

struct mm_nc_quic_server {
    mm_nc_server *engine;
    struct event_base *base;
    mm_nc_quic_settings set;
    mm_ctn_entry ctn[MM_NC_QUIC_MAX_CTN];
    mm_ctn_map map;
    mm_quic_endpoint *eps[MM_NC_QUIC_MAX_ENDPOINTS];
    size_t n_eps;
    size_t sessions;
    ncq_conn *conns;
};

/* ---------------------------------------------------------------- engine -> QUIC */

static int op_send(void *io, const uint8_t *data, size_t len)
{
    ncq_conn *nc = io;
    int rc = mm_quic_conn_send(nc->qc, nc->rpc_sid, data, len, false);
    size_t q = mm_quic_conn_unacked(nc->qc, nc->rpc_sid);
    if (q > nc->max_queued)
        nc->max_queued = q;
    return rc;
}

static void op_close(void *io, int app_error)
{
    ncq_conn *nc = io;
    /* The engine frees the session right after this returns. */
    nc->s = NULL;
    nc->qs->sessions--;
    uint64_t code = app_error > 0 ? (uint64_t)app_error : MM_QUIC_NC_NO_ERROR;
    mm_quic_conn_close(nc->qc, code, nc->kill_now ? "certificate no longer valid" : "session end",
                       !nc->kill_now);
}

static void *op_notif_open(void *io)
{
    ncq_conn *nc = io;
    ncq_chan *ch = calloc(1, sizeof(*ch));
    if (ch == NULL)
        return NULL;
    if (mm_quic_conn_open_uni(nc->qc, &ch->sid) < 0) {
        /* The client granted no (more) unidirectional streams. */
        mm_log_info("nc_quic_notif_refused", "peer=%s", mm_quic_conn_peer(nc->qc));
        free(ch);
        return NULL;
    }
    ch->next = nc->chans;
    nc->chans = ch;
    return ch;
}

static int op_notif_send(void *io, void *chan, const uint8_t *data, size_t len)
{
    ncq_conn *nc = io;
    return mm_quic_conn_send(nc->qc, ((ncq_chan *)chan)->sid, data, len, false);
}

static void chan_unlink(ncq_conn *nc, ncq_chan *ch)
{
    for (ncq_chan **pp = &nc->chans; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == ch) {
            *pp = ch->next;
            free(ch);
            return;
        }
    }
}

static void op_notif_close(void *io, void *chan)
{
    ncq_conn *nc = io;
    ncq_chan *ch = chan;
    /* Subscription over: FIN ends the stream (open issue O2). */
    mm_quic_conn_send(nc->qc, ch->sid, NULL, 0, true);
    chan_unlink(nc, ch);
}

static size_t max_queue(const ncq_conn *nc);

/* What the session owes its peer: stream 0 and every notification stream. */
static size_t conn_queued(const ncq_conn *nc)
{
    size_t q = nc->rpc_sid >= 0 ? mm_quic_conn_unacked(nc->qc, nc->rpc_sid) : 0;
    for (const ncq_chan *ch = nc->chans; ch != NULL; ch = ch->next)
        q += mm_quic_conn_unacked(nc->qc, ch->sid);
    return q;
}

static size_t op_queued(void *io, size_t *cap)
{
    ncq_conn *nc = io;
    *cap = max_queue(nc);
    size_t q = conn_queued(nc);
    if (q > nc->max_queued)
        nc->max_queued = q;
    return q;
}

/*
 * The engine ends a session whose peer does not read (notification backlog):
 * CONNECTION_CLOSE now, with the draft's 0x01 (the server ends a session the
 * client did not ask to end), instead of waiting for acknowledgements that
 * would not come.
 */
static void op_abort(void *io, int app_error)
{
    ncq_conn *nc = io;
    nc->s = NULL;
    nc->qs->sessions--;
    (void)app_error;
    mm_log_info("nc_quic_abort", "peer=%s user=%s dropped=%zu", mm_quic_conn_peer(nc->qc),
                nc->user, conn_queued(nc));
    mm_quic_conn_close(nc->qc, MM_QUIC_NC_CLOSE_SESSION_ERROR, "notification backlog over limit",
                       false);
}

static const mm_nc_transport_ops quic_ops = {
    .send = op_send,
    .close = op_close,
    .notif_open = op_notif_open,
    .notif_send = op_notif_send,
    .notif_close = op_notif_close,
    .queued = op_queued,
    .abort = op_abort,
};

/* ---------------------------------------------------------------- QUIC -> engine */

static void conn_free(ncq_conn *nc)
{
    if (nc->prev != NULL)
        nc->prev->next = nc->next;
    else
        nc->qs->conns = nc->next;
    if (nc->next != NULL)
        nc->next->prev = nc->prev;
    while (nc->chans != NULL)
        chan_unlink(nc, nc->chans);
    mm_buf_free(&nc->held);
    free(nc);
}

/* The session ended under the engine's feet (connection gone, stream 0 ended). */
static void session_lost(ncq_conn *nc)
{
    if (nc->s == NULL)
        return;
    mm_nc_session *s = nc->s;
    nc->s = NULL;
    nc->qs->sessions--;
    mm_nc_session_lost(s);
}

static int on_connected(mm_quic_conn *qc, void *arg)
{
    struct mm_nc_quic_server *qs = arg;
    ncq_conn *nc = calloc(1, sizeof(*nc));
    MM_ENSURE(nc != NULL, MM_ENOMEM);
    nc->qs = qs;
    nc->qc = qc;
    nc->rpc_sid = -1;
    /* Held input is bounded by the flow-control credit the client still has. */
    mm_buf_init(&nc->held, 64u << 20);
    /* RFC 7589 section 7: no derivable user name, no NETCONF. */
    int rc = mm_ctn_resolve(mm_quic_conn_peer_chain(qc), &qs->map, nc->user, sizeof(nc->user));
    if (rc < 0) {
        mm_log_warn("nc_quic_no_identity", "peer=%s err=\"%s\"", mm_quic_conn_peer(qc),
                    mm_strerror(rc));
        mm_buf_free(&nc->held);
        free(nc);
        return rc;
    }
    mm_quic_conn_set_data(qc, nc);
    nc->next = qs->conns;
    if (qs->conns != NULL)
        qs->conns->prev = nc;
    qs->conns = nc;
    mm_log_info("nc_quic_connected", "peer=%s user=%s peer_idle_timeout_ms=%llu",
                mm_quic_conn_peer(qc), nc->user,
                (unsigned long long)mm_quic_conn_peer_idle_timeout_ms(qc));
    return 0;
}

static int on_stream_open(mm_quic_conn *qc, int64_t sid, void *arg)
{
    ncq_conn *nc = mm_quic_conn_get_data(qc);
    if (nc == NULL)
        return MM_ESTATE;
    bool client_bidi = (sid & 0x3) == 0x0;
    if (!client_bidi || nc->rpc_sid >= 0) {
        /* One session per connection, one C-BD per session. */
        mm_log_info("nc_quic_stream_refused", "peer=%s stream=%lld", mm_quic_conn_peer(qc),
                    (long long)sid);
        mm_quic_conn_stream_shutdown(qc, sid, MM_QUIC_NC_CLOSE_STREAM_ERROR);
        return MM_EPERM;
    }
    nc->rpc_sid = sid;
    mm_nc_session_info info = {
        .username = nc->user,
        .transport = "netconf-quic",
        .peer = mm_quic_conn_peer(qc),
        .chunked_only = true, /* open issue O1: base:1.1 required */
    };
    nc->s = mm_nc_session_new(nc->qs->engine, &info, &quic_ops, nc);
    if (nc->s == NULL) {
        mm_quic_conn_close(qc, MM_QUIC_NC_NO_ERROR, "no session", false);
        return MM_ENOMEM;
    }
    nc->qs->sessions++;
    return 0;
}

static size_t max_queue(const ncq_conn *nc)
{
    return nc->qs->set.max_queue ? nc->qs->set.max_queue : MM_NC_QUIC_DEFAULT_MAX_QUEUE;
}

/*
 * Hand stream 0 input to the engine while the replies it owes are not
 * backed up (issue 10 #4): over max_queue unacknowledged bytes the rest
 * waits in nc->held, the QUIC layer withholds the client's credit, and
 * on_stream_drained resumes here. Small pieces once replies are waiting, so
 * a burst of pipelined requests overshoots by a few replies at most.
 */
static void feed(ncq_conn *nc, const uint8_t *data, size_t len)
{
    size_t cap = max_queue(nc);
    while (len > 0 && nc->s != NULL) {
        size_t q = mm_quic_conn_unacked(nc->qc, nc->rpc_sid);
        if (q > cap)
            break;
        size_t n = q > 0 ? 256 : 1024;
        if (n > len)
            n = len;
        if (mm_nc_session_input(nc->s, data, n) < 0)
            return; /* the engine ended the session and called op_close */
        data += n;
        len -= n;
    }
    if (len > 0 && nc->s != NULL && mm_buf_append(&nc->held, data, len) < 0) {
        /* More than the credit we ever grant: not a NETCONF peer. */
        mm_nc_session_terminate(nc->s, "input backlog over its bound");
    }
}

static void stream0_ended(ncq_conn *nc)
{
    if (nc->s == NULL)
        return;
    /* Section 7, 0x02: the peer closed the bidi stream of an active session. */
    session_lost(nc);
    mm_quic_conn_close(nc->qc, MM_QUIC_NC_CLOSE_STREAM_ERROR, "stream 0 ended", false);
}

static int on_stream_data(mm_quic_conn *qc, int64_t sid, const uint8_t *data, size_t len,
                          bool fin, void *arg)
{
    ncq_conn *nc = mm_quic_conn_get_data(qc);
    if (nc == NULL || sid != nc->rpc_sid || nc->s == NULL)
        return 0; /* refused streams, or bytes after the session ended */
    if (nc->held.len > 0) {
        if (mm_buf_append(&nc->held, data, len) < 0)
            mm_nc_session_terminate(nc->s, "input backlog over its bound");
    } else {
        feed(nc, data, len);
    }
    if (fin && nc->held.len > 0)
        nc->held_fin = true;
    else if (fin)
        stream0_ended(nc);
    return 0;
}

static void on_stream_drained(mm_quic_conn *qc, int64_t sid, void *arg)
{
    ncq_conn *nc = mm_quic_conn_get_data(qc);
    if (nc == NULL || sid != nc->rpc_sid || nc->s == NULL || nc->held.len == 0)
        return;
    /* Take the held bytes out first: feed() may hold part of them again. */
    mm_buf held = nc->held;
    mm_buf_init(&nc->held, held.limit);
    feed(nc, held.data, held.len);
    mm_buf_free(&held);
    if (nc->held_fin && nc->held.len == 0)
        stream0_ended(nc);
}

static void on_stream_reset(mm_quic_conn *qc, int64_t sid, uint64_t app_error, void *arg)
{
    ncq_conn *nc = mm_quic_conn_get_data(qc);
    if (nc == NULL)
        return;
    if (sid == nc->rpc_sid && nc->s != NULL) {
        session_lost(nc);
        mm_quic_conn_close(qc, MM_QUIC_NC_CLOSE_STREAM_ERROR, "stream 0 reset", false);
        return;
    }
    if ((sid & 0x3) == 0x3)
        /* The client stopped a notification stream (open issue O4: logged only). */
        mm_log_info("nc_quic_notif_stopped", "peer=%s stream=%lld code=%llu",
                    mm_quic_conn_peer(qc), (long long)sid, (unsigned long long)app_error);
}

static void on_peer_invalid(mm_quic_conn *qc, const char *reason, void *arg)
{
    ncq_conn *nc = mm_quic_conn_get_data(qc);
    if (nc == NULL || nc->s == NULL)
        return;
    nc->kill_now = true;
    mm_nc_session_terminate(nc->s, reason); /* calls op_close */
}

static void on_closed(mm_quic_conn *qc, const mm_quic_close_info *info, void *arg)
{
    ncq_conn *nc = mm_quic_conn_get_data(qc);
    if (nc == NULL)
        return;
    mm_log_info("nc_quic_closed", "peer=%s user=%s reason=\"%s\" code=%llu max_queued=%zu",
                mm_quic_conn_peer(qc), nc->user, info->reason,
                (unsigned long long)info->error_code, nc->max_queued);
    session_lost(nc);
    mm_quic_conn_set_data(qc, NULL);
    conn_free(nc);
}

static const mm_quic_callbacks server_cbs = {
    .on_connected = on_connected,
    .on_stream_open = on_stream_open,
    .on_stream_data = on_stream_data,
    .on_stream_reset = on_stream_reset,
    .on_stream_drained = on_stream_drained,
    .on_peer_invalid = on_peer_invalid,
    .on_closed = on_closed,
};

/* ---------------------------------------------------------------- server */

static void adopt_ctn(struct mm_nc_quic_server *qs)
{
    for (size_t i = 0; i < qs->set.n_ctn; i++) {
        const mm_nc_quic_ctn *c = &qs->set.ctn[i];
        mm_ctn_entry *e = &qs->ctn[i];
        e->id = c->id;
        memcpy(e->fingerprint, c->fingerprint, sizeof(e->fingerprint));
        e->fingerprint_len = c->fingerprint_len;
        e->map_type = (enum mm_ctn_map_type)c->map_type;
        e->name = c->name[0] != '\0' ? c->name : NULL;
    }
    qs->map.entries = qs->ctn;
    qs->map.count = qs->set.n_ctn;
}

static mm_quic_config quic_config(const mm_nc_quic_settings *s)
{
    mm_quic_config c = {
        .ca_file = s->ca_file,
        .cert_file = s->cert_file,
        .key_file = s->key_file,
        .crl_file = s->crl_file[0] != '\0' ? s->crl_file : NULL,
        .alpn = MM_QUIC_ALPN_NETCONF,
        .idle_timeout_ms = s->idle_timeout_ms,
        .keep_alive_ms = s->keep_alive_ms,
        .retry = s->retry,
        /* Section 3: the client opens one C-BD; the server opens the S-UNs. */
        .max_streams_bidi = s->refuse_extra_streams ? 2 : 1,
        .max_streams_uni = 0,
        .verify_interval_ms = s->verify_interval_ms,
        .max_send_queue = s->max_queue ? s->max_queue : MM_NC_QUIC_DEFAULT_MAX_QUEUE,
        .groups = s->groups[0] != '\0' ? s->groups : NULL,
    };
    return c;
}

int mm_nc_quic_server_new(struct mm_nc_server *engine, struct event_base *base,
                          const mm_nc_quic_settings *settings, mm_nc_quic_server **out)
{
    MM_ENSURE(engine != NULL && base != NULL && settings != NULL && out != NULL, MM_EINVAL);
    MM_ENSURE(settings->n_endpoints <= MM_NC_QUIC_MAX_ENDPOINTS, MM_EINVAL);
    MM_ENSURE(settings->n_ctn <= MM_NC_QUIC_MAX_CTN, MM_EINVAL);
    struct mm_nc_quic_server *qs = calloc(1, sizeof(*qs));
    MM_ENSURE(qs != NULL, MM_ENOMEM);
    qs->engine = engine;
    qs->base = base;
    qs->set = *settings;
    adopt_ctn(qs);
    mm_quic_config qc = quic_config(&qs->set);
    for (size_t i = 0; i < qs->set.n_endpoints; i++) {
        const mm_nc_quic_endpoint *e = &qs->set.endpoints[i];
        int rc = mm_quic_server_new(base, &qc, e->address[0] ? e->address : "::1", e->port,
                                    &server_cbs, qs, &qs->eps[i]);
        if (rc < 0) {
            mm_nc_quic_server_free(qs);
            return rc;
        }
        qs->n_eps++;
    }
    *out = qs;
    return 0;
}

static bool same_quic_config(const mm_nc_quic_settings *a, const mm_nc_quic_settings *b)
{
    return !strcmp(a->cert_file, b->cert_file) && !strcmp(a->key_file, b->key_file) &&
           !strcmp(a->ca_file, b->ca_file) && !strcmp(a->crl_file, b->crl_file) &&
           a->idle_timeout_ms == b->idle_timeout_ms && a->keep_alive_ms == b->keep_alive_ms &&
           a->verify_interval_ms == b->verify_interval_ms && a->retry == b->retry &&
           a->refuse_extra_streams == b->refuse_extra_streams &&
           a->max_queue == b->max_queue;
}

static bool same_bind(const mm_nc_quic_endpoint *a, const mm_nc_quic_endpoint *b)
{
    return !strcmp(a->address, b->address) && a->port == b->port && a->port != 0;
}

/*
 * Sessions whose certificate now maps to another user, or to none, end;
 * the others go on (same rule as the TLS transport).
 */
static void recheck_identities(struct mm_nc_quic_server *qs)
{
    for (ncq_conn *nc = qs->conns, *next; nc != NULL; nc = next) {
        next = nc->next;
        if (nc->s == NULL)
            continue;
        char user[MM_NC_QUIC_NAME_MAX] = "";
        if (mm_ctn_resolve(mm_quic_conn_peer_chain(nc->qc), &qs->map, user, sizeof(user)) == 0 &&
            strcmp(user, nc->user) == 0)
            continue;
        mm_log_warn("nc_quic_revoke", "peer=%s user=%s reason=\"cert-to-name changed\"",
                    mm_quic_conn_peer(nc->qc), nc->user);
        nc->kill_now = true;
        mm_nc_session_terminate(nc->s, "cert-to-name now maps to another user");
    }
}

int mm_nc_quic_server_apply(mm_nc_quic_server *qs, const mm_nc_quic_settings *settings)
{
    MM_ENSURE(qs != NULL && settings != NULL, MM_EINVAL);
    MM_ENSURE(settings->n_endpoints <= MM_NC_QUIC_MAX_ENDPOINTS, MM_EINVAL);
    MM_ENSURE(settings->n_ctn <= MM_NC_QUIC_MAX_CTN, MM_EINVAL);
    bool keep_cfg = same_quic_config(&qs->set, settings);
    mm_quic_endpoint *next[MM_NC_QUIC_MAX_ENDPOINTS] = {0};
    mm_nc_quic_endpoint old_binds[MM_NC_QUIC_MAX_ENDPOINTS];
    memcpy(old_binds, qs->set.endpoints, sizeof(old_binds));
    /* Endpoints whose socket and transport settings stay keep their connections. */
    for (size_t i = 0; keep_cfg && i < settings->n_endpoints; i++) {
        for (size_t j = 0; j < qs->n_eps; j++) {
            if (qs->eps[j] != NULL && same_bind(&old_binds[j], &settings->endpoints[i])) {
                next[i] = qs->eps[j];
                qs->eps[j] = NULL;
                break;
            }
        }
    }
    for (size_t j = 0; j < qs->n_eps; j++) {
        if (qs->eps[j] != NULL) {
            mm_quic_endpoint_shutdown(qs->eps[j], MM_QUIC_NC_NO_ERROR);
            mm_quic_endpoint_free(qs->eps[j]);
        }
    }
    qs->set = *settings;
    adopt_ctn(qs);
    mm_quic_config qc = quic_config(&qs->set);
    int rc = 0;
    for (size_t i = 0; i < qs->set.n_endpoints; i++) {
        const mm_nc_quic_endpoint *e = &qs->set.endpoints[i];
        if (next[i] == NULL) {
            int r = mm_quic_server_new(qs->base, &qc, e->address[0] ? e->address : "::1",
                                       e->port, &server_cbs, qs, &next[i]);
            if (r < 0 && rc == 0)
                rc = r; /* the other endpoints keep serving */
        }
    }
    /* Keep the table dense; the port in set follows the kernel's choice. */
    size_t n = 0;
    for (size_t i = 0; i < qs->set.n_endpoints; i++) {
        if (next[i] == NULL)
            continue;
        qs->set.endpoints[n] = qs->set.endpoints[i];
        qs->set.endpoints[n].port = mm_quic_endpoint_port(next[i]);
        qs->eps[n++] = next[i];
    }
    qs->set.n_endpoints = n;
    qs->n_eps = n;
    recheck_identities(qs);
    return rc;
}

void mm_nc_quic_server_free(mm_nc_quic_server *qs)
{
    if (qs == NULL)
        return;
    /* Sessions first (on_closed -> mm_nc_session_lost), then the sockets. */
    for (size_t i = 0; i < qs->n_eps; i++)
        mm_quic_endpoint_shutdown(qs->eps[i], MM_QUIC_NC_NO_ERROR);
    for (size_t i = 0; i < qs->n_eps; i++)
        mm_quic_endpoint_free(qs->eps[i]);
    free(qs);
}

uint16_t mm_nc_quic_server_port(const mm_nc_quic_server *qs, size_t i)
{
    return i < qs->n_eps ? mm_quic_endpoint_port(qs->eps[i]) : 0;
}

size_t mm_nc_quic_server_session_count(const mm_nc_quic_server *qs)
{
    return qs->sessions;
}

size_t mm_nc_quic_server_queued_bytes(const mm_nc_quic_server *qs)
{
    size_t n = 0;
    for (const ncq_conn *nc = qs->conns; nc != NULL; nc = nc->next)
        n += nc->s != NULL ? conn_queued(nc) : 0;
    return n;
}

void mm_nc_quic_server_reverify(mm_nc_quic_server *qs)
{
    for (size_t i = 0; i < qs->n_eps; i++)
        mm_quic_endpoint_reload_trust(qs->eps[i]);
}
