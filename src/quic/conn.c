/*
 * conn.c - one QUIC connection: an ngtcp2_conn, its TLS session, its
 * streams and its timer.
 *
 * Every entry point (a datagram, the timer, an application call) runs with
 * c->busy raised and ends in conn_settle(), which writes what is pending,
 * re-arms the timer, and frees the connection if it died. ngtcp2 forbids
 * writing from inside its callbacks, so application calls made from a
 * callback only queue; conn_settle() does the rest.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include "mamori/mm_core.h"
#include "quic_internal.h"

#define MAX_WINDOW (16u << 20)
#define STREAM_WINDOW (4u << 20)
#define TLS_ALERT_BAD_CERTIFICATE 42
#define TLS_ALERT_NO_APPLICATION_PROTOCOL 120

static void conn_settle(mm_quic_conn *c);
static void conn_do_close(mm_quic_conn *c);

/* ---------------------------------------------------------------- helpers */

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
    return ((mm_quic_conn *)ref->user_data)->conn;
}

static void rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
    (void)ctx;
    mm_quic_random(dest, len);
}

static ngtcp2_path conn_path(mm_quic_conn *c)
{
    ngtcp2_path p = {
        .local = {.addr = (ngtcp2_sockaddr *)&c->local, .addrlen = c->locallen},
        .remote = {.addr = (ngtcp2_sockaddr *)&c->remote, .addrlen = c->remotelen},
    };
    return p;
}

static void set_peer_name(mm_quic_conn *c)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (c->remote.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&c->remote;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
    } else if (c->remote.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&c->remote;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
    }
    snprintf(c->peer, sizeof(c->peer), c->remote.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
             host, port);
}

static mm_quic_stream *stream_find(mm_quic_conn *c, int64_t sid)
{
    for (mm_quic_stream *s = c->streams; s != NULL; s = s->next)
        if (s->id == sid)
            return s;
    return NULL;
}

static mm_quic_stream *stream_get(mm_quic_conn *c, int64_t sid)
{
    mm_quic_stream *s = stream_find(c, sid);
    if (s != NULL)
        return s;
    /* Notification streams (server uni) go before the RPC stream. */
    s = mm_quic_stream_new(sid, (sid & 0x3) == 0x3 ? 0 : 1);
    if (s == NULL)
        return NULL;
    s->next = c->streams;
    c->streams = s;
    return s;
}

static void stream_drop(mm_quic_conn *c, int64_t sid)
{
    for (mm_quic_stream **pp = &c->streams; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->id == sid) {
            mm_quic_stream *s = *pp;
            *pp = s->next;
            mm_quic_stream_free(s);
            return;
        }
    }
}

static bool all_acked(const mm_quic_conn *c)
{
    for (const mm_quic_stream *s = c->streams; s != NULL; s = s->next)
        if (!s->shut && (s->acked < s->queued || (s->fin_queued && !s->fin_sent)))
            return false;
    return true;
}

static void notify_closed(mm_quic_conn *c)
{
    if (c->notified)
        return;
    c->notified = true;
    if (c->ep->cbs.on_closed != NULL)
        c->ep->cbs.on_closed(c, &c->info, c->ep->arg);
}

/* ---------------------------------------------------------------- ngtcp2 callbacks */

