/*
 * sp_prov.c - provider entry, query and parameters of the scloudplus provider.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
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
    sp_provctx *pc = provctx;

    *no_cache = 0;
    if (sp_is_poisoned(pc)) {
        sp_raise_config_error(pc, "sp_query");
        return NULL;
    }
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
        !OSSL_PARAM_set_int(p, sp_is_poisoned(provctx) ? 0 : 1))
        return 0;
    return 1;
}

/* One reason: the configuration error, text = cfg_error (filled in by init
 * or by a later clash check; the core keeps the pointer). */
static const OSSL_ITEM *sp_get_reason_strings(void *provctx)
{
    sp_provctx *pc = provctx;

    pc->reasons[0].id = SP_R_CONFIG;
    pc->reasons[0].ptr = pc->cfg_error;
    pc->reasons[1].id = 0;
    pc->reasons[1].ptr = NULL;
    return pc->reasons;
}

static void sp_set_error(sp_provctx *pc, const char *func, ...)
{
    va_list ap;

    va_start(ap, func);
    pc->core_vset_error(pc->handle, SP_R_CONFIG, NULL, ap);
    va_end(ap);
}

void sp_raise_config_error(sp_provctx *pc, const char *func)
{
    if (pc->core_new_error == NULL || pc->core_set_error_debug == NULL ||
        pc->core_vset_error == NULL) {
        ERR_raise_data(ERR_LIB_PROV, ERR_R_PASSED_INVALID_ARGUMENT,
                       "scloudplus provider unusable: %s", pc->cfg_error);
        return;
    }
    pc->core_new_error(pc->handle);
    pc->core_set_error_debug(pc->handle, OPENSSL_FILE, OPENSSL_LINE, func);
    sp_set_error(pc, func);
}

static const OSSL_DISPATCH sp_dispatch[] = {
    {OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*)(void))sp_get_reason_strings},
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

static int provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                         const OSSL_DISPATCH **out, void **provctx, int poison)
{
    sp_provctx *pc = NULL;
    int cfg_ok;

    if (!algs_match_groups())
        return 0;
    pc = OPENSSL_zalloc(sizeof(*pc));
    if (pc == NULL)
        return 0;
    pc->handle = handle;
    for (const OSSL_DISPATCH *d = in; d != NULL && d->function_id != 0; d++) {
        switch (d->function_id) {
        case OSSL_FUNC_CORE_NEW_ERROR:
            pc->core_new_error = OSSL_FUNC_core_new_error(d);
            break;
        case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
            pc->core_set_error_debug = OSSL_FUNC_core_set_error_debug(d);
            break;
        case OSSL_FUNC_CORE_VSET_ERROR:
            pc->core_vset_error = OSSL_FUNC_core_vset_error(d);
            break;
        }
    }
    cfg_ok = sp_config_load(pc, in);
    if (!cfg_ok && !poison)
        goto err;
    /*
     * A child library context sees the providers of the library context that
     * loaded us (normally "default"), which supply X25519 and EC.
     */
    pc->libctx = OSSL_LIB_CTX_new_child(handle, in);
    if (pc->libctx == NULL)
        goto err;
    if (cfg_ok && !sp_config_check_providers(pc)) {
        cfg_ok = 0;
        if (!poison)
            goto err;
    }
    pc->poisoned = !cfg_ok;
    sp_capabilities_build(pc);
    *out = sp_dispatch;
    *provctx = pc;
    return 1;
err:
    sp_teardown(pc);
    return 0;
}

int mm_scloudplus_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                                const OSSL_DISPATCH **out, void **provctx)
{
    return provider_init(handle, in, out, provctx, 0);
}

/*
 * OpenSSL 3.0 treats a provider whose init fails during config loading as a
 * "non-fatal activation failure" and pops its errors: the application then
 * runs without the hybrids and says nothing. So the .so loads anyway, in the
 * poisoned state: every query and the TLS-GROUP capability fail with the
 * configuration error, which makes SSL_CTX_new fail and the application
 * print it.
 */
int mm_scloudplus_provider_init_module(const OSSL_CORE_HANDLE *handle,
                                       const OSSL_DISPATCH *in, const OSSL_DISPATCH **out,
                                       void **provctx)
{
    return provider_init(handle, in, out, provctx, 1);
}
