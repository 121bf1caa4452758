/*
 * endpoint.c - a UDP socket carrying QUIC connections.
 *
 * Datagrams are matched to connections by destination connection ID. A
 * server turns an unknown Initial into a new connection (after a Retry round
 * trip when address validation is on), answers a short-header packet for an
 * unknown connection with a stateless reset (RFC 9000 section 10.3), and an
 * unknown version with Version Negotiation.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <openssl/rand.h>

#include "mamori/mm_core.h"
#include "quic_internal.h"

#define RETRY_TOKEN_TIMEOUT (10 * NGTCP2_SECONDS)
#define VERIFY_DEFAULT_MS 1000

void mm_quic_random(uint8_t *p, size_t n)
{
    if (RAND_bytes(p, (int)n) != 1)
        abort(); /* no randomness: connection IDs and tokens would be predictable */
}

int mm_quic_endpoint_sendto(mm_quic_endpoint *ep, const uint8_t *pkt, size_t len,
                            const struct sockaddr *to, socklen_t tolen)
{
    ssize_t n;
    do {
        n = ep->server ? sendto(ep->fd, pkt, len, 0, to, tolen) : send(ep->fd, pkt, len, 0);
    } while (n < 0 && errno == EINTR);
    /* UDP: a full socket buffer or an ICMP error is loss; QUIC recovers. */
    return n < 0 ? MM_ESYS : 0;
}

void mm_quic_endpoint_unlink(mm_quic_endpoint *ep, mm_quic_conn *c)
{
    for (mm_quic_conn **pp = &ep->conns; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            ep->nconns--;
            return;
        }
    }
}

static mm_quic_conn *find_conn(mm_quic_endpoint *ep, const uint8_t *dcid, size_t len)
{
    for (mm_quic_conn *c = ep->conns; c != NULL; c = c->next)
        if (mm_quic_conn_has_cid(c, dcid, len))
            return c;
    return NULL;
}

/* ---------------------------------------------------------------- server-side packets */

static void send_version_negotiation(mm_quic_endpoint *ep, const ngtcp2_version_cid *vc,
                                     const struct sockaddr *from, socklen_t fromlen)
{
    uint8_t buf[MM_QUIC_PKT_MAX];
    uint8_t unused;
    uint32_t versions[] = {NGTCP2_PROTO_VER_V1};
    mm_quic_random(&unused, 1);
    ngtcp2_ssize n = ngtcp2_pkt_write_version_negotiation(buf, sizeof(buf), unused, vc->scid,
                                                          vc->scidlen, vc->dcid, vc->dcidlen,
                                                          versions, 1);
    if (n > 0)
        mm_quic_endpoint_sendto(ep, buf, (size_t)n, from, fromlen);
}

static void send_stateless_reset(mm_quic_endpoint *ep, const ngtcp2_version_cid *vc, size_t len,
                                 const struct sockaddr *from, socklen_t fromlen)
{
    /* RFC 9000 section 10.3: smaller than the packet that triggered it, so
     * two endpoints cannot loop; too small a trigger gets no answer. */
    if (len < NGTCP2_STATELESS_RESET_TOKENLEN + 22 || vc->dcidlen != MM_QUIC_CID_LEN)
        return;
    ngtcp2_cid cid;
    ngtcp2_cid_init(&cid, vc->dcid, vc->dcidlen);
    uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN];
    if (ngtcp2_crypto_generate_stateless_reset_token(token, ep->secret, sizeof(ep->secret),
                                                     &cid) != 0)
        return;
    uint8_t rnd[64];
    size_t rndlen = len - NGTCP2_STATELESS_RESET_TOKENLEN - 1;
    if (rndlen > sizeof(rnd))
        rndlen = sizeof(rnd);
    mm_quic_random(rnd, rndlen);
    uint8_t buf[MM_QUIC_PKT_MAX];
    ngtcp2_ssize n = ngtcp2_pkt_write_stateless_reset(buf, sizeof(buf), token, rnd, rndlen);
    if (n > 0)
        mm_quic_endpoint_sendto(ep, buf, (size_t)n, from, fromlen);
}

static void send_retry(mm_quic_endpoint *ep, const ngtcp2_pkt_hd *hd,
                       const struct sockaddr *from, socklen_t fromlen)
{
    ngtcp2_cid scid;
    scid.datalen = MM_QUIC_CID_LEN;
    mm_quic_random(scid.data, scid.datalen);
    uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN2];
    ngtcp2_ssize tlen = ngtcp2_crypto_generate_retry_token2(
        token, ep->secret, sizeof(ep->secret), hd->version, (const ngtcp2_sockaddr *)from,
        fromlen, &scid, &hd->dcid, mm_quic_now());
    if (tlen < 0)
        return;
    uint8_t buf[MM_QUIC_PKT_MAX];
    ngtcp2_ssize n = ngtcp2_crypto_write_retry(buf, sizeof(buf), hd->version, &hd->scid, &scid,
                                               &hd->dcid, token, (size_t)tlen);
    if (n > 0)
        mm_quic_endpoint_sendto(ep, buf, (size_t)n, from, fromlen);
}

