/*
 * sp_ecdh.c - the ECDHE half of a hybrid group, done through libcrypto in the
 * provider's (child) library context, i.e. by the default provider.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "sp_prov.h"

static const struct {
    const char *keytype; /* EVP key type */
    const char *curve;   /* EC group name, NULL for X25519 */
    size_t pub_len, ss_len;
} ec_info[] = {
    [SP_EC_NONE] = {NULL, NULL, 0, 0},
    [SP_EC_X25519] = {"X25519", NULL, 32, 32},
    [SP_EC_P256] = {"EC", "P-256", 65, 32},
    [SP_EC_P384] = {"EC", "P-384", 97, 48},
};

size_t sp_ec_pub_len(enum sp_ec ec)
{
    return ec_info[ec].pub_len;
}

size_t sp_ec_ss_len(enum sp_ec ec)
{
    return ec_info[ec].ss_len;
}

int sp_ec_keygen(OSSL_LIB_CTX *libctx, enum sp_ec ec, EVP_PKEY **key, uint8_t *pub)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(libctx, ec_info[ec].keytype, NULL);
    size_t len = 0;
    int ok = 0;

    *key = NULL;
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0)
        goto done;
    if (ec_info[ec].curve != NULL && EVP_PKEY_CTX_set_group_name(ctx, ec_info[ec].curve) <= 0)
        goto done;
    if (EVP_PKEY_keygen(ctx, key) <= 0)
        goto done;
    /* X25519: the raw 32 bytes; EC: the uncompressed point (the default format). */
    if (!EVP_PKEY_get_octet_string_param(*key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
                                         ec_info[ec].pub_len, &len) ||
        len != ec_info[ec].pub_len)
        goto done;
    ok = 1;
done:
    if (!ok) {
        EVP_PKEY_free(*key);
        *key = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static int parse_ec_point(OSSL_LIB_CTX *libctx, enum sp_ec ec, const uint8_t *pub, size_t len,
                          EVP_PKEY **key)
{
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY_CTX *chk = NULL;
    OSSL_PARAM params[3];
    int ok = 0;

    /* RFC 8446 4.2.8.2: UncompressedPointRepresentation only. */
    if (len != ec_info[ec].pub_len || pub[0] != 0x04)
        return 0;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)ec_info[ec].curve, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, len);
    params[2] = OSSL_PARAM_construct_end();
    ctx = EVP_PKEY_CTX_new_from_name(libctx, "EC", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        goto done;
    /* Decoding already rejects points off the curve; say so explicitly anyway. */
    chk = EVP_PKEY_CTX_new_from_pkey(libctx, *key, NULL);
    if (chk == NULL || EVP_PKEY_public_check_quick(chk) <= 0)
        goto done;
    ok = 1;
done:
    if (!ok) {
        EVP_PKEY_free(*key);
        *key = NULL;
    }
    EVP_PKEY_CTX_free(chk);
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

int sp_ec_parse(OSSL_LIB_CTX *libctx, enum sp_ec ec, const uint8_t *pub, size_t len,
                EVP_PKEY **key)
{
    *key = NULL;
    switch (ec) {
    case SP_EC_X25519:
        if (len != ec_info[ec].pub_len)
            return 0;
        *key = EVP_PKEY_new_raw_public_key_ex(libctx, "X25519", NULL, pub, len);
        return *key != NULL;
    case SP_EC_P256:
    case SP_EC_P384:
        return parse_ec_point(libctx, ec, pub, len, key);
    case SP_EC_NONE:
        break;
    }
    return 0;
}

int sp_ec_derive(OSSL_LIB_CTX *libctx, enum sp_ec ec, EVP_PKEY *priv, EVP_PKEY *peer,
                 uint8_t *ss)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(libctx, priv, NULL);
    size_t len = ec_info[ec].ss_len;
    int ok = 0;

    /* The peer was validated by sp_ec_parse; X25519 derive refuses an all-zero result. */
    if (ctx != NULL && EVP_PKEY_derive_init(ctx) > 0 &&
        EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) > 0 && EVP_PKEY_derive(ctx, ss, &len) > 0 &&
        len == ec_info[ec].ss_len)
        ok = 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}
