/*
 * sp_keymgmt.c - KEYMGMT for the scloudplus groups.
 *
 * A key holds the encoded public key (ECDH public || Scloud+ pk) and, for our
 * own key pair, the ECDH private key and the Scloud+ secret key. libssl uses:
 *   client: keygen (group name set), get ENCODED_PUBLIC_KEY -> key_share;
 *   server: paramgen (empty key), set ENCODED_PUBLIC_KEY from the key_share
 *           (a failure here is what makes libssl send illegal_parameter).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include "sp_prov.h"

sp_key *sp_key_new(sp_provctx *pc, const sp_group *grp)
{
    sp_key *k = OPENSSL_zalloc(sizeof(*k));

    if (k == NULL)
        return NULL;
    k->pc = pc;
    k->grp = grp;
    k->pub = OPENSSL_zalloc(sp_group_pub_len(grp));
    if (k->pub == NULL) {
        OPENSSL_free(k);
        return NULL;
    }
    return k;
}

static void key_clear_private(sp_key *k)
{
    if (k->kem_sk != NULL)
        OPENSSL_secure_clear_free(k->kem_sk, sp_group_kem(k->grp)->sk_bytes);
    k->kem_sk = NULL;
    EVP_PKEY_free(k->ec);
    k->ec = NULL;
}

void sp_key_free(sp_key *k)
{
    if (k == NULL)
        return;
    key_clear_private(k);
    OPENSSL_free(k->pub);
    OPENSSL_free(k);
}

int sp_key_set_encoded_pub(sp_key *k, const uint8_t *in, size_t len)
{
    size_t ec_len = sp_ec_pub_len(k->grp->ec);
    EVP_PKEY *peer = NULL;

    /* Fixed length per group; the only check possible on the Scloud+ part. */
    if (len != sp_group_pub_len(k->grp))
        return 0;
    if (k->grp->ec != SP_EC_NONE && !sp_ec_parse(k->pc->libctx, k->grp->ec, in, ec_len, &peer))
        return 0;
    key_clear_private(k);
    k->ec = peer;
    memcpy(k->pub, in, len);
    k->has_pub = 1;
    return 1;
}

static int key_generate(sp_key *k)
{
    size_t ec_len = sp_ec_pub_len(k->grp->ec);
    const mm_scloudplus_info *kem = sp_group_kem(k->grp);

    k->kem_sk = OPENSSL_secure_zalloc(kem->sk_bytes);
    if (k->kem_sk == NULL)
        return 0;
    if (k->grp->ec != SP_EC_NONE && !sp_ec_keygen(k->pc->libctx, k->grp->ec, &k->ec, k->pub))
        return 0;
    if (mm_scloudplus_keypair_ex(k->pc->libctx, k->grp->level, k->pub + ec_len, k->kem_sk) < 0)
        return 0;
    k->has_pub = 1;
    return 1;
}

/* ------------------------------------------------------------ generation */

typedef struct sp_genctx {
    sp_provctx *pc;
    const sp_group *grp;
    int selection;
} sp_genctx;

static void *gen_init(sp_provctx *pc, const sp_group *grp, int selection)
{
    sp_genctx *g = OPENSSL_zalloc(sizeof(*g));

    if (g == NULL)
        return NULL;
    g->pc = pc;
    g->grp = grp;
    g->selection = selection;
    return g;
}

static int km_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
    sp_genctx *g = genctx;
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_GROUP_NAME);
    const char *name = NULL;

    /* libssl sets the group's internal name; anything else is a mix-up. */
    if (p != NULL) {
        if (!OSSL_PARAM_get_utf8_string_ptr(p, &name) || sp_group_by_name(name) != g->grp)
            return 0;
    }
    return 1;
}

static const OSSL_PARAM *km_gen_settable_params(void *genctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        OSSL_PARAM_END,
    };
    return settable;
}

static void *km_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg)
{
    sp_genctx *g = genctx;
    sp_key *k = sp_key_new(g->pc, g->grp);

    if (k == NULL)
        return NULL;
    /* Domain parameters only (libssl's paramgen on the server): an empty key. */
    if ((g->selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
        return k;
    if (!key_generate(k)) {
        sp_key_free(k);
        return NULL;
    }
    return k;
}

static void km_gen_cleanup(void *genctx)
{
    OPENSSL_free(genctx);
}

/* ------------------------------------------------------------ key objects */

static void km_free(void *key)
{
    sp_key_free(key);
}

static int km_has(const void *keydata, int selection)
{
    const sp_key *k = keydata;

    if (k == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0 && !k->has_pub)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && k->kem_sk == NULL)
        return 0;
    return 1;
}

static int km_match(const void *a, const void *b, int selection)
{
    const sp_key *k1 = a, *k2 = b;

    if (k1->grp != k2->grp)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
        return 1;
    return k1->has_pub && k2->has_pub &&
           CRYPTO_memcmp(k1->pub, k2->pub, sp_group_pub_len(k1->grp)) == 0;
}

static void *km_dup(const void *keydata, int selection)
{
    const sp_key *src = keydata;
    sp_key *k = sp_key_new(src->pc, src->grp);
    size_t sk_len = sp_group_kem(src->grp)->sk_bytes;

    if (k == NULL)
        return NULL;
    if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0 && src->has_pub) {
        memcpy(k->pub, src->pub, sp_group_pub_len(src->grp));
        k->has_pub = 1;
    }
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && src->kem_sk != NULL) {
        k->kem_sk = OPENSSL_secure_malloc(sk_len);
        if (k->kem_sk == NULL)
            goto err;
        memcpy(k->kem_sk, src->kem_sk, sk_len);
    }
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0 && src->ec != NULL) {
        if (!EVP_PKEY_up_ref(src->ec))
            goto err;
        k->ec = src->ec;
    }
    return k;
