/*
 * sp_prov.c - provider entry, query and parameters of the scloudplus provider.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include "sp_prov.h"

#define SP_VERSION "0.1.0"

static void sp_teardown(void *provctx)
{
    sp_provctx *pc = provctx;

    if (pc == NULL)
        return;
    OSSL_LIB_CTX_free(pc->libctx);
    OPENSSL_free(pc);
}

static const OSSL_ALGORITHM *sp_query(void *provctx, int operation_id, int *no_cache)
{
    *no_cache = 0;
    switch (operation_id) {
    case OSSL_OP_KEYMGMT:
        return sp_keymgmt_algs;
    case OSSL_OP_KEM:
        return sp_kem_algs;
    default:
        return NULL;
    }
}

static const OSSL_PARAM *sp_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_NAME, NULL, 0),
        OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_VERSION, NULL, 0),
        OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_BUILDINFO, NULL, 0),
        OSSL_PARAM_int(OSSL_PROV_PARAM_STATUS, NULL),
        OSSL_PARAM_END,
    };
    return gettable;
}

static int sp_get_params(void *provctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p;

    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME)) != NULL &&
        !OSSL_PARAM_set_utf8_ptr(p, "mamori scloudplus provider"))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION)) != NULL &&
        !OSSL_PARAM_set_utf8_ptr(p, SP_VERSION))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO)) != NULL &&
        !OSSL_PARAM_set_utf8_ptr(p, "Scloud+ kernel: runtime-selected; codepoints provisional"))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS)) != NULL &&
        !OSSL_PARAM_set_int(p, 1))
        return 0;
    return 1;
}

static const OSSL_DISPATCH sp_dispatch[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))sp_teardown},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))sp_query},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))sp_gettable_params},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))sp_get_params},
    {OSSL_FUNC_PROVIDER_GET_CAPABILITIES, (void (*)(void))sp_get_capabilities},
    {0, NULL},
};

/* The algorithm tables must list the group table's rows in its order. */
static int algs_match_groups(void)
{
    for (size_t i = 0; i < SP_NGROUPS; i++) {
        if (strcmp(sp_keymgmt_algs[i].algorithm_names, sp_groups[i].alg) != 0 ||
            strcmp(sp_kem_algs[i].algorithm_names, sp_groups[i].alg) != 0)
            return 0;
    }
    return 1;
}

int mm_scloudplus_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                                const OSSL_DISPATCH **out, void **provctx)
{
    sp_provctx *pc = NULL;

    if (!algs_match_groups())
        return 0;
    pc = OPENSSL_zalloc(sizeof(*pc));
    if (pc == NULL)
        return 0;
    pc->handle = handle;
    if (!sp_config_load(pc, in))
        goto err;
    /*
     * A child library context sees the providers of the library context that
     * loaded us (normally "default"), which supply X25519 and EC.
     */
    pc->libctx = OSSL_LIB_CTX_new_child(handle, in);
    if (pc->libctx == NULL)
        goto err;
    sp_capabilities_build(pc);
    *out = sp_dispatch;
    *provctx = pc;
    return 1;
err:
    sp_teardown(pc);
    return 0;
}
