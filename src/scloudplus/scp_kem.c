/*
 * scp_kem.c - the Scloud+ KEM: FO transform with implicit rejection (§10)
 * and the public API of mm_scloudplus.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "mamori/mm_core.h"
#include "scp_ct.h"
#include "scp_internal.h"

/* sk = pke_sk || pk || H(pk) || z (§8.2) */
#define SK_PK(p, sk) ((sk) + (p)->pke_sk_bytes)
#define SK_H(p, sk) (SK_PK(p, sk) + (p)->info.pk_bytes)
#define SK_Z(p, sk) (SK_H(p, sk) + 32)

static const scp_params *scp_level_check(enum mm_scloudplus_level level)
{
    return scp_params_get(level);
}

int mm_scloudplus_keypair_derand(enum mm_scloudplus_level level, uint8_t *pk, uint8_t *sk,
                                 const uint8_t z[32], const uint8_t alpha[32])
{
    const scp_params *p = scp_level_check(level);
    MM_ENSURE(p && pk && sk && z && alpha, MM_EINVAL);
    MM_GUARD(scp_pke_keygen(p, pk, sk, alpha));
    memcpy(SK_PK(p, sk), pk, p->info.pk_bytes);
    MM_GUARD(scp_sha3_256(SK_H(p, sk), pk, p->info.pk_bytes));
    memcpy(SK_Z(p, sk), z, 32);
    return 0;
}

int mm_scloudplus_keypair(enum mm_scloudplus_level level, uint8_t *pk, uint8_t *sk)
{
    return mm_scloudplus_keypair_ex(NULL, level, pk, sk);
}

int mm_scloudplus_keypair_ex(OSSL_LIB_CTX *libctx, enum mm_scloudplus_level level, uint8_t *pk,
                             uint8_t *sk)
{
    uint8_t z[32], alpha[32];
    MM_ENSURE(scp_level_check(level) && pk && sk, MM_EINVAL);
    /* two separate draws, z first (§10): keeps KAT-style RNGs reproducible */
    int rc = RAND_bytes_ex(libctx, z, 32, 0) == 1 && RAND_bytes_ex(libctx, alpha, 32, 0) == 1
                 ? 0
                 : MM_ECRYPTO;
    if (rc == 0)
        rc = mm_scloudplus_keypair_derand(level, pk, sk, z, alpha);
    OPENSSL_cleanse(z, sizeof z);
    OPENSSL_cleanse(alpha, sizeof alpha);
    return rc;
}

/* ct = Enc(pk, m; r), ss = K(k || ct) with r || k = G(m || h) */
static int scp_encaps_core(const scp_params *p, enum mm_scloudplus_variant v, uint8_t *ct,
                           uint8_t rk[64], const uint8_t *pk, const uint8_t h[32],
                           const uint8_t *m)
{
    MM_GUARD(scp_sha3_512_2(rk, m, p->info.ss_bytes, h, 32));
    return scp_pke_enc(p, v, ct, pk, m, rk);
}

int mm_scloudplus_encaps_derand(enum mm_scloudplus_level level,
                                enum mm_scloudplus_variant variant, uint8_t *ct, uint8_t *ss,
                                const uint8_t *pk, const uint8_t *m)
{
    const scp_params *p = scp_level_check(level);
    MM_ENSURE(p && ct && ss && pk && m && (unsigned)variant < 2, MM_EINVAL);
    uint8_t h[32], rk[64];
    int rc = scp_sha3_256(h, pk, p->info.pk_bytes);
    if (rc == 0)
        rc = scp_encaps_core(p, variant, ct, rk, pk, h, m);
    if (rc == 0)
        rc = scp_shake256_2(ss, p->info.ss_bytes, rk + 32, 32, ct, p->info.ct_bytes);
    OPENSSL_cleanse(rk, sizeof rk);
    return rc;
}

int mm_scloudplus_encaps(enum mm_scloudplus_level level, enum mm_scloudplus_variant variant,
                         uint8_t *ct, uint8_t *ss, const uint8_t *pk)
{
    return mm_scloudplus_encaps_ex(NULL, level, variant, ct, ss, pk);
}

