/*
 * scp_hash.c - F, H, G, K of §4 over OpenSSL's SHA-3 family.
 *
 * No allocation per hash. OpenSSL 3.0's EVP_DigestInit_ex frees and makes
 * the provider's digest context again on every (re)initialisation, and an
 * operation hashes 4-15 times. So the digest functions of the provider that
 * implements the fetched SHA-3 algorithms (normally "default") are taken
 * once from its dispatch table (OSSL_PROVIDER_query_operation, public API)
 * and called directly on one context per algorithm and thread: the
 * provider's init only resets the Keccak state. Each context is initialised
 * again right after use, which zeroes the state (it held secrets: Keccak-f
 * is a permutation, so a final one-block state gives back its input). The
 * contexts of a thread are freed when it exits. If the dispatch table cannot
 * be used, the EVP path (allocating) is taken.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "mamori/mm_core.h"
#include "scp_internal.h"

enum { SCP_MD_SHAKE256, SCP_MD_SHA3_256, SCP_MD_SHA3_512, SCP_MD_COUNT };
static const char *const scp_md_names[SCP_MD_COUNT] = {"SHAKE256", "SHA3-256", "SHA3-512"};

/* The provider's functions for one algorithm. */
typedef struct scp_md_impl {
    EVP_MD *md; /* fetched once (also the fallback path) */
    void *provctx;
    OSSL_FUNC_digest_newctx_fn *newctx;
    OSSL_FUNC_digest_init_fn *init;
    OSSL_FUNC_digest_update_fn *update;
    OSSL_FUNC_digest_final_fn *final;
    OSSL_FUNC_digest_freectx_fn *freectx;
    OSSL_FUNC_digest_set_ctx_params_fn *set_ctx_params;
    int direct; /* all of the above found */
} scp_md_impl;

static scp_md_impl scp_mds[SCP_MD_COUNT];
static pthread_once_t scp_mds_once = PTHREAD_ONCE_INIT;
static pthread_key_t scp_ctx_key;
static int scp_key_ok;

typedef struct scp_md_ctxs {
    void *ctx[SCP_MD_COUNT]; /* provider digest contexts */
} scp_md_ctxs;

static _Thread_local scp_md_ctxs *scp_tl_ctxs;

static void scp_ctxs_free(void *v)
{
    scp_md_ctxs *c = v;
    for (int i = 0; c && i < SCP_MD_COUNT; i++)
        if (c->ctx[i])
            scp_mds[i].freectx(c->ctx[i]);
    free(c);
}

/* 1 if name is one of the colon-separated names in list. */
static int scp_name_in(const char *name, const char *list)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ':');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncasecmp(p, name, n))
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

static void scp_md_resolve(scp_md_impl *m, const char *name)
{
    const OSSL_PROVIDER *prov = EVP_MD_get0_provider(m->md);
    const OSSL_ALGORITHM *algs;
    int no_cache = 0;
    if (!prov || !scp_key_ok ||
        !(algs = OSSL_PROVIDER_query_operation(prov, OSSL_OP_DIGEST, &no_cache)))
        return;
    for (; algs->algorithm_names; algs++) {
        if (!scp_name_in(name, algs->algorithm_names))
            continue;
        for (const OSSL_DISPATCH *d = algs->implementation; d->function_id; d++) {
            switch (d->function_id) {
            case OSSL_FUNC_DIGEST_NEWCTX: m->newctx = OSSL_FUNC_digest_newctx(d); break;
            case OSSL_FUNC_DIGEST_INIT: m->init = OSSL_FUNC_digest_init(d); break;
            case OSSL_FUNC_DIGEST_UPDATE: m->update = OSSL_FUNC_digest_update(d); break;
            case OSSL_FUNC_DIGEST_FINAL: m->final = OSSL_FUNC_digest_final(d); break;
            case OSSL_FUNC_DIGEST_FREECTX: m->freectx = OSSL_FUNC_digest_freectx(d); break;
            case OSSL_FUNC_DIGEST_SET_CTX_PARAMS:
                m->set_ctx_params = OSSL_FUNC_digest_set_ctx_params(d);
                break;
            }
        }
        break;
    }
    OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_DIGEST, algs);
    m->provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
    m->direct = m->newctx && m->init && m->update && m->final && m->freectx &&
                (m != &scp_mds[SCP_MD_SHAKE256] || m->set_ctx_params);
}

