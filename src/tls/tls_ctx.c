/*
 * tls_ctx.c - mamori's TLS 1.3 contexts: private library context with the
 * scloudplus provider built in, mutual X.509, hybrid groups first.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/x509v3.h>

#include "mamori/mm_core.h"
#include "mamori/mm_tls.h"
#include "sp_prov.h"
#include "tls_internal.h"

static pthread_once_t libctx_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *libctx;

static void log_ossl(const char *event, const char *what)
{
    char buf[256];
    const char *data = NULL;
    unsigned long e;
    int flags = 0, n = 0;

    /* every queued error: the first usually says why (a provider's init) */
    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        mm_log_error(event, "what=%s openssl=\"%s\" detail=\"%s\"", what, buf,
                     data != NULL && (flags & ERR_TXT_STRING) != 0 ? data : "");
        n++;
    }
    if (n == 0)
        mm_log_error(event, "what=%s openssl=\"unknown\"", what);
}

/*
 * A private library context: OpenSSL's default provider for everything
 * classical plus scloudplus registered in-process. The system openssl.cnf is
 * never read into it, so no local configuration can drop the hybrids; only
 * the scloudplus provider section is copied from it (tls_provider_conf.c),
 * so codepoint overrides agree with the stock programs on this host.
 */
static void libctx_create(void)
{
    OSSL_LIB_CTX *ctx;

    if (mm_tls_provider_options_apply() != 0)
        return;
    ctx = OSSL_LIB_CTX_new();
    if (ctx == NULL)
        return;
    if (OSSL_PROVIDER_load(ctx, "default") == NULL ||
        !OSSL_PROVIDER_add_builtin(ctx, SP_PROVIDER_NAME, mm_scloudplus_provider_init) ||
        OSSL_PROVIDER_load(ctx, SP_PROVIDER_NAME) == NULL) {
        log_ossl("tls-init", "load providers");
        OSSL_LIB_CTX_free(ctx);
        return;
    }
    libctx = ctx;
}

OSSL_LIB_CTX *mm_tls_libctx(void)
{
    pthread_once(&libctx_once, libctx_create);
    return libctx;
}

const char *mm_tls_default_groups(void)
{
    /* The OpenSSL actually loaded decides, not the headers built against:
     * X25519MLKEM768 is a TLS group of the default provider from 3.5 on. */
    return OpenSSL_version_num() >= 0x30500000L ? MM_TLS_DEFAULT_GROUPS_MLKEM
                                                : MM_TLS_DEFAULT_GROUPS;
}

static SSL_CTX *ctx_new(const mm_tls_config *cfg, const SSL_METHOD *method)
{
    OSSL_LIB_CTX *lc = mm_tls_libctx();
    const char *groups = cfg->groups != NULL ? cfg->groups : mm_tls_default_groups();
    SSL_CTX *ctx;

    if (lc == NULL)
        return NULL;
    ctx = SSL_CTX_new_ex(lc, NULL, method);
    if (ctx == NULL) {
        log_ossl("tls-ctx", "SSL_CTX_new");
        return NULL;
    }
    /* Zero trust: TLS 1.3 only (ARCHITECTURE.md section 5). */
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
        log_ossl("tls-ctx", "protocol version");
        goto err;
    }
    if (!SSL_CTX_set1_groups_list(ctx, groups)) {
        mm_log_error("tls-ctx", "what=groups groups=\"%s\"", groups);
        ERR_clear_error();
        goto err;
    }
    if (cfg->ciphersuites != NULL && !SSL_CTX_set_ciphersuites(ctx, cfg->ciphersuites)) {
        mm_log_error("tls-ctx", "what=ciphersuites value=\"%s\"", cfg->ciphersuites);
        ERR_clear_error();
        goto err;
    }
    if (cfg->cert_file != NULL || cfg->key_file != NULL) {
        if (cfg->cert_file == NULL || cfg->key_file == NULL) {
            mm_log_error("tls-ctx", "what=credentials reason=\"cert and key go together\"");
            goto err;
        }
        if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            mm_log_error("tls-ctx", "what=credentials cert=%s key=%s", cfg->cert_file,
                         cfg->key_file);
            ERR_clear_error();
            goto err;
        }
    }
    if (cfg->ca_file != NULL && SSL_CTX_load_verify_file(ctx, cfg->ca_file) != 1) {
        mm_log_error("tls-ctx", "what=ca-file file=%s", cfg->ca_file);
        ERR_clear_error();
        goto err;
    }
    return ctx;
