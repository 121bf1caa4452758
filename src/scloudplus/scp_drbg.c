/*
 * scp_drbg.c - NIST PQC AES-256 CTR_DRBG (rng.c semantics), for KATs only.
 *
 * See ../shared/kat/README.md: V is a 128-bit big-endian counter, every
 * randombytes call ends with one Update(no data).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "mamori/mm_core.h"
#include "mamori/mm_scloudplus.h"

static void drbg_inc_v(uint8_t v[16])
{
    for (int i = 15; i >= 0; i--) {
        if (++v[i] != 0)
            break;
    }
}

static int drbg_aes256(const uint8_t key[32], const uint8_t in[16], uint8_t out[16])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    int ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_ecb(), NULL, key, NULL) == 1 &&
             EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
             EVP_EncryptUpdate(ctx, out, &len, in, 16) == 1 && len == 16;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : MM_ECRYPTO;
}

static int drbg_update(mm_kat_drbg *d, const uint8_t *data48)
{
    uint8_t tmp[48];
    for (int i = 0; i < 3; i++) {
        drbg_inc_v(d->v);
        MM_GUARD(drbg_aes256(d->key, d->v, tmp + 16 * i));
    }
    for (int i = 0; data48 && i < 48; i++)
        tmp[i] ^= data48[i];
    memcpy(d->key, tmp, 32);
    memcpy(d->v, tmp + 32, 16);
    OPENSSL_cleanse(tmp, sizeof tmp);
    return 0;
}

void mm_kat_drbg_init(mm_kat_drbg *d, const uint8_t entropy[48])
{
    memset(d, 0, sizeof *d);
    (void)drbg_update(d, entropy);
}

int mm_kat_drbg_bytes(mm_kat_drbg *d, uint8_t *out, size_t len)
{
    MM_ENSURE(d && (out || len == 0), MM_EINVAL);
    uint8_t block[16];
    while (len > 0) {
        drbg_inc_v(d->v);
        MM_GUARD(drbg_aes256(d->key, d->v, block));
        size_t take = len < 16 ? len : 16;
        memcpy(out, block, take);
        out += take;
        len -= take;
    }
    OPENSSL_cleanse(block, sizeof block);
    return drbg_update(d, NULL);
}

int mm_scloudplus_kat_derive(enum mm_scloudplus_level level,
                             enum mm_scloudplus_variant variant, const uint8_t seed[48],
                             uint8_t *pk, uint8_t *sk, uint8_t *ct, uint8_t *ss)
{
    const mm_scloudplus_info *info = mm_scloudplus_info_get(level);
    MM_ENSURE(info && seed && pk && sk && ct && ss, MM_EINVAL);
    mm_kat_drbg d;
    uint8_t z[32], alpha[32], m[MM_SCLOUDPLUS_MAX_SS_BYTES];
    mm_kat_drbg_init(&d, seed);
    int rc = mm_kat_drbg_bytes(&d, z, 32);
    if (rc == 0)
        rc = mm_kat_drbg_bytes(&d, alpha, 32);
    if (rc == 0)
        rc = mm_scloudplus_keypair_derand(level, pk, sk, z, alpha);
    if (rc == 0)
        rc = mm_kat_drbg_bytes(&d, m, info->ss_bytes);
    if (rc == 0)
        rc = mm_scloudplus_encaps_derand(level, variant, ct, ss, pk, m);
    OPENSSL_cleanse(&d, sizeof d);
    OPENSSL_cleanse(z, sizeof z);
    OPENSSL_cleanse(alpha, sizeof alpha);
    OPENSSL_cleanse(m, sizeof m);
    return rc;
}