/* ngtcp2 asked for address validation in the middle of a handshake
 * (NGTCP2_ERR_RETRY from ngtcp2_conn_read_pkt): answer that packet with a
 * Retry; the caller discards the connection state. */
void mm_quic_endpoint_retry(mm_quic_endpoint *ep, const uint8_t *pkt, size_t len,
                            const struct sockaddr *from, socklen_t fromlen)
{
    ngtcp2_pkt_hd hd;
    if (ngtcp2_accept(&hd, pkt, len) == 0) {
        mm_log_info("quic_retry", "when=mid-handshake op=send");
        send_retry(ep, &hd, from, fromlen);
    }
}

static void server_accept(mm_quic_endpoint *ep, const uint8_t *pkt, size_t len,
                          const struct sockaddr *from, socklen_t fromlen)
{
    ngtcp2_pkt_hd hd;
    if (ngtcp2_accept(&hd, pkt, len) != 0)
        return;
    ngtcp2_cid odcid;
    const ngtcp2_cid *podcid = NULL, *retry_scid = NULL;
    /* A Retry token is honoured whether or not Retry is configured: ngtcp2
     * can ask for a Retry in the middle of a handshake (mm_quic_endpoint_retry)
     * on any server, and the client then checks original_dcid and
     * retry_source_connection_id in our transport parameters (RFC 9000
     * 7.3). Without them it fails with TRANSPORT_PARAMETER_ERROR (seen at 3%
     * loss in netns-netconf). */
    bool has_retry_token = hd.tokenlen > 0 && hd.token[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY2;
    if (ep->cfg.retry && !has_retry_token) {
        send_retry(ep, &hd, from, fromlen);
        return;
    }
    if (has_retry_token) {
        if (ngtcp2_crypto_verify_retry_token2(&odcid, hd.token, hd.tokenlen, ep->secret,
                                              sizeof(ep->secret), hd.version,
                                              (const ngtcp2_sockaddr *)from, fromlen, &hd.dcid,
                                              RETRY_TOKEN_TIMEOUT, mm_quic_now()) != 0) {
            mm_log_info("quic_retry_token_invalid", "op=drop");
            return;
        }
        podcid = &odcid;
        retry_scid = &hd.dcid;
    } else {
        hd.token = NULL;
        hd.tokenlen = 0;
    }
    mm_quic_conn *c = NULL;
    if (mm_quic_conn_new_server(ep, &hd, podcid, retry_scid, from, fromlen, &c) < 0)
        return;
    mm_quic_conn_input(c, pkt, len, from, fromlen);
}

/* ---------------------------------------------------------------- read */

static void on_datagram(mm_quic_endpoint *ep, const uint8_t *pkt, size_t len,
                        const struct sockaddr *from, socklen_t fromlen)
{
    if (!ep->server) {
        /* A client socket carries one connection; a stateless reset carries
         * no connection ID of ours, so everything goes to that connection. */
        if (ep->conns != NULL)
            mm_quic_conn_input(ep->conns, pkt, len, from, fromlen);
        return;
    }
    ngtcp2_version_cid vc;
    int rv = ngtcp2_pkt_decode_version_cid(&vc, pkt, len, MM_QUIC_CID_LEN);
    if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
        send_version_negotiation(ep, &vc, from, fromlen);
        return;
    }
    if (rv != 0)
        return;
    mm_quic_conn *c = find_conn(ep, vc.dcid, vc.dcidlen);
    if (c != NULL) {
        mm_quic_conn_input(c, pkt, len, from, fromlen);
        return;
    }
    if ((pkt[0] & 0x80) == 0) {
        send_stateless_reset(ep, &vc, len, from, fromlen);
        return;
    }
    server_accept(ep, pkt, len, from, fromlen);
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    mm_quic_endpoint *ep = arg;
    uint8_t buf[65536];
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0)
            return; /* EAGAIN, or an ICMP error on a connected client socket */
        if (!ep->server) {
            /* Connected socket: the peer is the remote we connected to. */
            if (ep->conns == NULL)
                return;
            memcpy(&from, &ep->conns->remote, ep->conns->remotelen);
            fromlen = ep->conns->remotelen;
        }
        on_datagram(ep, buf, (size_t)n, (struct sockaddr *)&from, fromlen);
    }
}

/* ---------------------------------------------------------------- verification tick */

