/*
 * crypto.c - rsa-sha256 (RFC 6376 3.3.1) and ed25519-sha256 (RFC 8463 3:
 * Ed25519 over the SHA-256 digest of the header hash input) with OpenSSL 3
 * EVP, and the body hash.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include <openssl/evp.h>

#include <pthread.h>

#include "dkim_int.h"

/* SHA-256 fetched once: the implicit fetch of EVP_sha256() takes the provider locks on every
 * use, which shows at MTA message rates. */
static EVP_MD *md_sha256;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static void md_fetch(void) { md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL); }
static const EVP_MD *sha256_md(void)
{
    pthread_once(&md_once, md_fetch);
    return md_sha256 ? md_sha256 : EVP_sha256();
}

static int sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    unsigned int ol = 0;
    return EVP_Digest(p, n, out, &ol, sha256_md(), NULL) == 1 && ol == 32 ? 0 : MM_ECRYPTO;
}

int dkim_crypto_sign(void *pkey, enum mm_dkim_alg alg, const uint8_t *data, size_t len,
                     uint8_t *sig, size_t *siglen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return MM_ENOMEM;
    int rc = MM_ECRYPTO;
    uint8_t dg[32];
    if (alg == MM_DKIM_ALG_RSA_SHA256) {
        if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA &&
            EVP_DigestSignInit(ctx, NULL, sha256_md(), NULL, pkey) == 1 &&
            EVP_DigestSign(ctx, sig, siglen, data, len) == 1)
            rc = 0;
    } else if (alg == MM_DKIM_ALG_ED25519_SHA256) {
        if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 && sha256(data, len, dg) == 0 &&
            EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
            EVP_DigestSign(ctx, sig, siglen, dg, sizeof(dg)) == 1)
            rc = 0;
    } else {
        rc = MM_EUNSUPPORTED;
    }
    EVP_MD_CTX_free(ctx);
    return rc;
}

int dkim_crypto_verify(void *pkey, enum mm_dkim_alg alg, const uint8_t *data, size_t len,
                       const uint8_t *sig, size_t siglen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return MM_ENOMEM;
    int rc = MM_EVERIFY;
    uint8_t dg[32];
    if (alg == MM_DKIM_ALG_RSA_SHA256) {
        if (EVP_DigestVerifyInit(ctx, NULL, sha256_md(), NULL, pkey) == 1 &&
            EVP_DigestVerify(ctx, sig, siglen, data, len) == 1)
            rc = 0;
    } else if (alg == MM_DKIM_ALG_ED25519_SHA256) {
        if (sha256(data, len, dg) == 0 && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
            EVP_DigestVerify(ctx, sig, siglen, dg, sizeof(dg)) == 1)
            rc = 0;
    } else {
        rc = MM_EUNSUPPORTED;
    }
    EVP_MD_CTX_free(ctx);
    return rc;
}

static void bh_sink(void *arg, const uint8_t *p, size_t n)
{
    dkim_bodyhash *h = arg;
    h->seen += n;
    if (h->hashed >= h->limit)
        return;
    if (n > h->limit - h->hashed)
        n = (size_t)(h->limit - h->hashed);
    EVP_DigestUpdate(h->md, p, n);
    h->hashed += n;
}

int dkim_bodyhash_init(dkim_bodyhash *h, enum mm_dkim_canon c, uint64_t limit)
{
    memset(h, 0, sizeof(*h));
    h->md = EVP_MD_CTX_new();
    if (!h->md || EVP_DigestInit_ex(h->md, sha256_md(), NULL) != 1) {
        EVP_MD_CTX_free(h->md);
        h->md = NULL;
        return MM_ECRYPTO;
    }
    h->limit = limit;
    mm_dkim_body_init(&h->canon, c, bh_sink, h);
    return 0;
}

void dkim_bodyhash_update(dkim_bodyhash *h, const uint8_t *p, size_t n)
{
    mm_dkim_body_update(&h->canon, p, n);
}

int dkim_bodyhash_final(dkim_bodyhash *h, uint8_t out[32])
{
    mm_dkim_body_final(&h->canon);
    unsigned int ol = 0;
    return EVP_DigestFinal_ex(h->md, out, &ol) == 1 && ol == 32 ? 0 : MM_ECRYPTO;
}

void dkim_bodyhash_free(dkim_bodyhash *h)
{
    EVP_MD_CTX_free(h->md);
    h->md = NULL;
}