int mm_scloudplus_encaps_ex(OSSL_LIB_CTX *libctx, enum mm_scloudplus_level level,
                            enum mm_scloudplus_variant variant, uint8_t *ct, uint8_t *ss,
                            const uint8_t *pk)
{
    const scp_params *p = scp_level_check(level);
    MM_ENSURE(p && ct && ss && pk && (unsigned)variant < 2, MM_EINVAL);
    uint8_t m[MM_SCLOUDPLUS_MAX_SS_BYTES];
    int rc = RAND_bytes_ex(libctx, m, p->info.ss_bytes, 0) == 1 ? 0 : MM_ECRYPTO;
    if (rc == 0)
        rc = mm_scloudplus_encaps_derand(level, variant, ct, ss, pk, m);
    OPENSSL_cleanse(m, sizeof m);
    return rc;
}

int mm_scloudplus_decaps(enum mm_scloudplus_level level, enum mm_scloudplus_variant variant,
                         uint8_t *ss, const uint8_t *ct, const uint8_t *sk)
{
    const scp_params *p = scp_level_check(level);
    MM_ENSURE(p && ss && ct && sk && (unsigned)variant < 2, MM_EINVAL);
    uint8_t ct2[MM_SCLOUDPLUS_MAX_CT_BYTES];
    uint8_t m[MM_SCLOUDPLUS_MAX_SS_BYTES], rk[64], kbar[32];
    int rc = scp_pke_dec(p, m, sk, ct);
    if (rc == 0)
        rc = scp_encaps_core(p, variant, ct2, rk, SK_PK(p, sk), SK_H(p, sk), m);
    if (rc == 0) {
        /* implicit rejection: kbar = k' if ct' == ct else z, without a branch */
        uint64_t bad = scp_ct_nz64((uint64_t)(unsigned)CRYPTO_memcmp(ct, ct2,
                                                                      p->info.ct_bytes));
        const uint8_t *z = SK_Z(p, sk);
        for (size_t i = 0; i < 32; i++)
            kbar[i] = (uint8_t)((rk[32 + i] & ~bad) | (z[i] & bad));
        rc = scp_shake256_2(ss, p->info.ss_bytes, kbar, 32, ct, p->info.ct_bytes);
    }
    OPENSSL_cleanse(m, sizeof m);
    OPENSSL_cleanse(rk, sizeof rk);
    OPENSSL_cleanse(kbar, sizeof kbar);
    OPENSSL_cleanse(ct2, p->info.ct_bytes);
    return rc;
}

/* ---------------------------------------------------- length-checked forms */

int mm_scloudplus_keypair_buf(enum mm_scloudplus_level level, uint8_t *pk, size_t pk_len,
                              uint8_t *sk, size_t sk_len)
{
    const scp_params *p = scp_level_check(level);
    MM_ENSURE(p && pk_len == p->info.pk_bytes && sk_len == p->info.sk_bytes, MM_EINVAL);
    return mm_scloudplus_keypair(level, pk, sk);
}

int mm_scloudplus_encaps_buf(enum mm_scloudplus_level level,
                             enum mm_scloudplus_variant variant, uint8_t *ct, size_t ct_len,
                             uint8_t *ss, size_t ss_len, const uint8_t *pk, size_t pk_len)
{
    const scp_params *p = scp_level_check(level);
    MM_ENSURE(p && ct_len == p->info.ct_bytes && ss_len == p->info.ss_bytes &&
                  pk_len == p->info.pk_bytes,
              MM_EINVAL);
    return mm_scloudplus_encaps(level, variant, ct, ss, pk);
}

int mm_scloudplus_decaps_buf(enum mm_scloudplus_level level,
                             enum mm_scloudplus_variant variant, uint8_t *ss, size_t ss_len,
                             const uint8_t *ct, size_t ct_len, const uint8_t *sk,
                             size_t sk_len)
{
    const scp_params *p = scp_level_check(level);
    MM_ENSURE(p && ss_len == p->info.ss_bytes && ct_len == p->info.ct_bytes &&
                  sk_len == p->info.sk_bytes,
              MM_EINVAL);
    return mm_scloudplus_decaps(level, variant, ss, ct, sk);
}