static void scp_mds_fetch(void)
{
    scp_key_ok = pthread_key_create(&scp_ctx_key, scp_ctxs_free) == 0;
    for (int i = 0; i < SCP_MD_COUNT; i++) {
        scp_mds[i].md = EVP_MD_fetch(NULL, scp_md_names[i], NULL);
        if (scp_mds[i].md)
            scp_md_resolve(&scp_mds[i], EVP_MD_get0_name(scp_mds[i].md));
    }
}

/* This thread's initialised context of alg, or NULL. */
static void *scp_md_ctx(int alg)
{
    const scp_md_impl *m = &scp_mds[alg];
    scp_md_ctxs *c = scp_tl_ctxs;
    if (c == NULL) {
        if ((c = calloc(1, sizeof *c)) == NULL)
            return NULL;
        if (pthread_setspecific(scp_ctx_key, c) != 0) {
            free(c);
            return NULL;
        }
        scp_tl_ctxs = c;
    }
    if (c->ctx[alg] == NULL) {
        void *x = m->newctx(m->provctx);
        if (x == NULL)
            return NULL;
        if (!m->init(x, NULL)) {
            m->freectx(x);
            return NULL;
        }
        c->ctx[alg] = x;
    }
    return c->ctx[alg];
}

static int scp_digest_direct(int alg, uint8_t *out, size_t outlen, const uint8_t *a,
                             size_t alen, const uint8_t *b, size_t blen, int xof)
{
    const scp_md_impl *m = &scp_mds[alg];
    void *ctx = scp_md_ctx(alg);
    size_t done = 0;
    if (ctx == NULL)
        return MM_ECRYPTO;
    int ok = m->update(ctx, a, alen) && (blen == 0 || m->update(ctx, b, blen));
    if (ok && xof) {
        OSSL_PARAM p[2] = {OSSL_PARAM_construct_size_t(OSSL_DIGEST_PARAM_XOFLEN, &outlen),
                           OSSL_PARAM_construct_end()};
        ok = m->set_ctx_params(ctx, p);
    }
    ok = ok && m->final(ctx, out, &done, outlen) && done == outlen;
    /* wipe the state; ready for the next call */
    if (!m->init(ctx, NULL)) {
        m->freectx(ctx);
        scp_tl_ctxs->ctx[alg] = NULL;
        ok = 0;
    }
    return ok ? 0 : MM_ECRYPTO;
}

static int scp_digest(int alg, uint8_t *out, size_t outlen, const uint8_t *a, size_t alen,
                      const uint8_t *b, size_t blen, int xof)
{
    if (pthread_once(&scp_mds_once, scp_mds_fetch) != 0 || !scp_mds[alg].md)
        return MM_ECRYPTO;
    if (scp_mds[alg].direct)
        return scp_digest_direct(alg, out, outlen, a, alen, b, blen, xof);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new(); /* fallback: allocates */
    int ok = ctx && EVP_DigestInit_ex(ctx, scp_mds[alg].md, NULL) == 1 &&
             EVP_DigestUpdate(ctx, a, alen) == 1 &&
             (blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1);
    if (ok && xof)
        ok = EVP_DigestFinalXOF(ctx, out, outlen) == 1;
    else if (ok)
        ok = EVP_DigestFinal_ex(ctx, out, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : MM_ECRYPTO;
}

int scp_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
    return scp_digest(SCP_MD_SHAKE256, out, outlen, in, inlen, NULL, 0, 1);
}

int scp_shake256_2(uint8_t *out, size_t outlen, const uint8_t *a, size_t alen,
                   const uint8_t *b, size_t blen)
{
    return scp_digest(SCP_MD_SHAKE256, out, outlen, a, alen, b, blen, 1);
}

int scp_sha3_256(uint8_t out[32], const uint8_t *in, size_t inlen)
{
    return scp_digest(SCP_MD_SHA3_256, out, 32, in, inlen, NULL, 0, 0);
}

int scp_sha3_512_2(uint8_t out[64], const uint8_t *a, size_t alen, const uint8_t *b,
                   size_t blen)
{
    return scp_digest(SCP_MD_SHA3_512, out, 64, a, alen, b, blen, 0);
}
