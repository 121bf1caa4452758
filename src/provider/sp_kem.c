/*
 * sp_kem.c - KEM operations of the scloudplus groups.
 *
 * Hybrid encapsulation (the TLS 1.3 server, given the client's share):
 *   fresh ECDH key e; ss_ec = ECDH(e, client ECDH pub); (ct, ss_kem) = Encaps(pk)
 *   ciphertext = e.pub || ct, secret = ss_ec || ss_kem
 * Decapsulation (the client): the reverse with its own keys. The ECDH part
 * comes first in both (ASSUMPTION, see sp_groups.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include <openssl/crypto.h>

#include "sp_prov.h"

typedef struct sp_kemctx {
    sp_provctx *pc;
    sp_key *key;
} sp_kemctx;

static void *kem_newctx(void *provctx)
{
    sp_kemctx *c = OPENSSL_zalloc(sizeof(*c));

    if (c != NULL)
        c->pc = provctx;
    return c;
}

static void kem_freectx(void *vctx)
{
    OPENSSL_free(vctx);
}

static void *kem_dupctx(void *vctx)
{
    sp_kemctx *c = OPENSSL_memdup(vctx, sizeof(sp_kemctx));

    return c;
}

static int kem_encapsulate_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    sp_kemctx *c = vctx;
    sp_key *k = vkey;

    if (k == NULL || !k->has_pub)
        return 0;
    c->key = k;
    return 1;
}

static int kem_decapsulate_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    sp_kemctx *c = vctx;
    sp_key *k = vkey;

    if (k == NULL || k->kem_sk == NULL || (k->grp->ec != SP_EC_NONE && k->ec == NULL))
        return 0;
    c->key = k;
    return 1;
}

static int kem_encapsulate(void *vctx, unsigned char *out, size_t *outlen,
                           unsigned char *secret, size_t *secretlen)
{
    sp_kemctx *c = vctx;
    const sp_key *k = c->key;
    const sp_group *g = k->grp;
    size_t ec_pub = sp_ec_pub_len(g->ec), ec_ss = sp_ec_ss_len(g->ec);
    size_t ct_len = sp_group_ct_len(g), ss_len = sp_group_ss_len(g);
    EVP_PKEY *eph = NULL;
    int ok = 0;

    if (out == NULL) {
        if (outlen == NULL && secretlen == NULL)
            return 0;
        if (outlen != NULL)
            *outlen = ct_len;
        if (secretlen != NULL)
            *secretlen = ss_len;
        return 1;
    }
    if (secret == NULL || outlen == NULL || secretlen == NULL || *outlen < ct_len ||
        *secretlen < ss_len)
        return 0;
    if (g->ec != SP_EC_NONE) {
        if (!sp_ec_keygen(c->pc->libctx, g->ec, &eph, out) ||
            !sp_ec_derive(c->pc->libctx, g->ec, eph, k->ec, secret))
            goto done;
    }
    if (mm_scloudplus_encaps_ex(c->pc->libctx, g->level, c->pc->variant, out + ec_pub, secret + ec_ss,
                             k->pub + ec_pub) < 0)
        goto done;
    *outlen = ct_len;
    *secretlen = ss_len;
    ok = 1;
done:
    if (!ok)
        OPENSSL_cleanse(secret, ss_len);
    EVP_PKEY_free(eph);
    return ok;
}

static int kem_decapsulate(void *vctx, unsigned char *out, size_t *outlen,
                           const unsigned char *in, size_t inlen)
{
    sp_kemctx *c = vctx;
    const sp_key *k = c->key;
    const sp_group *g = k->grp;
    size_t ec_pub = sp_ec_pub_len(g->ec), ec_ss = sp_ec_ss_len(g->ec);
    size_t ss_len = sp_group_ss_len(g);
    EVP_PKEY *peer = NULL;
    int ok = 0;

    if (outlen == NULL)
        return 0;
    if (out == NULL) {
        *outlen = ss_len;
        return 1;
    }
    /* Never decapsulate a ciphertext of the wrong length (spec section 5). */
    if (in == NULL || inlen != sp_group_ct_len(g) || *outlen < ss_len)
        return 0;
    if (g->ec != SP_EC_NONE) {
        if (!sp_ec_parse(c->pc->libctx, g->ec, in, ec_pub, &peer) ||
            !sp_ec_derive(c->pc->libctx, g->ec, k->ec, peer, out))
            goto done;
    }
    if (mm_scloudplus_decaps(g->level, c->pc->variant, out + ec_ss, in + ec_pub, k->kem_sk) < 0)
        goto done;
    *outlen = ss_len;
    ok = 1;
done:
    if (!ok)
        OPENSSL_cleanse(out, ss_len);
    EVP_PKEY_free(peer);
    return ok;
}

static const OSSL_DISPATCH kem_dispatch[] = {
    {OSSL_FUNC_KEM_NEWCTX, (void (*)(void))kem_newctx},
    {OSSL_FUNC_KEM_FREECTX, (void (*)(void))kem_freectx},
    {OSSL_FUNC_KEM_DUPCTX, (void (*)(void))kem_dupctx},
    {OSSL_FUNC_KEM_ENCAPSULATE_INIT, (void (*)(void))kem_encapsulate_init},
    {OSSL_FUNC_KEM_ENCAPSULATE, (void (*)(void))kem_encapsulate},
    {OSSL_FUNC_KEM_DECAPSULATE_INIT, (void (*)(void))kem_decapsulate_init},
    {OSSL_FUNC_KEM_DECAPSULATE, (void (*)(void))kem_decapsulate},
    {0, NULL},
};

#define SP_PROPS "provider=" SP_PROVIDER_NAME

const OSSL_ALGORITHM sp_kem_algs[SP_NGROUPS + 1] = {
    {"x25519_scloudplus128", SP_PROPS, kem_dispatch, "X25519SCloud+128 hybrid KEM"},
    {"p256_scloudplus192", SP_PROPS, kem_dispatch, "SecP256r1SCloud+192 hybrid KEM"},
    {"p384_scloudplus256", SP_PROPS, kem_dispatch, "SecP384r1SCloud+256 hybrid KEM"},
    {"scloudplus128", SP_PROPS, kem_dispatch, "Scloud+-128 KEM"},
    {"scloudplus192", SP_PROPS, kem_dispatch, "Scloud+-192 KEM"},
    {"scloudplus256", SP_PROPS, kem_dispatch, "Scloud+-256 KEM"},
    {NULL, NULL, NULL, NULL},
};
