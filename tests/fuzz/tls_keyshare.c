/*
 * tls_keyshare - fuzz the scloudplus provider with untrusted key shares, as
 * libssl would feed them: byte 0 picks the group, byte 1 the side.
 *   side even: server: EVP_PKEY_set1_encoded_public_key(rest), then encapsulate;
 *   side odd:  client: decapsulate(rest) with a fixed key pair of the group.
 * Nothing may crash, leak or read out of bounds; wrong lengths must fail.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "mamori/mm_tls.h"
#include "sp_prov.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *keypairs[SP_NGROUPS];

static EVP_PKEY *make_key(OSSL_LIB_CTX *libctx, const char *alg, int pair)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(libctx, alg, NULL);
    EVP_PKEY *k = NULL;

    if (ctx == NULL)
        abort();
    if (pair ? EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &k) <= 0
             : EVP_PKEY_paramgen_init(ctx) <= 0 || EVP_PKEY_paramgen(ctx, &k) <= 0)
        abort();
    EVP_PKEY_CTX_free(ctx);
    return k;
}

static void server_side(OSSL_LIB_CTX *libctx, const sp_group *g, const uint8_t *d, size_t n)
{
    EVP_PKEY *peer = make_key(libctx, g->alg, 0);
    EVP_PKEY_CTX *ctx = NULL;
    unsigned char ct[20000], ss[128];
    size_t ctlen = sizeof(ct), sslen = sizeof(ss);

    if (EVP_PKEY_set1_encoded_public_key(peer, d, n) == 1) {
        if (n != sp_group_pub_len(g))
            abort(); /* a wrong length must never be accepted */
        ctx = EVP_PKEY_CTX_new_from_pkey(libctx, peer, NULL);
        if (ctx != NULL && EVP_PKEY_encapsulate_init(ctx, NULL) == 1)
            (void)EVP_PKEY_encapsulate(ctx, ct, &ctlen, ss, &sslen);
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
}

static void client_side(OSSL_LIB_CTX *libctx, size_t gi, const uint8_t *d, size_t n)
{
    EVP_PKEY_CTX *ctx;
    unsigned char ss[128];
    size_t sslen = sizeof(ss);
    int rc;

    if (keypairs[gi] == NULL)
        keypairs[gi] = make_key(libctx, sp_groups[gi].alg, 1);
    ctx = EVP_PKEY_CTX_new_from_pkey(libctx, keypairs[gi], NULL);
    if (ctx == NULL || EVP_PKEY_decapsulate_init(ctx, NULL) != 1)
        abort();
    rc = EVP_PKEY_decapsulate(ctx, ss, &sslen, d, n);
    if (rc == 1 && n != sp_group_ct_len(&sp_groups[gi]))
        abort();
    EVP_PKEY_CTX_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    OSSL_LIB_CTX *libctx = mm_tls_libctx();
    size_t gi;

    if (libctx == NULL)
        abort();
    if (size < 2)
        return 0;
    gi = data[0] % SP_NGROUPS;
    if (data[1] % 2 == 0)
        server_side(libctx, &sp_groups[gi], data + 2, size - 2);
    else
        client_side(libctx, gi, data + 2, size - 2);
    ERR_clear_error();
    return 0;
}