static int cb_handshake_completed(ngtcp2_conn *conn, void *user)
{
    (void)conn;
    mm_quic_conn *c = user;
    const mm_quic_tls_backend *tls = c->ep->tls;
    const uint8_t *alpn = NULL;
    size_t alpnlen = 0;
    const char *want = c->ep->cfg.alpn != NULL ? c->ep->cfg.alpn : MM_QUIC_ALPN_NETCONF;
    /* RFC 9001 section 8.1: no agreed ALPN is a no_application_protocol close. */
    if (!tls->alpn(c->tls, &alpn, &alpnlen) || alpnlen != strlen(want) ||
        memcmp(alpn, want, alpnlen) != 0) {
        mm_log_warn("quic_alpn_refused", "peer=%s", c->peer);
        ngtcp2_conn_set_tls_alert(c->conn, TLS_ALERT_NO_APPLICATION_PROTOCOL);
        return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    if (c->ep->server) {
        const uint8_t *der[8];
        size_t len[8];
        size_t n = tls->peer_certs(c->tls, der, len, 8);
        const char *why = NULL;
        if (mm_quic_verifier_check(c->ep->verifier, der, len, n, &c->chain, &why) < 0) {
            mm_log_warn("quic_client_cert_refused", "peer=%s why=\"%s\"", c->peer, why);
            ngtcp2_conn_set_tls_alert(c->conn, TLS_ALERT_BAD_CERTIFICATE);
            return NGTCP2_ERR_CALLBACK_FAILURE;
        }
    }
    c->established = true;
    if (c->ep->cbs.on_connected != NULL && c->ep->cbs.on_connected(c, c->ep->arg) < 0)
        mm_quic_conn_close(c, MM_QUIC_NC_NO_ERROR, "refused by application", false);
    return 0;
}

static int cb_recv_stream_data(ngtcp2_conn *conn, uint32_t flags, int64_t sid, uint64_t offset,
                               const uint8_t *data, size_t len, void *user, void *suser)
{
    (void)offset;
    (void)suser;
    mm_quic_conn *c = user;
    if (c->closed)
        return 0;
    bool fin = (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0;
    if (c->ep->cbs.on_stream_data != NULL &&
        c->ep->cbs.on_stream_data(c, sid, data, len, fin, c->ep->arg) < 0 && !c->closed)
        mm_quic_conn_close(c, MM_QUIC_NC_NO_ERROR, "application error", false);
    /*
     * The application consumed the bytes: open the flow-control windows
     * again, unless what we owe the peer on this stream is backed up (a peer
     * that sends requests and does not read the replies): then the credit
     * waits until the backlog drains (issue 10 #4).
     */
    mm_quic_stream *s = stream_find(c, sid);
    size_t cap = c->ep->cfg.max_send_queue;
    if (s != NULL && cap != 0 && (s->over || s->queued - s->acked > cap)) {
        s->over = true;
        s->credit_owed += len;
        return 0;
    }
    ngtcp2_conn_extend_max_stream_offset(conn, sid, len);
    ngtcp2_conn_extend_max_offset(conn, len);
    return 0;
}

static int cb_stream_open(ngtcp2_conn *conn, int64_t sid, void *user)
{
    (void)conn;
    mm_quic_conn *c = user;
    if (c->ep->cbs.on_stream_open != NULL)
        c->ep->cbs.on_stream_open(c, sid, c->ep->arg);
    return 0;
}

static int cb_acked(ngtcp2_conn *conn, int64_t sid, uint64_t offset, uint64_t len, void *user,
                    void *suser)
{
    (void)conn;
    (void)suser;
    mm_quic_conn *c = user;
    mm_quic_stream *s = stream_find(c, sid);
    if (s == NULL)
        return 0;
    mm_quic_stream_acked(s, offset, len);
    if (s->over && s->queued - s->acked <= c->ep->cfg.max_send_queue / 2) {
        s->over = false;
        ngtcp2_conn_extend_max_stream_offset(conn, sid, s->credit_owed);
        ngtcp2_conn_extend_max_offset(conn, s->credit_owed);
        s->credit_owed = 0;
        if (c->ep->cbs.on_stream_drained != NULL && !c->closed)
            c->ep->cbs.on_stream_drained(c, sid, c->ep->arg);
        /* The application answered held input and is over the cap again: the
         * next drain must be reported too. */
        s = stream_find(c, sid);
        if (s != NULL && s->queued - s->acked > c->ep->cfg.max_send_queue)
            s->over = true;
    }
    return 0;
}

static int cb_stream_close(ngtcp2_conn *conn, uint32_t flags, int64_t sid, uint64_t app_error,
                           void *user, void *suser)
{
    (void)conn;
    (void)flags;
    (void)app_error;
    (void)suser;
    stream_drop(user, sid);
    return 0;
}

static int cb_stream_reset(ngtcp2_conn *conn, int64_t sid, uint64_t final_size,
                           uint64_t app_error, void *user, void *suser)
{
    (void)conn;
    (void)final_size;
    (void)suser;
    mm_quic_conn *c = user;
    if (c->ep->cbs.on_stream_reset != NULL && !c->closed)
        c->ep->cbs.on_stream_reset(c, sid, app_error, c->ep->arg);
    return 0;
}

static int cb_stop_sending(ngtcp2_conn *conn, int64_t sid, uint64_t app_error, void *user,
                           void *suser)
{
    mm_quic_stream *s = stream_find(user, sid);
    if (s != NULL)
        s->shut = true; /* nothing more will be accepted on it */
    return cb_stream_reset(conn, sid, 0, app_error, user, suser);
}

static int cb_extend_max_stream_data(ngtcp2_conn *conn, int64_t sid, uint64_t max_data,
                                     void *user, void *suser)
{
    (void)conn;
    (void)max_data;
    (void)suser;
    mm_quic_stream *s = stream_find(user, sid);
    if (s != NULL)
        s->blocked = false;
    return 0;
}

static int cb_get_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
                          void *user)
{
    (void)conn;
    mm_quic_conn *c = user;
    mm_quic_random(cid->data, cidlen);
    cid->datalen = cidlen;
    if (ngtcp2_crypto_generate_stateless_reset_token(token, c->ep->secret, sizeof(c->ep->secret),
                                                     cid) != 0)
        return NGTCP2_ERR_CALLBACK_FAILURE;
    if (c->nscids < MM_QUIC_MAX_SCIDS)
        c->scids[c->nscids++] = *cid;
    return 0;
}

static int cb_remove_cid(ngtcp2_conn *conn, const ngtcp2_cid *cid, void *user)
{
    (void)conn;
    mm_quic_conn *c = user;
    for (size_t i = 0; i < c->nscids; i++) {
        if (ngtcp2_cid_eq(&c->scids[i], cid)) {
            c->scids[i] = c->scids[--c->nscids];
            break;
        }
    }
    return 0;
}

static int cb_stateless_reset(ngtcp2_conn *conn, const ngtcp2_pkt_stateless_reset *sr,
                              void *user)
{
    (void)conn;
    (void)sr;
    ((mm_quic_conn *)user)->info.stateless_reset = true;
    return 0;
}

static void fill_callbacks(ngtcp2_callbacks *cb, bool server)
{
    memset(cb, 0, sizeof(*cb));
    if (server) {
        cb->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
    } else {
        cb->client_initial = ngtcp2_crypto_client_initial_cb;
        cb->recv_retry = ngtcp2_crypto_recv_retry_cb;
    }
    cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
    cb->encrypt = ngtcp2_crypto_encrypt_cb;
    cb->decrypt = ngtcp2_crypto_decrypt_cb;
    cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
    cb->update_key = ngtcp2_crypto_update_key_cb;
    cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
    cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
    cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
    cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
    cb->rand = rand_cb;
    cb->get_new_connection_id = cb_get_new_cid;
    cb->remove_connection_id = cb_remove_cid;
    cb->handshake_completed = cb_handshake_completed;
    cb->recv_stream_data = cb_recv_stream_data;
    cb->stream_open = cb_stream_open;
    cb->acked_stream_data_offset = cb_acked;
    cb->stream_close = cb_stream_close;
    cb->stream_reset = cb_stream_reset;
    cb->stream_stop_sending = cb_stop_sending;
    cb->extend_max_stream_data = cb_extend_max_stream_data;
    cb->recv_stateless_reset = cb_stateless_reset;
}

/* ---------------------------------------------------------------- setup */

static void timer_cb(evutil_socket_t fd, short what, void *arg);

/*
 * Loss-related settings (docs/quic.md, "Settings under loss"):
 *  - initial_rtt stays at ngtcp2's 333 ms (RFC 9002 section 6.2.2 SHOULD);
 *    it only governs the first PTO, before any RTT sample.
 *  - cc_algo stays CUBIC; pacing is ngtcp2's, honoured by conn_write()
 *    (send quantum per burst, ngtcp2_conn_update_pkt_tx_time, and the pacing
 *    deadline is part of ngtcp2_conn_get_expiry()).
 *  - max_ack_delay (transport parameter, below) is lowered from 25 ms: a lone
 *    notification packet is what a NETCONF peer most often receives, and the
 *    sender's PTO for it is srtt + 4 rttvar + the peer's max_ack_delay.
 */
#define MM_QUIC_MAX_ACK_DELAY (10 * NGTCP2_MILLISECONDS)

static void fill_settings(mm_quic_endpoint *ep, ngtcp2_settings *st)
{
    ngtcp2_settings_default(st);
    st->initial_ts = mm_quic_now();
    st->max_window = MAX_WINDOW;
    st->max_stream_window = STREAM_WINDOW;
    uint32_t hs = ep->cfg.handshake_timeout_ms != 0 ? ep->cfg.handshake_timeout_ms : 10000;
    st->handshake_timeout = (ngtcp2_duration)hs * NGTCP2_MILLISECONDS;
}

static void fill_params(mm_quic_endpoint *ep, ngtcp2_transport_params *p)
{
    ngtcp2_transport_params_default(p);
    p->initial_max_stream_data_bidi_local = STREAM_WINDOW / 4;
    p->initial_max_stream_data_bidi_remote = STREAM_WINDOW / 4;
    p->initial_max_stream_data_uni = STREAM_WINDOW / 4;
    p->initial_max_data = MAX_WINDOW / 4;
    p->initial_max_streams_bidi = ep->cfg.max_streams_bidi;
    p->initial_max_streams_uni = ep->cfg.max_streams_uni;
    p->max_idle_timeout = (ngtcp2_duration)ep->cfg.idle_timeout_ms * NGTCP2_MILLISECONDS;
    p->active_connection_id_limit = MM_QUIC_MAX_SCIDS - 1;
    p->max_ack_delay = MM_QUIC_MAX_ACK_DELAY;
}

static mm_quic_conn *conn_alloc(mm_quic_endpoint *ep, const struct sockaddr *remote,
                                socklen_t remotelen)
{
    mm_quic_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->ep = ep;
    c->ref.get_conn = get_conn;
    c->ref.user_data = c;
    memcpy(&c->local, &ep->local, ep->locallen);
    c->locallen = ep->locallen;
    memcpy(&c->remote, remote, remotelen);
    c->remotelen = remotelen;
    c->info.reason = "";
    set_peer_name(c);
    c->timer = evtimer_new(ep->base, timer_cb, c);
    if (c->timer == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

static int conn_finish_setup(mm_quic_conn *c, const char *server_name)
{
    mm_quic_endpoint *ep = c->ep;
    MM_GUARD(ep->tls->session_new(ep->tls_ctx, &c->ref, server_name, &c->tls));
    c->tls_ctx = ep->tls_ctx;
    ngtcp2_conn_set_tls_native_handle(c->conn, ep->tls->native_handle(c->tls));
    if (ep->cfg.keep_alive_ms != 0)
        ngtcp2_conn_set_keep_alive_timeout(c->conn, (ngtcp2_duration)ep->cfg.keep_alive_ms *
                                                        NGTCP2_MILLISECONDS);
    c->next = ep->conns;
    ep->conns = c;
    ep->nconns++;
    return 0;
}

/* Undo a half-built connection (set-up failed before anyone saw it). */
static void conn_discard(mm_quic_conn *c)
{
    if (c->conn != NULL)
        ngtcp2_conn_del(c->conn);
    if (c->tls != NULL)
        c->ep->tls->session_free(c->tls);
    event_free(c->timer);
    free(c);
}

int mm_quic_conn_new_server(mm_quic_endpoint *ep, const ngtcp2_pkt_hd *hd,
                            const ngtcp2_cid *odcid, const ngtcp2_cid *retry_scid,
                            const struct sockaddr *remote, socklen_t remotelen,
                            mm_quic_conn **out)
{
    mm_quic_conn *c = conn_alloc(ep, remote, remotelen);
    MM_ENSURE(c != NULL, MM_ENOMEM);
    ngtcp2_callbacks cb;
    ngtcp2_settings st;
    ngtcp2_transport_params p;
    fill_callbacks(&cb, true);
    fill_settings(ep, &st);
    fill_params(ep, &p);
    st.token = hd->token;
    st.tokenlen = hd->tokenlen;
    if (retry_scid != NULL) {
        st.token_type = NGTCP2_TOKEN_TYPE_RETRY;
        p.retry_scid = *retry_scid;
        p.retry_scid_present = 1;
    }
    p.original_dcid = odcid != NULL ? *odcid : hd->dcid;
    p.original_dcid_present = 1;
    c->odcid = hd->dcid;
    ngtcp2_cid scid;
    scid.datalen = MM_QUIC_CID_LEN;
    mm_quic_random(scid.data, scid.datalen);
    c->scids[c->nscids++] = scid;
    int rc = MM_ECRYPTO;
    if (ngtcp2_crypto_generate_stateless_reset_token(p.stateless_reset_token, ep->secret,
                                                     sizeof(ep->secret), &scid) != 0)
        goto fail;
    p.stateless_reset_token_present = 1;
    ngtcp2_path path = conn_path(c);
    if (ngtcp2_conn_server_new(&c->conn, &hd->scid, &scid, &path, hd->version, &cb, &st, &p,
                               NULL, c) != 0)
        goto fail;
    if ((rc = conn_finish_setup(c, NULL)) < 0)
        goto fail;
    *out = c;
    return 0;
fail:
    conn_discard(c);
    return rc;
}

int mm_quic_conn_new_client(mm_quic_endpoint *ep, const struct sockaddr *remote,
                            socklen_t remotelen, mm_quic_conn **out)
{
    mm_quic_conn *c = conn_alloc(ep, remote, remotelen);
    MM_ENSURE(c != NULL, MM_ENOMEM);
    ngtcp2_callbacks cb;
    ngtcp2_settings st;
    ngtcp2_transport_params p;
    fill_callbacks(&cb, false);
    fill_settings(ep, &st);
    fill_params(ep, &p);
    ngtcp2_cid dcid, scid;
    dcid.datalen = MM_QUIC_CID_LEN;
    scid.datalen = MM_QUIC_CID_LEN;
    mm_quic_random(dcid.data, dcid.datalen);
    mm_quic_random(scid.data, scid.datalen);
    c->scids[c->nscids++] = scid;
    ngtcp2_path path = conn_path(c);
    int rc = MM_ECRYPTO;
    if (ngtcp2_conn_client_new(&c->conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &cb, &st, &p,
                               NULL, c) != 0)
        goto fail;
    if ((rc = conn_finish_setup(c, ep->host)) < 0)
        goto fail;
    if (ep->cfg.test_try_early_data && ep->cfg.test_resume != NULL && ep->tls->try_resume)
        ep->tls->try_resume(c->tls, ep->cfg.test_resume, ep->cfg.test_resume_len);
    *out = c;
    conn_settle(c); /* sends the first Initial */
    return 0;
fail:
    conn_discard(c);
    return rc;
}

void mm_quic_conn_destroy(mm_quic_conn *c, bool notify)
{
    if (notify)
        notify_closed(c);
    if (!c->ep->server && !c->ep->freeing) {
        /* The caller of mm_quic_connect() holds c until it frees the
         * endpoint: keep a closed shell so its pointer stays valid. */
        c->closed = true;
        c->dead = true;
        event_del(c->timer);
        return;
    }
    mm_quic_endpoint_unlink(c->ep, c);
    while (c->streams != NULL) {
        mm_quic_stream *s = c->streams;
        c->streams = s->next;
        mm_quic_stream_free(s);
    }
    if (c->chain != NULL)
        sk_X509_pop_free(c->chain, X509_free);
    ngtcp2_conn_del(c->conn);
    c->ep->tls->session_free(c->tls);
    event_free(c->timer);
    mm_quic_endpoint *ep = c->ep;
    free(c);
    if (!ep->freeing)
        mm_quic_endpoint_gc_ctx(ep);
}

/* ---------------------------------------------------------------- close */

static ngtcp2_duration closing_period(mm_quic_conn *c)
{
    return 3 * ngtcp2_conn_get_pto(c->conn);
}

/* Enter the closing/draining period: keep answering for 3 PTO, then free. */
static void conn_linger(mm_quic_conn *c)
{
    c->closed = true;
    c->close_deadline = mm_quic_now() + closing_period(c);
    notify_closed(c);
}

static void conn_close_with(mm_quic_conn *c, const ngtcp2_ccerr *ccerr)
{
    if (c->closed)
        return;
    if (ngtcp2_conn_in_closing_period(c->conn) || ngtcp2_conn_in_draining_period(c->conn)) {
        conn_linger(c);
        return;
    }
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi;
    ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->conn, &ps.path, &pi, c->close_pkt,
                                                        sizeof(c->close_pkt), ccerr,
                                                        mm_quic_now());
    if (n > 0) {
        c->close_pkt_len = (size_t)n;
        mm_quic_endpoint_sendto(c->ep, c->close_pkt, c->close_pkt_len,
                                (struct sockaddr *)&c->remote, c->remotelen);
    }
    c->info.local = true;
    c->info.app = ccerr->type == NGTCP2_CCERR_TYPE_APPLICATION;
    c->info.error_code = ccerr->error_code;
    conn_linger(c);
}

static void conn_do_close(mm_quic_conn *c)
{
    ngtcp2_ccerr ccerr;
    ngtcp2_ccerr_default(&ccerr);
    ngtcp2_ccerr_set_application_error(&ccerr, c->close_error, (const uint8_t *)c->close_reason,
                                       c->close_reason != NULL ? strlen(c->close_reason) : 0);
    c->closing_wait = false;
    c->close_now = false;
    c->info.reason = c->close_reason != NULL ? c->close_reason : "closed";
    conn_close_with(c, &ccerr);
}

/* A library error from ngtcp2 (read or write failed, TLS alert). */
static void conn_fail(mm_quic_conn *c, int liberr)
{
    ngtcp2_ccerr ccerr;
    ngtcp2_ccerr_default(&ccerr);
    uint8_t alert = ngtcp2_conn_get_tls_alert(c->conn);
    if (liberr == NGTCP2_ERR_CRYPTO || (liberr == NGTCP2_ERR_CALLBACK_FAILURE && alert != 0))
        ngtcp2_ccerr_set_tls_alert(&ccerr, alert, NULL, 0);
    else
        ngtcp2_ccerr_set_liberr(&ccerr, liberr, NULL, 0);
    c->info.reason = ngtcp2_strerror(liberr);
    mm_log_info("quic_conn_error", "peer=%s err=\"%s\" alert=%u", c->peer, ngtcp2_strerror(liberr),
                alert);
    conn_close_with(c, &ccerr);
}

/* The peer closed (draining) or the connection timed out. */
static void conn_gone(mm_quic_conn *c, int liberr)
{
    const ngtcp2_ccerr *e = ngtcp2_conn_get_ccerr(c->conn);
    c->info.local = false;
    c->info.app = e->type == NGTCP2_CCERR_TYPE_APPLICATION;
    c->info.error_code = e->error_code;
    c->info.idle = liberr == NGTCP2_ERR_IDLE_CLOSE || liberr == NGTCP2_ERR_HANDSHAKE_TIMEOUT;
    c->info.reason = c->info.idle ? "idle timeout"
                     : c->info.stateless_reset ? "stateless reset"
                                               : "closed by peer";
    if (c->info.idle) {
        c->closed = true;
        c->dead = true;
        notify_closed(c);
        return;
    }
    conn_linger(c);
}

/* ---------------------------------------------------------------- write */

/*
 * The stream to write next: the lowest prio with data. While an urgent
 * stream (prio 0: a subscription's notifications) is open, bulk streams
 * leave MM_QUIC_URGENT_HEADROOM packets of the congestion window free, so
 * that a notification, or ngtcp2's retransmission of a lost one, goes out
 * at once instead of waiting for bulk data in flight to be acknowledged.
 */
static mm_quic_stream *pick_stream(mm_quic_conn *c, size_t maxpkt)
{
    mm_quic_stream *best = NULL;
    bool urgent_open = false;
    for (mm_quic_stream *s = c->streams; s != NULL; s = s->next) {
        if (s->prio == 0 && !s->fin_sent && !s->shut)
            urgent_open = true;
        if (mm_quic_stream_has_pending(s) && (best == NULL || s->prio < best->prio))
            best = s;
    }
    if (best == NULL || best->prio == 0 || !urgent_open ||
        ngtcp2_conn_get_cwnd_left(c->conn) >= (MM_QUIC_URGENT_HEADROOM + 1) * maxpkt)
        return best;
    /* Only out of a window of some size: holding packets back from a small
     * one (after losses) starves bulk data and keeps the window small. */
    ngtcp2_conn_info ci;
    ngtcp2_conn_get_conn_info(c->conn, &ci);
    return ci.cwnd >= MM_QUIC_URGENT_MIN_CWND * maxpkt ? NULL : best;
}

static int conn_write(mm_quic_conn *c)
{
    uint8_t buf[MM_QUIC_PKT_MAX];
    ngtcp2_tstamp ts = mm_quic_now();
    size_t maxpkt = ngtcp2_conn_get_max_tx_udp_payload_size(c->conn);
    if (maxpkt > sizeof(buf))
        maxpkt = sizeof(buf);
    size_t budget = ngtcp2_conn_get_send_quantum(c->conn) / maxpkt + 1;
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    for (size_t npkt = 0; npkt < budget;) {
        mm_quic_stream *s = pick_stream(c, maxpkt);
        ngtcp2_vec v[16];
        size_t nv = 0;
        int64_t sid = -1;
        uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
        if (s != NULL) {
            sid = s->id;
            nv = mm_quic_stream_pending(s, v, 16);
            uint64_t total = 0;
            for (size_t i = 0; i < nv; i++)
                total += v[i].len;
            if (s->fin_queued && s->sent + total == s->queued)
                flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
        }
        ngtcp2_pkt_info pi;
        ngtcp2_ssize ndatalen = -1;
        ngtcp2_ssize n = ngtcp2_conn_writev_stream(c->conn, &ps.path, &pi, buf, maxpkt, &ndatalen,
                                                   flags, sid, v, nv, ts);
        if (s != NULL && ndatalen >= 0) {
            mm_quic_stream_sent(s, (size_t)ndatalen);
            if ((flags & NGTCP2_WRITE_STREAM_FLAG_FIN) && s->sent == s->queued)
                s->fin_sent = true;
        }
        if (n < 0) {
            if (n == NGTCP2_ERR_WRITE_MORE)
                continue;
            if (s != NULL && n == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
                s->blocked = true;
                continue;
            }
            if (s != NULL && (n == NGTCP2_ERR_STREAM_SHUT_WR || n == NGTCP2_ERR_STREAM_NOT_FOUND)) {
                s->shut = true;
                continue;
            }
            conn_fail(c, (int)n);
            return MM_EPROTO;
        }
        if (n == 0)
            break;
        mm_quic_endpoint_sendto(c->ep, buf, (size_t)n, (struct sockaddr *)&c->remote,
                                c->remotelen);
        /* Handshake flights are not counted: their size is the TLS messages'
         * (a hybrid ClientHello is 7.5 KB, an ML-KEM-free one 300 bytes),
         * already bounded by the anti-amplification limit and ACK-clocked by
         * the peer's flights (RFC 9000 8.1), so counting them would only
         * leave the first application data (the <hello>s) waiting for the
         * pacer when the key share is large. */
        if (ngtcp2_conn_get_handshake_completed(c->conn))
            c->tx_bytes += (uint64_t)n;
        npkt++;
    }
    /*
     * Pacing starts once a connection has sent an initial window after its
     * handshake: RFC 9002
     * section 7.7 lets a sender burst up to that much. Pacing the handshake
     * and the <hello>s (at the initial window over the first RTT sample,
     * after the path MTU probe sent at handshake completion) held each
     * peer's <hello> back by a fifth of an RTT, and the session waits for
     * exactly those messages.
     */
    if (c->tx_bytes >= MM_QUIC_UNPACED_BYTES)
        ngtcp2_conn_update_pkt_tx_time(c->conn, ts);
    return 0;
}

/* ---------------------------------------------------------------- settle */

static void conn_settle(mm_quic_conn *c)
{
    if (c->busy > 0)
        return;
    if (c->dead) {
        mm_quic_conn_destroy(c, true);
        return;
    }
    if (c->closed) {
        mm_quic_timer_arm(c->timer, c->close_deadline);
        return;
    }
    if (c->close_now) {
        conn_do_close(c);
        mm_quic_timer_arm(c->timer, c->close_deadline);
        return;
    }
    if (c->closing_wait && (all_acked(c) || mm_quic_now() >= c->close_deadline)) {
        conn_do_close(c);
        mm_quic_timer_arm(c->timer, c->close_deadline);
        return;
    }
    if (conn_write(c) < 0) {
        mm_quic_timer_arm(c->timer, c->close_deadline);
        return;
    }
    ngtcp2_tstamp exp = ngtcp2_conn_get_expiry(c->conn);
    if (c->closing_wait && c->close_deadline < exp)
        exp = c->close_deadline;
    mm_quic_timer_arm(c->timer, exp);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mm_quic_conn *c = arg;
    if (c->dead) {
        mm_quic_conn_destroy(c, true);
        return;
    }
    if (c->closed) {
        if (mm_quic_now() >= c->close_deadline) {
            mm_quic_conn_destroy(c, true);
            return;
        }
        mm_quic_timer_arm(c->timer, c->close_deadline);
        return;
    }
    c->busy++;
    int rv = ngtcp2_conn_handle_expiry(c->conn, mm_quic_now());
    c->busy--;
    if (rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT)
        conn_gone(c, rv);
    else if (rv != 0)
        conn_fail(c, rv);
    conn_settle(c);
}

/* ---------------------------------------------------------------- input */

void mm_quic_conn_input(mm_quic_conn *c, const uint8_t *pkt, size_t len,
                        const struct sockaddr *from, socklen_t fromlen)
{
    if (c->closed) {
        /* Closing period: repeat CONNECTION_CLOSE (RFC 9000 section 10.2.1). */
        if (c->close_pkt_len > 0)
            mm_quic_endpoint_sendto(c->ep, c->close_pkt, c->close_pkt_len, from, fromlen);
        return;
    }
    ngtcp2_path path = conn_path(c);
    path.remote.addr = (ngtcp2_sockaddr *)from;
    path.remote.addrlen = fromlen;
    ngtcp2_pkt_info pi = {0};
    c->busy++;
    int rv = ngtcp2_conn_read_pkt(c->conn, &path, &pi, pkt, len, mm_quic_now());
    c->busy--;
    if (rv == NGTCP2_ERR_DRAINING || rv == NGTCP2_ERR_CLOSING)
        conn_gone(c, rv);
    else if (rv == NGTCP2_ERR_DROP_CONN)
        c->dead = true;
    else if (rv == NGTCP2_ERR_RETRY && c->ep->server) {
        /* ngtcp2's contract: send a Retry for this packet and discard the
         * state, silently (a CONNECTION_CLOSE here left the client retrying
         * into a new failing connection until it gave up, seen at 3% loss). */
        mm_quic_endpoint_retry(c->ep, pkt, len, from, fromlen);
        c->dead = true;
    } else if (rv != 0)
        conn_fail(c, rv);
    conn_settle(c);
}

bool mm_quic_conn_has_cid(const mm_quic_conn *c, const uint8_t *cid, size_t len)
{
    for (size_t i = 0; i < c->nscids; i++)
        if (c->scids[i].datalen == len && memcmp(c->scids[i].data, cid, len) == 0)
            return true;
    /* Retransmitted client Initials still carry the original DCID. */
    return c->ep->server && c->odcid.datalen == len && len > 0 &&
           memcmp(c->odcid.data, cid, len) == 0;
}

/* ---------------------------------------------------------------- continuous verification */

void mm_quic_conn_reverify(mm_quic_conn *c)
{
    if (!c->established || c->closed || c->closing_wait)
        return;
    const uint8_t *der[8];
    size_t len[8];
    size_t n = c->ep->tls->peer_certs(c->tls, der, len, 8);
    const char *why = NULL;
    if (mm_quic_verifier_check(c->ep->verifier, der, len, n, NULL, &why) == 0)
        return;
    mm_log_warn("quic_peer_invalid", "peer=%s why=\"%s\"", c->peer, why);
    c->busy++;
    if (c->ep->cbs.on_peer_invalid != NULL)
        c->ep->cbs.on_peer_invalid(c, why, c->ep->arg);
    c->busy--;
    /* Whatever the callback did, the connection ends now. */
    mm_quic_conn_close(c, MM_QUIC_NC_NO_ERROR, "certificate no longer valid", false);
}

/* ---------------------------------------------------------------- public API */

void mm_quic_conn_set_data(mm_quic_conn *c, void *data) { c->user = data; }
void *mm_quic_conn_get_data(const mm_quic_conn *c) { return c->user; }
bool mm_quic_conn_is_server(const mm_quic_conn *c) { return c->ep->server; }
bool mm_quic_conn_established(const mm_quic_conn *c) { return c->established && !c->closed; }
mm_quic_endpoint *mm_quic_conn_endpoint(mm_quic_conn *c) { return c->ep; }
const char *mm_quic_conn_peer(const mm_quic_conn *c) { return c->peer; }
void *mm_quic_conn_peer_chain(mm_quic_conn *c) { return c->chain; }

const uint8_t *mm_quic_conn_alpn(const mm_quic_conn *c, size_t *len)
{
    const uint8_t *p = NULL;
    if (!c->established || !c->ep->tls->alpn(c->tls, &p, len))
        return NULL;
    return p;
}

bool mm_quic_conn_resumed(const mm_quic_conn *c) { return c->ep->tls->resumed(c->tls); }

bool mm_quic_conn_retried(const mm_quic_conn *c)
{
    /* retry_scid is in the server's transport parameters exactly when a
     * Retry came first (RFC 9000 7.3); the client's ngtcp2 checks it. */
    const ngtcp2_transport_params *p =
        c->ep->server ? ngtcp2_conn_get_local_transport_params(c->conn)
                      : ngtcp2_conn_get_remote_transport_params(c->conn);
    return p && p->retry_scid_present;
}

bool mm_quic_conn_early_data_accepted(const mm_quic_conn *c)
{
    return c->ep->tls->early_data_accepted(c->tls);
}

int mm_quic_conn_tls_session_data(mm_quic_conn *c, uint8_t *out, size_t cap, size_t *len)
{
    MM_ENSURE(c->ep->tls->session_data != NULL, MM_EUNSUPPORTED);
    return c->ep->tls->session_data(c->tls, out, cap, len);
}

size_t mm_quic_conn_peer_cert_count(const mm_quic_conn *c)
{
    const uint8_t *der[8];
    size_t len[8];
    return c->ep->tls->peer_certs(c->tls, der, len, 8);
}

const uint8_t *mm_quic_conn_peer_cert(const mm_quic_conn *c, size_t i, size_t *len)
{
    const uint8_t *der[8];
    size_t lens[8];
    size_t n = c->ep->tls->peer_certs(c->tls, der, lens, 8);
    if (i >= n)
        return NULL;
    *len = lens[i];
    return der[i];
}

int mm_quic_conn_open_bidi(mm_quic_conn *c, int64_t *sid)
{
    MM_ENSURE(c->established && !c->closed && !c->closing_wait, MM_ESTATE);
    int rv = ngtcp2_conn_open_bidi_stream(c->conn, sid, NULL);
    MM_ENSURE(rv == 0, rv == NGTCP2_ERR_STREAM_ID_BLOCKED ? MM_ELIMIT : MM_EPROTO);
    MM_ENSURE(stream_get(c, *sid) != NULL, MM_ENOMEM);
    return 0;
}

int mm_quic_conn_open_uni(mm_quic_conn *c, int64_t *sid)
{
    MM_ENSURE(c->established && !c->closed && !c->closing_wait, MM_ESTATE);
    int rv = ngtcp2_conn_open_uni_stream(c->conn, sid, NULL);
    MM_ENSURE(rv == 0, rv == NGTCP2_ERR_STREAM_ID_BLOCKED ? MM_ELIMIT : MM_EPROTO);
    MM_ENSURE(stream_get(c, *sid) != NULL, MM_ENOMEM);
    return 0;
}

int mm_quic_conn_send(mm_quic_conn *c, int64_t sid, const uint8_t *data, size_t len, bool fin)
{
    MM_ENSURE(!c->closed, MM_ECLOSED);
    mm_quic_stream *s = stream_get(c, sid);
    MM_ENSURE(s != NULL, MM_ENOMEM);
    MM_GUARD(mm_quic_stream_push(s, data, len));
    if (fin)
        s->fin_queued = true;
    conn_settle(c);
    return 0;
}

int mm_quic_conn_stream_shutdown(mm_quic_conn *c, int64_t sid, uint64_t app_error)
{
    MM_ENSURE(!c->closed, MM_ECLOSED);
    mm_quic_stream *s = stream_find(c, sid);
    if (s != NULL)
        s->shut = true;
    int rv = ngtcp2_conn_shutdown_stream(c->conn, 0, sid, app_error);
    MM_ENSURE(rv == 0 || rv == NGTCP2_ERR_STREAM_NOT_FOUND, MM_EPROTO);
    conn_settle(c);
    return 0;
}

size_t mm_quic_conn_unacked(const mm_quic_conn *c, int64_t sid)
{
    for (const mm_quic_stream *s = c->streams; s != NULL; s = s->next)
        if (s->id == sid)
            return (size_t)(s->queued - s->acked);
    return 0;
}

void mm_quic_conn_close(mm_quic_conn *c, uint64_t app_error, const char *reason, bool graceful)
{
    if (c->closed || c->dead) {
        conn_settle(c);
        return;
    }
    if (c->close_now)
        return;
    c->close_error = app_error;
    c->close_reason = reason;
    if (graceful && c->established && !all_acked(c)) {
        if (!c->closing_wait) {
            c->closing_wait = true;
            ngtcp2_duration d = closing_period(c);
            c->close_deadline = mm_quic_now() + (d > 2 * NGTCP2_SECONDS ? d : 2 * NGTCP2_SECONDS);
        }
    } else {
        c->close_now = true; /* done by conn_settle(), never inside an ngtcp2 callback */
    }
    conn_settle(c);
}

void mm_quic_conn_abandon(mm_quic_conn *c)
{
    c->info.local = true;
    c->info.reason = "abandoned";
    c->closed = true;
    c->dead = true;
    conn_settle(c);
}

int mm_quic_conn_flush(mm_quic_conn *c)
{
    conn_settle(c);
    return 0;
}

uint64_t mm_quic_conn_peer_idle_timeout_ms(const mm_quic_conn *c)
{
    const ngtcp2_transport_params *p = ngtcp2_conn_get_remote_transport_params(c->conn);
    return p != NULL ? p->max_idle_timeout / NGTCP2_MILLISECONDS : 0;
}

uint64_t mm_quic_conn_srtt_us(const mm_quic_conn *c)
{
    ngtcp2_conn_info ci;
    ngtcp2_conn_get_conn_info(c->conn, &ci);
    return ci.smoothed_rtt / NGTCP2_MICROSECONDS;
}
