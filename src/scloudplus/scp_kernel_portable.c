/*
 * scp_kernel_portable.c - the portable kernel: plain C products and ExpandA
 * (§4.1) through OpenSSL's AES-128-ECB over counter blocks.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "mamori/mm_core.h"
#include "scp_internal.h"

#define SCP_K(name) scp_portable_##name

typedef struct scp_aes_ctx {
    EVP_CIPHER_CTX *evp;
} scp_aes_ctx;

/*
 * One AES-128-ECB context per thread, re-keyed for every product: a new
 * EVP_CIPHER_CTX (and an init with a cipher, which resets it) allocates, a
 * re-key with a NULL cipher does not. seedA is public: no wipe needed. Freed
 * at thread exit.
 */
static EVP_CIPHER *scp_portable_aes;
static pthread_once_t scp_portable_once = PTHREAD_ONCE_INIT;
static pthread_key_t scp_portable_key;
static _Thread_local EVP_CIPHER_CTX *scp_portable_tl;

static void scp_portable_ctx_free(void *v)
{
    EVP_CIPHER_CTX_free(v);
}

static void scp_portable_fetch(void)
{
    if (pthread_key_create(&scp_portable_key, scp_portable_ctx_free) == 0)
        scp_portable_aes = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
}

static int SCP_K(aes_init)(scp_aes_ctx *ctx, const uint8_t key[16])
{
    ctx->evp = NULL;
    if (pthread_once(&scp_portable_once, scp_portable_fetch) != 0 || !scp_portable_aes)
        return MM_ECRYPTO;
    if (scp_portable_tl == NULL) {
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        if (!c || EVP_EncryptInit_ex2(c, scp_portable_aes, key, NULL, NULL) != 1 ||
            EVP_CIPHER_CTX_set_padding(c, 0) != 1 ||
            pthread_setspecific(scp_portable_key, c) != 0) {
            EVP_CIPHER_CTX_free(c);
            return MM_ECRYPTO;
        }
        scp_portable_tl = c;
    } else if (EVP_EncryptInit_ex2(scp_portable_tl, NULL, key, NULL, NULL) != 1) {
        return MM_ECRYPTO;
    }
    ctx->evp = scp_portable_tl;
    return 0;
}

static void SCP_K(aes_done)(scp_aes_ctx *ctx)
{
    ctx->evp = NULL; /* the context stays with the thread */
}

/* nblocks blocks AES(LE32(ctr + t) || 0^12), as 8 uint16 words each mod q */
static int SCP_K(expand)(scp_aes_ctx *ctx, uint32_t ctr, size_t nblocks, uint16_t *out)
{
    uint8_t *buf = (uint8_t *)out;
    memset(buf, 0, nblocks * 16);
    for (size_t t = 0; t < nblocks; t++) {
        uint32_t c = ctr + (uint32_t)t;
        buf[16 * t] = (uint8_t)c;
        buf[16 * t + 1] = (uint8_t)(c >> 8);
        buf[16 * t + 2] = (uint8_t)(c >> 16);
        buf[16 * t + 3] = (uint8_t)(c >> 24);
    }
    int len = 0;
    if (EVP_EncryptUpdate(ctx->evp, buf, &len, buf, (int)(nblocks * 16)) != 1)
        return MM_ECRYPTO;
    for (size_t k = 0; k < nblocks * 8; k++)
        out[k] = (uint16_t)((buf[2 * k] | (buf[2 * k + 1] << 8)) & SCP_Q_MASK);
    return 0;
}

#include "scp_fixedweight.h"
#include "scp_kernel_impl.h"

const scp_kernel scp_kernel_portable = {
    .name = "portable",
    .mul_as = scp_portable_mul_as,
    .mul_sa = scp_portable_mul_sa,
    .mul_sb = scp_portable_mul_sb,
    .expand_a = scp_portable_expand_a,
    .mul_cs = scp_portable_mul_cs,
    .fixed_weight = scp_portable_fixed_weight,
    .cbd = scp_cbd,
};