err:
    sp_key_free(k);
    return NULL;
}

static int km_get_params(void *keydata, OSSL_PARAM params[])
{
    sp_key *k = keydata;
    OSSL_PARAM *p;

    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_BITS)) != NULL &&
        !OSSL_PARAM_set_int(p, (int)(2 * k->grp->secbits)))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_SECURITY_BITS)) != NULL &&
        !OSSL_PARAM_set_int(p, (int)k->grp->secbits))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MAX_SIZE)) != NULL &&
        !OSSL_PARAM_set_int(p, (int)sp_group_ct_len(k->grp)))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY)) != NULL) {
        if (!k->has_pub ||
            !OSSL_PARAM_set_octet_string(p, k->pub, sp_group_pub_len(k->grp)))
            return 0;
    }
    return 1;
}

static const OSSL_PARAM *km_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
        OSSL_PARAM_END,
    };
    return gettable;
}

static int km_set_params(void *keydata, const OSSL_PARAM params[])
{
    sp_key *k = keydata;
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
    const void *buf = NULL;
    size_t len = 0;

    if (p == NULL)
        return 1;
    if (!OSSL_PARAM_get_octet_string_ptr(p, &buf, &len))
        return 0;
    return sp_key_set_encoded_pub(k, buf, len);
}

static const OSSL_PARAM *km_settable_params(void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
        OSSL_PARAM_END,
    };
    return settable;
}

/* ------------------------------------------------------------ per-group tables */

/* KEYMGMT new/gen_init carry no algorithm, so each row gets two thin wrappers. */
#define SP_KEYMGMT(i)                                                                      \
    static void *km_new_##i(void *provctx)                                                 \
    {                                                                                      \
        return sp_key_new(provctx, &sp_groups[i]);                                         \
    }                                                                                      \
    static void *km_gen_init_##i(void *provctx, int selection, const OSSL_PARAM params[])  \
    {                                                                                      \
        void *g = gen_init(provctx, &sp_groups[i], selection);                             \
        if (g != NULL && !km_gen_set_params(g, params)) {                                  \
            km_gen_cleanup(g);                                                             \
            return NULL;                                                                   \
        }                                                                                  \
        return g;                                                                          \
    }                                                                                      \
    static const OSSL_DISPATCH km_dispatch_##i[] = {                                       \
        {OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))km_new_##i},                               \
        {OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))km_free},                                 \
        {OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))km_dup},                                   \
        {OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))km_has},                                   \
        {OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))km_match},                               \
        {OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))km_get_params},                     \
        {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))km_gettable_params},           \
        {OSSL_FUNC_KEYMGMT_SET_PARAMS, (void (*)(void))km_set_params},                     \
        {OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))km_settable_params},           \
        {OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))km_gen_init_##i},                     \
        {OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))km_gen_set_params},             \
        {OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))km_gen_settable_params},   \
        {OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))km_gen},                                   \
        {OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))km_gen_cleanup},                   \
        {0, NULL},                                                                         \
    };

SP_KEYMGMT(0)
SP_KEYMGMT(1)
SP_KEYMGMT(2)
SP_KEYMGMT(3)
SP_KEYMGMT(4)
SP_KEYMGMT(5)

#define SP_PROPS "provider=" SP_PROVIDER_NAME

const OSSL_ALGORITHM sp_keymgmt_algs[SP_NGROUPS + 1] = {
    {"x25519_scloudplus128", SP_PROPS, km_dispatch_0, "X25519SCloud+128 hybrid (provisional)"},
    {"p256_scloudplus192", SP_PROPS, km_dispatch_1, "SecP256r1SCloud+192 hybrid (provisional)"},
    {"p384_scloudplus256", SP_PROPS, km_dispatch_2, "SecP384r1SCloud+256 hybrid (provisional)"},
    {"scloudplus128", SP_PROPS, km_dispatch_3, "Scloud+-128 KEM"},
    {"scloudplus192", SP_PROPS, km_dispatch_4, "Scloud+-192 KEM"},
    {"scloudplus256", SP_PROPS, km_dispatch_5, "Scloud+-256 KEM"},
    {NULL, NULL, NULL, NULL},
};
