/*
 * tls_ossl.c - the OpenSSL >= 3.5 backend of mm_quic_tls_backend
 * (ngtcp2_crypto_ossl, which drives OpenSSL's QUIC TLS callbacks,
 * SSL_set_quic_tls_cbs).
 *
 * Same policy as tls_gnutls.c (draft-ietf-netconf-over-quic-06 sections 2, 5
 * and 6), plus what GnuTLS cannot do: hybrid post-quantum key exchange.
 *  - TLS 1.3 only (QUIC v1, RFC 9001 section 4.2);
 *  - groups: mm_quic_config.groups, else MM_QUIC_DEFAULT_GROUPS
 *    (X25519SCloud+128 from the in-process scloudplus provider, then OpenSSL
 *    3.5's own X25519MLKEM768, then X25519). A ClientHello carries a key
 *    share for the first group only; a server that does not know it picks
 *    another group from the list through HelloRetryRequest (RFC 8446 4.1.4);
 *  - the SSL_CTX lives in mm_tls_libctx(), the library context of the TCP TLS
 *    layer, so both transports offer exactly the same groups;
 *  - exactly one ALPN token; a server whose token the client did not offer
 *    aborts with no_application_protocol (RFC 9001 section 8.1), and conn.c
 *    refuses a handshake that ends without ALPN;
 *  - no session tickets (SSL_OP_NO_TICKET, zero tickets, no session cache),
 *    so every connection runs full mutual certificate authentication and
 *    cert-to-name never needs a cached identity; no early data (never
 *    enabled on the QUIC TLS object, max_early_data 0);
 *  - the server requires a client certificate chaining to the CA (and not
 *    revoked by the CRL, if one is configured); the client verifies the
 *    server certificate against the dialled name or address.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <ngtcp2/ngtcp2_crypto_ossl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "mamori/mm_core.h"
#include "mamori/mm_tls.h"
#include "quic_internal.h"

#define MAX_ALPN 32
#define MAX_PEER_CERTS 8
/* RFC 9001 section 5.3 AEADs (ngtcp2 supports these three and CCM). */
#define CIPHERSUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

typedef struct ossl_ctx {
    SSL_CTX *ssl_ctx;
    bool server;
    uint8_t alpn[1 + MAX_ALPN]; /* wire form: length byte + token */
    size_t alpnlen;
} ossl_ctx;

typedef struct ossl_sess {
    ossl_ctx *ctx;
    SSL *ssl;
    ngtcp2_crypto_ossl_ctx *octx;
    /* DER of the peer's certificates, leaf first, made on first use. */
    uint8_t *der[MAX_PEER_CERTS];
    size_t derlen[MAX_PEER_CERTS];
    size_t nder;
    bool der_done;
} ossl_sess;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void crypto_init(void)
{
    /* Optional, but ngtcp2 asks for it: it fetches the AEADs once. */
    init_rc = ngtcp2_crypto_ossl_init() == 0 ? 0 : MM_ECRYPTO;
}

static int ossl_err(const char *what, const char *detail)
{
    char buf[256] = "unknown";
    unsigned long e = ERR_peek_last_error();
    if (e != 0)
        ERR_error_string_n(e, buf, sizeof(buf));
    mm_log_error("quic_tls", "op=%s detail=\"%s\" openssl=\"%s\"", what,
                 detail != NULL ? detail : "", buf);
    ERR_clear_error();
    return MM_ECRYPTO;
}

