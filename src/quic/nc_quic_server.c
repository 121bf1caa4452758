/*
 * nc_quic_server.c - NETCONF sessions over QUIC connections
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
};

/* ---------------------------------------------------------------- engine -> QUIC */

static int op_send(void *io, const uint8_t *data, size_t len)
{
    ncq_conn *nc = io;
    return mm_quic_conn_send(nc->qc, nc->rpc_sid, data, len, false);
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

static const mm_nc_transport_ops quic_ops = {
    .send = op_send,
    .close = op_close,
    .notif_open = op_notif_open,
    .notif_send = op_notif_send,
    .notif_close = op_notif_close,
};

/* ---------------------------------------------------------------- QUIC -> engine */

static void conn_free(ncq_conn *nc)
{
    while (nc->chans != NULL)
        chan_unlink(nc, nc->chans);
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
    /* RFC 7589 section 7: no derivable user name, no NETCONF. */
    int rc = mm_ctn_resolve(mm_quic_conn_peer_chain(qc), &qs->map, nc->user, sizeof(nc->user));
    if (rc < 0) {
        mm_log_warn("nc_quic_no_identity", "peer=%s err=\"%s\"", mm_quic_conn_peer(qc),
                    mm_strerror(rc));
        free(nc);
        return rc;
    }
    mm_quic_conn_set_data(qc, nc);
    mm_log_info("nc_quic_connected", "peer=%s user=%s", mm_quic_conn_peer(qc), nc->user);
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

static int on_stream_data(mm_quic_conn *qc, int64_t sid, const uint8_t *data, size_t len,
                          bool fin, void *arg)
{
    ncq_conn *nc = mm_quic_conn_get_data(qc);
    if (nc == NULL || sid != nc->rpc_sid || nc->s == NULL)
        return 0; /* refused streams, or bytes after the session ended */
    if (len > 0 && mm_nc_session_input(nc->s, data, len) < 0)
        return 0; /* the engine ended the session and called op_close */
    if (fin && nc->s != NULL) {
        /* Section 7, 0x02: the peer closed the bidi stream of an active session. */
        session_lost(nc);
        mm_quic_conn_close(qc, MM_QUIC_NC_CLOSE_STREAM_ERROR, "stream 0 ended", false);
    }
    return 0;
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
    mm_log_info("nc_quic_closed", "peer=%s user=%s reason=\"%s\" code=%llu",
                mm_quic_conn_peer(qc), nc->user, info->reason,
                (unsigned long long)info->error_code);
    session_lost(nc);
    mm_quic_conn_set_data(qc, NULL);
    conn_free(nc);
}

static const mm_quic_callbacks server_cbs = {
    .on_connected = on_connected,
    .on_stream_open = on_stream_open,
    .on_stream_data = on_stream_data,
    .on_stream_reset = on_stream_reset,
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

void mm_nc_quic_server_reverify(mm_nc_quic_server *qs)
{
    for (size_t i = 0; i < qs->n_eps; i++)
        mm_quic_endpoint_reload_trust(qs->eps[i]);
}
