/*
 * scp_hash.c - F, H, G, K of §4 over OpenSSL's SHA-3 family.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <pthread.h>

#include <openssl/evp.h>

#include "mamori/mm_core.h"
#include "scp_internal.h"

/* Fetched once: an explicit fetch per call costs more than hashing a seed. */
enum { SCP_MD_SHAKE256, SCP_MD_SHA3_256, SCP_MD_SHA3_512, SCP_MD_COUNT };
static EVP_MD *scp_mds[SCP_MD_COUNT];
static pthread_once_t scp_mds_once = PTHREAD_ONCE_INIT;

static void scp_mds_fetch(void)
{
    scp_mds[SCP_MD_SHAKE256] = EVP_MD_fetch(NULL, "SHAKE256", NULL);
    scp_mds[SCP_MD_SHA3_256] = EVP_MD_fetch(NULL, "SHA3-256", NULL);
    scp_mds[SCP_MD_SHA3_512] = EVP_MD_fetch(NULL, "SHA3-512", NULL);
}

static int scp_digest(int alg, uint8_t *out, size_t outlen, const uint8_t *a, size_t alen,
                      const uint8_t *b, size_t blen, int xof)
{
    const EVP_MD *md = pthread_once(&scp_mds_once, scp_mds_fetch) == 0 ? scp_mds[alg] : NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = md && ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
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
