/*
 * sp_module.c - the loadable module entry of scloudplus.so.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <openssl/core.h>

#include "sp_prov.h"

/* The module is built with hidden visibility; this is its one exported symbol. */
__attribute__((visibility("default"))) int
OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                   const OSSL_DISPATCH **out, void **provctx)
{
    return mm_scloudplus_provider_init_module(handle, in, out, provctx);
}
