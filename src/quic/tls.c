/*
 * tls.c - the TLS backend of this build and what is asked of it outside
 * conn.c. A build has one backend because the ngtcp2 crypto callbacks come
 * from one libngtcp2_crypto_<backend> (meson -Dquic_tls, docs/netconf-quic.md).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "mamori/mm_core.h"
#include "quic_internal.h"

const mm_quic_tls_backend *mm_quic_tls_default(void)
{
#if defined(MM_QUIC_TLS_OSSL)
    return &mm_quic_tls_ossl;
#else
    return &mm_quic_tls_gnutls;
#endif
}

const char *mm_quic_tls_name(void)
{
    return mm_quic_tls_default()->name;
}

bool mm_quic_tls_has_groups(void)
{
#if defined(MM_QUIC_TLS_OSSL)
    return true;
#else
    return false;
#endif
}

const char *mm_quic_conn_tls_group(const mm_quic_conn *c)
{
    if (c == NULL || c->tls == NULL || c->ep->tls->group == NULL)
        return NULL;
    return c->ep->tls->group(c->tls);
}
