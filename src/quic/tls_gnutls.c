/*
 * tls_gnutls.c - the GnuTLS 3.7 backend of mm_quic_tls_backend.
 *
 * Policy (draft-ietf-netconf-over-quic-06 sections 2, 5 and 6):
 *  - TLS 1.3 only (QUIC v1, RFC 9001);
 *  - exactly one ALPN token; the server aborts with no_application_protocol
 *    when the client offers others (GNUTLS_ALPN_MANDATORY) and conn.c also
 *    refuses a handshake that ends without ALPN;
 *  - no session tickets on either side (GNUTLS_NO_TICKETS), so every
 *    connection runs full mutual certificate authentication and cert-to-name
 *    never needs a cached identity; no early data (GNUTLS_ENABLE_EARLY_DATA
 *    is never set on a server, and 0-RTT keys are never installed);
 *  - the server requires a client certificate chaining to the CA; the
 *    client verifies the server certificate against the dialled name.
 *
 * GnuTLS 3.7 has a fixed list of key-exchange groups: no hybrid post-quantum
 * group can be added here (docs/netconf-quic.md).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include "mamori/mm_core.h"
#include "quic_internal.h"

#define PRIORITY                                                                            \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%DISABLE_TLS13_COMPAT_MODE"

#define MAX_ALPN 32

typedef struct gtls_ctx {
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    bool server;
    bool try_early_data;
    uint8_t alpn[MAX_ALPN];
    size_t alpnlen;
} gtls_ctx;

typedef struct gtls_sess {
    gtls_ctx *ctx;
    gnutls_session_t s;
    char *name;
} gtls_sess;

static int gtls_err(const char *what, int rv)
{
    mm_log_error("quic_tls", "op=%s err=\"%s\"", what, gnutls_strerror(rv));
    return MM_ECRYPTO;
}

static int ctx_new(const mm_quic_config *cfg, bool server, void **out)
{
    const char *alpn = cfg->alpn != NULL ? cfg->alpn : MM_QUIC_ALPN_NETCONF;
    size_t alpnlen = strlen(alpn);
    MM_ENSURE(alpnlen > 0 && alpnlen <= MAX_ALPN, MM_EINVAL);
    MM_ENSURE(cfg->ca_file != NULL, MM_ECONFIG);
    MM_ENSURE(!server || (cfg->cert_file != NULL && cfg->key_file != NULL), MM_ECONFIG);
    gtls_ctx *c = calloc(1, sizeof(*c));
    MM_ENSURE(c != NULL, MM_ENOMEM);
    c->server = server;
    c->try_early_data = !server && cfg->test_try_early_data;
    memcpy(c->alpn, alpn, alpnlen);
    c->alpnlen = alpnlen;
    int rv = gnutls_certificate_allocate_credentials(&c->cred);
    if (rv != 0)
        goto fail;
    if ((rv = gnutls_certificate_set_x509_trust_file(c->cred, cfg->ca_file,
                                                     GNUTLS_X509_FMT_PEM)) <= 0) {
        rv = rv == 0 ? GNUTLS_E_FILE_ERROR : rv;
        goto fail;
    }
    if (cfg->crl_file != NULL &&
        (rv = gnutls_certificate_set_x509_crl_file(c->cred, cfg->crl_file,
                                                   GNUTLS_X509_FMT_PEM)) < 0)
        goto fail;
    if (cfg->cert_file != NULL &&
        (rv = gnutls_certificate_set_x509_key_file(c->cred, cfg->cert_file, cfg->key_file,
                                                   GNUTLS_X509_FMT_PEM)) < 0)
        goto fail;
    if ((rv = gnutls_priority_init2(&c->prio, PRIORITY, NULL, 0)) != 0)
        goto fail;
    *out = c;
    return 0;
fail:;
    int e = gtls_err("credentials", rv);
    if (c->cred != NULL)
        gnutls_certificate_free_credentials(c->cred);
    free(c);
    return e;
}

static void ctx_free(void *p)
{
    gtls_ctx *c = p;
    if (c == NULL)
        return;
    gnutls_priority_deinit(c->prio);
    gnutls_certificate_free_credentials(c->cred);
    free(c);
}

static bool is_ip_literal(const char *name)
{
    uint8_t buf[16];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

static int session_setup(gtls_ctx *c, gtls_sess *s, ngtcp2_crypto_conn_ref *ref)
{
    gnutls_datum_t alpn = {.data = c->alpn, .size = (unsigned)c->alpnlen};
    int rv = c->server ? ngtcp2_crypto_gnutls_configure_server_session(s->s)
                       : ngtcp2_crypto_gnutls_configure_client_session(s->s);
    MM_ENSURE(rv == 0, MM_ECRYPTO);
    gnutls_session_set_ptr(s->s, ref);
    if ((rv = gnutls_priority_set(s->s, c->prio)) != 0 ||
        (rv = gnutls_credentials_set(s->s, GNUTLS_CRD_CERTIFICATE, c->cred)) != 0 ||
        (rv = gnutls_alpn_set_protocols(s->s, &alpn, 1,
                                        c->server ? GNUTLS_ALPN_MANDATORY : 0)) != 0)
        return gtls_err("session", rv);
    if (c->server) {
        /* RFC 7589 section 7: a client certificate is required and verified. */
        gnutls_certificate_server_set_request(s->s, GNUTLS_CERT_REQUIRE);
        gnutls_session_set_verify_cert(s->s, NULL, 0);
        return 0;
    }
    /* RFC 7589 section 6: the server certificate must match the dialled name. */
    gnutls_session_set_verify_cert(s->s, s->name, 0);
    if (!is_ip_literal(s->name) &&
        (rv = gnutls_server_name_set(s->s, GNUTLS_NAME_DNS, s->name, strlen(s->name))) != 0)
        return gtls_err("sni", rv);
    return 0;
}

