/*
 * scp_kernel_portable.c - the portable kernel: plain C products and ExpandA
 * (§4.1) through OpenSSL's AES-128-ECB over counter blocks.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include <openssl/evp.h>

#include "mamori/mm_core.h"
#include "scp_internal.h"

#define SCP_K(name) scp_portable_##name

typedef struct scp_aes_ctx {
    EVP_CIPHER_CTX *evp;
} scp_aes_ctx;

static int SCP_K(aes_init)(scp_aes_ctx *ctx, const uint8_t key[16])
{
    ctx->evp = EVP_CIPHER_CTX_new();
    if (!ctx->evp || EVP_EncryptInit_ex(ctx->evp, EVP_aes_128_ecb(), NULL, key, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx->evp, 0) != 1)
        return MM_ECRYPTO;
    return 0;
}

static void SCP_K(aes_done)(scp_aes_ctx *ctx)
{
    EVP_CIPHER_CTX_free(ctx->evp);
    ctx->evp = NULL;
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
    .mul_cs = scp_portable_mul_cs,
    .fixed_weight = scp_portable_fixed_weight,
    .cbd = scp_cbd,
};