void mm_quic_endpoint_gc_ctx(mm_quic_endpoint *ep)
{
    for (size_t i = 0; i < ep->n_retired;) {
        bool used = false;
        for (const mm_quic_conn *c = ep->conns; c != NULL && !used; c = c->next)
            used = c->tls_ctx == ep->retired_ctx[i];
        if (used) {
            i++;
            continue;
        }
        ep->tls->ctx_free(ep->retired_ctx[i]);
        ep->retired_ctx[i] = ep->retired_ctx[--ep->n_retired];
    }
}

/*
 * The CA or CRL file changed: the TLS library's own copy of the trust
 * anchors (it checks the client chain during the handshake) is rebuilt for
 * new connections; open connections keep the context they started with
 * until they end (their sessions were re-verified against the new files).
 */
static void renew_tls_ctx(mm_quic_endpoint *ep)
{
    mm_quic_endpoint_gc_ctx(ep);
    void *ctx = NULL;
    if (ep->n_retired == sizeof(ep->retired_ctx) / sizeof(ep->retired_ctx[0]) ||
        ep->tls->ctx_new(&ep->cfg, true, &ctx) < 0) {
        mm_log_warn("quic_tls_ctx_renew_failed", "ca=%s", ep->cfg.ca_file);
        return;
    }
    ep->retired_ctx[ep->n_retired++] = ep->tls_ctx;
    ep->tls_ctx = ctx;
    mm_quic_endpoint_gc_ctx(ep);
}

static void verify_cb(void *arg)
{
    mm_quic_endpoint *ep = arg;
    if (mm_quic_verifier_refresh(ep->verifier, false) == 1 && ep->server)
        renew_tls_ctx(ep);
    mm_quic_conn *next = NULL;
    for (mm_quic_conn *c = ep->conns; c != NULL; c = next) {
        next = c->next;
        mm_quic_conn_reverify(c);
    }
}

static void verify_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    verify_cb(arg);
}

int mm_quic_endpoint_reload_trust(mm_quic_endpoint *ep)
{
    MM_ENSURE(ep->verifier != NULL, MM_ESTATE);
    MM_GUARD(mm_quic_verifier_refresh(ep->verifier, true));
    if (ep->server)
        renew_tls_ctx(ep);
    verify_cb(ep);
    return 0;
}

/* ---------------------------------------------------------------- setup */