static int session_new(void *ctx, ngtcp2_crypto_conn_ref *ref, const char *server_name,
                       void **out)
{
    gtls_ctx *c = ctx;
    MM_ENSURE(c->server || server_name != NULL, MM_EINVAL);
    gtls_sess *s = calloc(1, sizeof(*s));
    MM_ENSURE(s != NULL, MM_ENOMEM);
    s->ctx = c;
    unsigned flags = (c->server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NO_END_OF_EARLY_DATA;
    /* The test hook lets a client ask for 0-RTT so tests prove the server refuses it. */
    if (c->try_early_data)
        flags |= GNUTLS_ENABLE_EARLY_DATA;
    else
        flags |= GNUTLS_NO_TICKETS;
    if (c->server)
        flags |= GNUTLS_NO_TICKETS;
    int rc = MM_ENOMEM;
    if (server_name != NULL && (s->name = strdup(server_name)) == NULL)
        goto fail;
    rc = MM_ECRYPTO;
    if (gnutls_init(&s->s, flags) != 0)
        goto fail;
    if ((rc = session_setup(c, s, ref)) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    if (s->s != NULL)
        gnutls_deinit(s->s);
    free(s->name);
    free(s);
    return rc;
}

static void session_free(void *p)
{
    gtls_sess *s = p;
    if (s == NULL)
        return;
    gnutls_deinit(s->s);
    free(s->name);
    free(s);
}

static void *native_handle(void *p)
{
    return ((gtls_sess *)p)->s;
}

static bool alpn(void *p, const uint8_t **out, size_t *len)
{
    gnutls_datum_t d;
    if (gnutls_alpn_get_selected_protocol(((gtls_sess *)p)->s, &d) != 0)
        return false;
    *out = d.data;
    *len = d.size;
    return true;
}

static size_t peer_certs(void *p, const uint8_t **der, size_t *len, size_t max)
{
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(((gtls_sess *)p)->s, &n);
    if (certs == NULL)
        return 0;
    size_t k = n < max ? n : max;
    for (size_t i = 0; i < k; i++) {
        der[i] = certs[i].data;
        len[i] = certs[i].size;
    }
    return k;
}

static bool resumed(void *p)
{
    return gnutls_session_is_resumed(((gtls_sess *)p)->s) != 0;
}

static bool early_data_accepted(void *p)
{
    return (gnutls_session_get_flags(((gtls_sess *)p)->s) & GNUTLS_SFLAGS_EARLY_DATA) != 0;
}

static int try_resume(void *p, const uint8_t *data, size_t len)
{
    gtls_sess *s = p;
    MM_ENSURE(len > 0 && len < UINT32_MAX, MM_EINVAL);
    return gnutls_session_set_data(s->s, data, len) == 0 ? 0 : MM_ECRYPTO;
}

static int session_data(void *p, uint8_t *out, size_t cap, size_t *len)
{
    gnutls_datum_t d = {0};
    *len = 0;
    if (gnutls_session_get_data2(((gtls_sess *)p)->s, &d) != 0)
        return MM_ECRYPTO;
    int rc = 0;
    if (d.size <= cap) {
        memcpy(out, d.data, d.size);
        *len = d.size;
    } else {
        rc = MM_ESPACE;
    }
    gnutls_free(d.data);
    return rc;
}

static const char *group(void *p)
{
    gnutls_group_t g = gnutls_group_get(((gtls_sess *)p)->s);
    return g == GNUTLS_GROUP_INVALID ? NULL : gnutls_group_get_name(g);
}

const mm_quic_tls_backend mm_quic_tls_gnutls = {
    .name = "gnutls",
    .ctx_new = ctx_new,
    .ctx_free = ctx_free,
    .session_new = session_new,
    .session_free = session_free,
    .native_handle = native_handle,
    .alpn = alpn,
    .peer_certs = peer_certs,
    .resumed = resumed,
    .early_data_accepted = early_data_accepted,
    .try_resume = try_resume,
    .session_data = session_data,
    .group = group,
};
