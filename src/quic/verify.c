/*
 * verify.c - the peer's X.509 chain, built and checked with OpenSSL.
 *
 * The TLS backend already verified the chain during the handshake; this file
 * exists for two things the handshake cannot do:
 *  - give cert-to-name (mm_ctn_resolve, shared with the TLS transport) the
 *    verified chain from leaf to trust anchor, so a fingerprint of the local
 *    CA matches the same way over QUIC and over TLS;
 *  - continuous verification (draft-li-zt-consideration): every few seconds
 *    and whenever the CA or CRL file changes, each session's chain is checked
 *    again; an expired or revoked certificate ends the session at once.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "mamori/mm_core.h"
#include "quic_internal.h"

struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

struct mm_quic_verifier {
    char *ca_file, *crl_file;
    struct file_id ca_id, crl_id;
    X509_STORE *store;
};

static struct file_id file_id_of(const char *path)
{
    struct file_id id = {0};
    struct stat st;
    if (path != NULL && stat(path, &st) == 0) {
        id.dev = st.st_dev;
        id.ino = st.st_ino;
        id.size = st.st_size;
        id.mtime = st.st_mtim;
    }
    return id;
}

static bool file_id_eq(const struct file_id *a, const struct file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static X509_STORE *store_load(const char *ca_file, const char *crl_file)
{
    X509_STORE *st = X509_STORE_new();
    if (st == NULL)
        return NULL;
    if (X509_STORE_load_file(st, ca_file) != 1)
        goto fail;
    if (crl_file != NULL) {
        X509_LOOKUP *lk = X509_STORE_add_lookup(st, X509_LOOKUP_file());
        if (lk == NULL || X509_load_crl_file(lk, crl_file, X509_FILETYPE_PEM) <= 0)
            goto fail;
        X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    return st;
fail:
    X509_STORE_free(st);
    return NULL;
}

int mm_quic_verifier_new(const char *ca_file, const char *crl_file, mm_quic_verifier **out)
{
    MM_ENSURE(ca_file != NULL && out != NULL, MM_EINVAL);
    mm_quic_verifier *v = calloc(1, sizeof(*v));
    MM_ENSURE(v != NULL, MM_ENOMEM);
    v->ca_file = strdup(ca_file);
    v->crl_file = crl_file != NULL ? strdup(crl_file) : NULL;
    if (v->ca_file == NULL || (crl_file != NULL && v->crl_file == NULL)) {
        mm_quic_verifier_free(v);
        return MM_ENOMEM;
    }
    int rc = mm_quic_verifier_refresh(v, true);
    if (rc < 0) {
        mm_quic_verifier_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

void mm_quic_verifier_free(mm_quic_verifier *v)
{
    if (v == NULL)
        return;
    X509_STORE_free(v->store);
    free(v->ca_file);
    free(v->crl_file);
    free(v);
}

int mm_quic_verifier_refresh(mm_quic_verifier *v, bool force)
{
    struct file_id ca = file_id_of(v->ca_file);
    struct file_id crl = file_id_of(v->crl_file);
    if (!force && v->store != NULL && file_id_eq(&ca, &v->ca_id) && file_id_eq(&crl, &v->crl_id))
        return 0;
    X509_STORE *st = store_load(v->ca_file, v->crl_file);
    if (st == NULL) {
        /* A CA file being rewritten is briefly unreadable: keep the old store
         * unless there is none, and try again on the next tick. */
        mm_log_warn("quic_trust_reload_failed", "ca=%s", v->ca_file);
        if (v->store == NULL)
            return MM_ECONFIG;
        return 0;
    }
    X509_STORE_free(v->store);
    v->store = st;
    v->ca_id = ca;
    v->crl_id = crl;
    if (!force)
        mm_log_info("quic_trust_reloaded", "ca=%s", v->ca_file);
    return 1;
}

static STACK_OF(X509) *der_stack(const uint8_t *const *der, const size_t *len, size_t n)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (sk == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = der[i];
        X509 *x = d2i_X509(NULL, &p, (long)len[i]);
        if (x == NULL || p != der[i] + len[i] || sk_X509_push(sk, x) <= 0) {
            X509_free(x);
            sk_X509_pop_free(sk, X509_free);
            return NULL;
        }
    }
    return sk;
}

int mm_quic_verifier_check(mm_quic_verifier *v, const uint8_t *const *der, const size_t *len,
                           size_t n, STACK_OF(X509) **chain, const char **why)
{
    *why = "no certificate";
    MM_ENSURE(n > 0, MM_EVERIFY);
    STACK_OF(X509) *sk = der_stack(der, len, n);
    *why = "unparsable certificate";
    MM_ENSURE(sk != NULL, MM_EVERIFY);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = MM_ENOMEM;
    if (ctx == NULL)
        goto out;
    rc = MM_EVERIFY;
    if (X509_STORE_CTX_init(ctx, v->store, sk_X509_value(sk, 0), sk) != 1)
        goto out;
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
    if (X509_verify_cert(ctx) != 1) {
        *why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
        goto out;
    }
    rc = 0;
    *why = "ok";
    if (chain != NULL) {
        *chain = X509_STORE_CTX_get1_chain(ctx);
        if (*chain == NULL)
            rc = MM_ENOMEM;
    }
out:
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(sk, X509_free);
    return rc;
}