/* Server: select our one token or abort with no_application_protocol. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    const ossl_ctx *c = arg;
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, c->alpn, (unsigned)c->alpnlen, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static int ctx_policy(ossl_ctx *c, const mm_quic_config *cfg)
{
    SSL_CTX *sc = c->ssl_ctx;
    const char *groups = cfg->groups != NULL ? cfg->groups : MM_QUIC_DEFAULT_GROUPS;
    if (!SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(sc, TLS1_3_VERSION))
        return ossl_err("version", "TLS 1.3");
    if (!SSL_CTX_set1_groups_list(sc, groups))
        return ossl_err("groups", groups);
    if (!SSL_CTX_set_ciphersuites(sc, CIPHERSUITES))
        return ossl_err("ciphersuites", CIPHERSUITES);
    /* No tickets, no cache, no early data: every connection authenticates fully. */
    SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(sc, 0);
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_max_early_data(sc, 0);
    SSL_CTX_set_recv_max_early_data(sc, 0);
    SSL_CTX_set_mode(sc, SSL_MODE_RELEASE_BUFFERS);

    if (SSL_CTX_load_verify_file(sc, cfg->ca_file) != 1)
        return ossl_err("ca-file", cfg->ca_file);
    if (cfg->crl_file != NULL) {
        /* As verify.c: revocation of the whole chain, the CRL re-read there. */
        X509_STORE *st = SSL_CTX_get_cert_store(sc);
        X509_LOOKUP *lk = X509_STORE_add_lookup(st, X509_LOOKUP_file());
        if (lk == NULL || X509_load_crl_file(lk, cfg->crl_file, X509_FILETYPE_PEM) <= 0)
            return ossl_err("crl-file", cfg->crl_file);
        X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    if (cfg->cert_file != NULL &&
        (SSL_CTX_use_certificate_chain_file(sc, cfg->cert_file) != 1 ||
         SSL_CTX_use_PrivateKey_file(sc, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
         SSL_CTX_check_private_key(sc) != 1))
        return ossl_err("credentials", cfg->cert_file);

    if (c->server) {
        /* RFC 7589 section 7: a client certificate is required and verified. */
        SSL_CTX_set_verify(sc, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        STACK_OF(X509_NAME) *cas = SSL_load_client_CA_file_ex(cfg->ca_file, mm_tls_libctx(), NULL);
        if (cas != NULL)
            SSL_CTX_set_client_CA_list(sc, cas);
        ERR_clear_error();
        SSL_CTX_set_alpn_select_cb(sc, alpn_select, c);
    } else {
        /* RFC 7589 section 6: the server certificate must chain and match the name. */
        SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_set_alpn_protos(sc, c->alpn, (unsigned)c->alpnlen) != 0)
            return ossl_err("alpn", NULL);
    }
    return 0;
}

static int ctx_new(const mm_quic_config *cfg, bool server, void **out)
{
    const char *alpn = cfg->alpn != NULL ? cfg->alpn : MM_QUIC_ALPN_NETCONF;
    size_t alpnlen = strlen(alpn);
    MM_ENSURE(alpnlen > 0 && alpnlen <= MAX_ALPN, MM_EINVAL);
    MM_ENSURE(cfg->ca_file != NULL, MM_ECONFIG);
    MM_ENSURE(!server || (cfg->cert_file != NULL && cfg->key_file != NULL), MM_ECONFIG);
    MM_ENSURE((cfg->cert_file == NULL) == (cfg->key_file == NULL), MM_ECONFIG);
    pthread_once(&init_once, crypto_init);
    MM_GUARD(init_rc);
    OSSL_LIB_CTX *lc = mm_tls_libctx();
    MM_ENSURE(lc != NULL, MM_ECRYPTO);

    ossl_ctx *c = calloc(1, sizeof(*c));
    MM_ENSURE(c != NULL, MM_ENOMEM);
    c->server = server;
    c->alpn[0] = (uint8_t)alpnlen;
    memcpy(c->alpn + 1, alpn, alpnlen);
    c->alpnlen = alpnlen + 1;
    c->ssl_ctx = SSL_CTX_new_ex(lc, NULL, server ? TLS_server_method() : TLS_client_method());
    int rc = c->ssl_ctx != NULL ? ctx_policy(c, cfg) : ossl_err("SSL_CTX_new_ex", NULL);
    if (rc < 0) {
        SSL_CTX_free(c->ssl_ctx);
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void ctx_free(void *p)
{
    ossl_ctx *c = p;
    if (c == NULL)
        return;
    SSL_CTX_free(c->ssl_ctx);
    free(c);
}

static void sess_drop_der(ossl_sess *s)
{
    for (size_t i = 0; i < s->nder; i++)
        OPENSSL_free(s->der[i]);
    s->nder = 0;
}

static void session_free(void *p)
{
    ossl_sess *s = p;
    if (s == NULL)
        return;
    if (s->ssl != NULL) {
        /* ngtcp2_crypto_ossl: the ngtcp2_conn may be gone before SSL_free. */
        SSL_set_app_data(s->ssl, NULL);
        SSL_free(s->ssl);
    }
    if (s->octx != NULL)
        ngtcp2_crypto_ossl_ctx_del(s->octx);
    sess_drop_der(s);
    free(s);
}

static int session_new(void *ctx, ngtcp2_crypto_conn_ref *ref, const char *server_name, void **out)
{
    ossl_ctx *c = ctx;
    MM_ENSURE(c->server || server_name != NULL, MM_EINVAL);
    ossl_sess *s = calloc(1, sizeof(*s));
    MM_ENSURE(s != NULL, MM_ENOMEM);
    s->ctx = c;
    int rc = MM_ECRYPTO;
    if ((s->ssl = SSL_new(c->ssl_ctx)) == NULL) {
        rc = ossl_err("SSL_new", NULL);
        goto fail;
    }
    if (ngtcp2_crypto_ossl_ctx_new(&s->octx, s->ssl) != 0)
        goto fail;
    if ((c->server ? ngtcp2_crypto_ossl_configure_server_session(s->ssl)
                   : ngtcp2_crypto_ossl_configure_client_session(s->ssl)) != 0) {
        rc = ossl_err("configure_session", NULL);
        goto fail;
    }
    SSL_set_app_data(s->ssl, ref);
    SSL_set_quic_tls_early_data_enabled(s->ssl, 0);
    if (c->server) {
        SSL_set_accept_state(s->ssl);
    } else {
        SSL_set_connect_state(s->ssl);
        /* SNI for a DNS name; the certificate must match the name or address. */
        if ((rc = mm_tls_set_peer_name(s->ssl, server_name)) < 0) {
            ossl_err("server-name", server_name);
            goto fail;
        }
    }
    *out = s;
    return 0;
fail:
    session_free(s);
    return rc;
}

static void *native_handle(void *p)
{
    return ((ossl_sess *)p)->octx;
}

static bool alpn(void *p, const uint8_t **out, size_t *len)
{
    const unsigned char *d = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(((ossl_sess *)p)->ssl, &d, &n);
    if (d == NULL || n == 0)
        return false;
    *out = d;
    *len = n;
    return true;
}

static void der_add(ossl_sess *s, X509 *x)
{
    unsigned char *d = NULL;
    int n = i2d_X509(x, &d);
    if (n <= 0 || s->nder == MAX_PEER_CERTS) {
        OPENSSL_free(d);
        return;
    }
    s->der[s->nder] = d;
    s->derlen[s->nder++] = (size_t)n;
}

/* The certificates as sent (leaf first), kept as DER for verify.c and the
 * application; TLS 1.3 without post-handshake auth never changes them. */
static void der_make(ossl_sess *s)
{
    s->der_done = true;
    X509 *leaf = SSL_get0_peer_certificate(s->ssl);
    if (leaf == NULL)
        return;
    der_add(s, leaf);
    /* On a server the stack lacks the leaf; on a client it starts with it. */
    STACK_OF(X509) *sk = SSL_get_peer_cert_chain(s->ssl);
    for (int i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
        X509 *x = sk_X509_value(sk, i);
        if (X509_cmp(x, leaf) != 0)
            der_add(s, x);
    }
}

static size_t peer_certs(void *p, const uint8_t **der, size_t *len, size_t max)
{
    ossl_sess *s = p;
    if (!s->der_done && SSL_is_init_finished(s->ssl))
        der_make(s);
    size_t k = s->nder < max ? s->nder : max;
    for (size_t i = 0; i < k; i++) {
        der[i] = s->der[i];
        len[i] = s->derlen[i];
    }
    return k;
}

static bool resumed(void *p)
{
    return SSL_session_reused(((ossl_sess *)p)->ssl) != 0;
}

static bool early_data_accepted(void *p)
{
    return SSL_get_early_data_status(((ossl_sess *)p)->ssl) == SSL_EARLY_DATA_ACCEPTED;
}

static int try_resume(void *p, const uint8_t *data, size_t len)
{
    ossl_sess *s = p;
    MM_ENSURE(len > 0 && len < INT32_MAX, MM_EINVAL);
    const unsigned char *q = data;
    SSL_SESSION *sess = d2i_SSL_SESSION_ex(NULL, &q, (long)len, mm_tls_libctx(), NULL);
    if (sess == NULL)
        return ossl_err("d2i_SSL_SESSION", NULL);
    int ok = SSL_set_session(s->ssl, sess);
    SSL_SESSION_free(sess);
    return ok == 1 ? 0 : ossl_err("SSL_set_session", NULL);
}

static int session_data(void *p, uint8_t *out, size_t cap, size_t *len)
{
    *len = 0;
    SSL_SESSION *sess = SSL_get1_session(((ossl_sess *)p)->ssl);
    if (sess == NULL)
        return MM_ECRYPTO;
    int n = i2d_SSL_SESSION(sess, NULL);
    int rc = 0;
    if (n <= 0) {
        rc = MM_ECRYPTO;
    } else if ((size_t)n > cap) {
        rc = MM_ESPACE;
    } else {
        unsigned char *q = out;
        i2d_SSL_SESSION(sess, &q);
        *len = (size_t)n;
    }
    SSL_SESSION_free(sess);
    return rc;
}

static const char *group(void *p)
{
    return SSL_get0_group_name(((ossl_sess *)p)->ssl);
}

const mm_quic_tls_backend mm_quic_tls_ossl = {
    .name = "openssl",
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