err:
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *mm_tls_ctx_new_server(const mm_tls_config *cfg)
{
    SSL_CTX *ctx;
    int mode = SSL_VERIFY_PEER;
    STACK_OF(X509_NAME) *cas;

    if (cfg == NULL || cfg->cert_file == NULL || cfg->ca_file == NULL) {
        mm_log_error("tls-ctx", "what=server reason=\"cert, key and ca file required\"");
        return NULL;
    }
    ctx = ctx_new(cfg, TLS_server_method());
    if (ctx == NULL)
        return NULL;
    if (!cfg->client_cert_optional)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, NULL);
    /*
     * No resumption: every connection is a full handshake whose client
     * certificate is verified now (zero trust: continuous verification; a
     * ticket would carry the old verdict across a revocation or expiry). So
     * no tickets (TLS 1.3 would send two after each handshake) and no
     * server-side cache. The session id context is set all the same: a
     * verifying server without one answers any offered session (curl
     * --parallel shares its cache between transfers) with an internal_error
     * alert instead of falling back to a full handshake.
     */
    static const unsigned char sid_ctx[] = "mamori";
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (!SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1)) {
        mm_log_error("tls-ctx", "what=server reason=\"cannot set the session id context\"");
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* Tell clients which CAs we accept (certificate_authorities). */
    cas = SSL_load_client_CA_file_ex(cfg->ca_file, mm_tls_libctx(), NULL);
    if (cas != NULL)
        SSL_CTX_set_client_CA_list(ctx, cas);
    ERR_clear_error();
    return ctx;
}

SSL_CTX *mm_tls_ctx_new_client(const mm_tls_config *cfg)
{
    SSL_CTX *ctx;

    if (cfg == NULL || (cfg->ca_file == NULL && !cfg->no_verify)) {
        mm_log_error("tls-ctx", "what=client reason=\"ca file required to verify the server\"");
        return NULL;
    }
    ctx = ctx_new(cfg, TLS_client_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_verify(ctx, cfg->no_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    return ctx;
}

int mm_tls_set_peer_name(SSL *ssl, const char *name)
{
    unsigned char addr[16];
    int is_ip;

    MM_ENSURE(ssl != NULL && name != NULL && name[0] != '\0', MM_EINVAL);
    is_ip = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
    if (is_ip) {
        /* RFC 6066 3: no IP literals in SNI; check the iPAddress SAN instead. */
        X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
        MM_ENSURE(X509_VERIFY_PARAM_set1_ip_asc(vp, name) == 1, MM_EINVAL);
        return 0;
    }
    MM_ENSURE(SSL_set_tlsext_host_name(ssl, name) == 1, MM_EINVAL);
    MM_ENSURE(SSL_set1_host(ssl, name) == 1, MM_EINVAL);
    return 0;
}

const char *mm_tls_negotiated_group_name(SSL *ssl)
{
    int nid = SSL_get_negotiated_group(ssl);

    if (nid <= 0)
        return NULL;
    return SSL_group_to_name(ssl, nid);
}

/* Codepoints of OpenSSL's built-in TLS 1.3 groups (RFC 8446 4.2.7, RFC 7919). */
static const struct {
    int nid;
    unsigned int id;
} builtin_groups[] = {
    {NID_X9_62_prime256v1, 23}, {NID_secp384r1, 24}, {NID_secp521r1, 25},
    {NID_X25519, 29},           {NID_X448, 30},      {NID_ffdhe2048, 256},
    {NID_ffdhe3072, 257},       {NID_ffdhe4096, 258}, {NID_ffdhe6144, 259},
    {NID_ffdhe8192, 260},
};

unsigned int mm_tls_negotiated_group_id(SSL *ssl)
{
    int nid = SSL_get_negotiated_group(ssl);

    if (nid <= 0)
        return 0;
    /* OpenSSL 3.0 reports provider groups as TLSEXT_nid_unknown | codepoint. */
    if ((nid & TLSEXT_nid_unknown) != 0)
        return (unsigned int)nid & 0xFFFF;
    for (size_t i = 0; i < sizeof(builtin_groups) / sizeof(builtin_groups[0]); i++) {
        if (builtin_groups[i].nid == nid)
            return builtin_groups[i].id;
    }
    return 0;
}
