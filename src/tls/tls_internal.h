/*
 * tls_internal.h - internals of src/tls.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_TLS_INTERNAL_H
#define MAMORI_TLS_INTERNAL_H

/* Hand the scloudplus options (OPENSSL_CONF section + mamori's) to the
 * built-in provider; 0 or MM_E* (logged). Before the provider is loaded. */
int mm_tls_provider_options_apply(void);

#endif