static int resolve(const char *host, uint16_t port, bool passive, struct sockaddr_storage *out,
                   socklen_t *outlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
    hints.ai_flags = passive ? AI_NUMERICHOST | AI_PASSIVE : 0;
    struct addrinfo *res = NULL;
    char serv[8];
    snprintf(serv, sizeof(serv), "%u", port);
    if (getaddrinfo(host, serv, &hints, &res) != 0 || res == NULL)
        return MM_ENOENT;
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *outlen = (socklen_t)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static mm_quic_endpoint *endpoint_alloc(struct event_base *base, const mm_quic_config *cfg,
                                        const mm_quic_callbacks *cbs, void *arg, bool server)
{
    mm_quic_endpoint *ep = calloc(1, sizeof(*ep));
    if (ep == NULL)
        return NULL;
    ep->base = base;
    ep->cfg = *cfg;
    ep->cfg.test_resume = NULL; /* not owned; only used while connecting */
    ep->cbs = *cbs;
    ep->arg = arg;
    ep->server = server;
    ep->fd = -1;
    ep->tls = cfg->backend != NULL ? cfg->backend : mm_quic_tls_default();
    if (cfg->static_secret != NULL)
        memcpy(ep->secret, cfg->static_secret, sizeof(ep->secret));
    else
        mm_quic_random(ep->secret, sizeof(ep->secret));
    ep->cfg.static_secret = NULL; /* copied */
    return ep;
}

static int endpoint_socket(mm_quic_endpoint *ep, const struct sockaddr_storage *sa,
                           socklen_t salen)
{
    ep->fd = socket(sa->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    MM_ENSURE(ep->fd >= 0, MM_ESYS);
    if (ep->server) {
        int one = 1;
        if (sa->ss_family == AF_INET6)
            setsockopt(ep->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        MM_ENSURE(bind(ep->fd, (const struct sockaddr *)sa, salen) == 0, MM_ESYS);
    } else {
        MM_ENSURE(connect(ep->fd, (const struct sockaddr *)sa, salen) == 0, MM_ESYS);
    }
    ep->locallen = sizeof(ep->local);
    MM_ENSURE(getsockname(ep->fd, (struct sockaddr *)&ep->local, &ep->locallen) == 0, MM_ESYS);
    ep->rd = event_new(ep->base, ep->fd, EV_READ | EV_PERSIST, read_cb, ep);
    MM_ENSURE(ep->rd != NULL && event_add(ep->rd, NULL) == 0, MM_ENOMEM);
    return 0;
}

int mm_quic_server_new(struct event_base *base, const mm_quic_config *cfg, const char *addr,
                       uint16_t port, const mm_quic_callbacks *cbs, void *arg,
                       mm_quic_endpoint **out)
{
    MM_ENSURE(base != NULL && cfg != NULL && cbs != NULL && out != NULL, MM_EINVAL);
    mm_quic_endpoint *ep = endpoint_alloc(base, cfg, cbs, arg, true);
    MM_ENSURE(ep != NULL, MM_ENOMEM);
    struct sockaddr_storage sa;
    socklen_t salen;
    int rc = resolve(addr != NULL ? addr : "::1", port, true, &sa, &salen);
    if (rc < 0)
        goto fail;
    if ((rc = ep->tls->ctx_new(cfg, true, &ep->tls_ctx)) < 0 ||
        (rc = mm_quic_verifier_new(cfg->ca_file, cfg->crl_file, &ep->verifier)) < 0)
        goto fail;
    if ((rc = endpoint_socket(ep, &sa, salen)) < 0) {
        mm_log_error("quic_listen_failed", "addr=%s port=%u errno=%d", addr ? addr : "::1", port,
                     errno);
        goto fail;
    }
    uint32_t ms = cfg->verify_interval_ms != 0 ? cfg->verify_interval_ms : VERIFY_DEFAULT_MS;
    ep->verify_timer = event_new(base, -1, EV_PERSIST, verify_timer_cb, ep);
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    rc = MM_ENOMEM;
    if (ep->verify_timer == NULL || event_add(ep->verify_timer, &tv) != 0)
        goto fail;
    mm_log_info("quic_listen", "addr=%s port=%u tls=%s", addr != NULL ? addr : "::1",
                mm_quic_endpoint_port(ep), ep->tls->name);
    *out = ep;
    return 0;
fail:
    mm_quic_endpoint_free(ep);
    return rc;
}

int mm_quic_connect(struct event_base *base, const mm_quic_config *cfg, const char *host,
                    uint16_t port, const mm_quic_callbacks *cbs, void *arg, mm_quic_conn **out)
{
    MM_ENSURE(base != NULL && cfg != NULL && host != NULL && cbs != NULL && out != NULL,
              MM_EINVAL);
    mm_quic_endpoint *ep = endpoint_alloc(base, cfg, cbs, arg, false);
    MM_ENSURE(ep != NULL, MM_ENOMEM);
    ep->cfg.test_resume = cfg->test_resume; /* consumed by mm_quic_conn_new_client */
    struct sockaddr_storage sa;
    socklen_t salen;
    int rc = MM_ENOMEM;
    ep->host = strdup(cfg->server_name != NULL ? cfg->server_name : host);
    if (ep->host == NULL)
        goto fail;
    if ((rc = resolve(host, port, false, &sa, &salen)) < 0 ||
        (rc = ep->tls->ctx_new(cfg, false, &ep->tls_ctx)) < 0 ||
        (rc = endpoint_socket(ep, &sa, salen)) < 0)
        goto fail;
    mm_quic_conn *c = NULL;
    if ((rc = mm_quic_conn_new_client(ep, (struct sockaddr *)&sa, salen, &c)) < 0)
        goto fail;
    ep->cfg.test_resume = NULL;
    *out = c;
    return 0;
fail:
    mm_quic_endpoint_free(ep);
    return rc;
}

void mm_quic_endpoint_shutdown(mm_quic_endpoint *ep, uint64_t app_error)
{
    mm_quic_conn *next = NULL;
    for (mm_quic_conn *c = ep->conns; c != NULL; c = next) {
        next = c->next;
        mm_quic_conn_close(c, app_error, "shutdown", false);
    }
}

void mm_quic_endpoint_free(mm_quic_endpoint *ep)
{
    if (ep == NULL)
        return;
    ep->freeing = true;
    while (ep->conns != NULL)
        mm_quic_conn_destroy(ep->conns, false);
    if (ep->rd != NULL)
        event_free(ep->rd);
    if (ep->verify_timer != NULL)
        event_free(ep->verify_timer);
    if (ep->fd >= 0)
        close(ep->fd);
    if (ep->tls_ctx != NULL)
        ep->tls->ctx_free(ep->tls_ctx);
    for (size_t i = 0; i < ep->n_retired; i++)
        ep->tls->ctx_free(ep->retired_ctx[i]);
    mm_quic_verifier_free(ep->verifier);
    OPENSSL_cleanse(ep->secret, sizeof(ep->secret));
    free(ep->host);
    free(ep);
}

uint16_t mm_quic_endpoint_port(const mm_quic_endpoint *ep)
{
    if (ep->local.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&ep->local)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)&ep->local)->sin6_port);
}

size_t mm_quic_endpoint_conn_count(const mm_quic_endpoint *ep)
{
    return ep->nconns;
}
