/*
 * gen_kem_seeds.c - writes valid seeds for the KEM fuzzers into the corpus
 * directories: for every level and variant a valid public key
 * (scloudplus_encaps), a valid secret key + ciphertext pair
 * (scloudplus_decaps), and for every TLS group a valid client share and a
 * valid-length server share (tls_keyshare), including the 18 857-byte
 * SecP384r1SCloud+256 client share. Deterministic for the KEM seeds (fixed
 * z/alpha/m); the TLS shares use fresh keys.
 *
 * usage: gen-kem-seeds CORPUS_DIR   (tests/fuzz/corpus)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mamori/mm_scloudplus.h"
#include "mamori/mm_tls.h"
#include "sp_prov.h"

static void put(const char *dir, const char *target, const char *name, const uint8_t *a,
                size_t alen, const uint8_t *b, size_t blen, const uint8_t *c, size_t clen)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen) ||
        (clen && fwrite(c, 1, clen, f) != clen) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    printf("%s %zu bytes\n", path, alen + blen + clen);
}

int main(int argc, char **argv)
{
    static uint8_t pk[MM_SCLOUDPLUS_MAX_PK_BYTES], sk[MM_SCLOUDPLUS_MAX_SK_BYTES];
    static uint8_t ct[MM_SCLOUDPLUS_MAX_CT_BYTES], buf[40000];
    uint8_t z[32], alpha[32], m[32], ss[32];
    OSSL_LIB_CTX *libctx;
    char name[64];

    if (argc != 2)
        return fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]), 2;
    for (int v = 0; v < 2; v++) {
        for (int lv = 0; lv < 3; lv++) {
            const mm_scloudplus_info *i = mm_scloudplus_info_get((enum mm_scloudplus_level)lv);
            uint8_t sel = (uint8_t)(lv | (v << 2));

            memset(z, 0x11 + lv, sizeof z);
            memset(alpha, 0x22 + lv, sizeof alpha);
            memset(m, 0x33 + lv, sizeof m);
            if (mm_scloudplus_keypair_derand(i->level, pk, sk, z, alpha) != 0 ||
                mm_scloudplus_encaps_derand(i->level, (enum mm_scloudplus_variant)v, ct, ss, pk,
                                            m) != 0)
                return fprintf(stderr, "kem failed\n"), 1;
            snprintf(name, sizeof name, "level%d-%s-valid-seed", 128 + 64 * lv,
                     v ? "openhitls" : "reference");
            put(argv[1], "scloudplus_encaps", name, &sel, 1, pk, i->pk_bytes, NULL, 0);
            put(argv[1], "scloudplus_decaps", name, &sel, 1, sk, i->sk_bytes, ct, i->ct_bytes);
        }
    }
    libctx = mm_tls_libctx();
    if (libctx == NULL)
        return fprintf(stderr, "no library context\n"), 1;
    for (size_t gi = 0; gi < SP_NGROUPS; gi++) {
        const sp_group *g = &sp_groups[gi];
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(libctx, g->alg, NULL);
        EVP_PKEY *key = NULL;
        size_t n = 0, ctlen = sizeof(buf) - 2, sslen = 128;
        uint8_t hdr[2] = {(uint8_t)gi, 0}, sec[128];
        uint8_t *pub = NULL;

        if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &key) != 1)
            return fprintf(stderr, "%s: keygen failed\n", g->alg), 1;
        EVP_PKEY_CTX_free(ctx);
        if ( (n = EVP_PKEY_get1_encoded_public_key(key, &pub)) != sp_group_pub_len(g))
            return fprintf(stderr, "%s: keygen failed\n", g->alg), 1;
        snprintf(name, sizeof name, "%s-client-share-valid", g->alg);
        put(argv[1], "tls_keyshare", name, hdr, 2, pub, n, NULL, 0);
        /* a server share of the right length (encapsulated to this key) */
        ctx = EVP_PKEY_CTX_new_from_pkey(libctx, key, NULL);
        if (ctx == NULL || EVP_PKEY_encapsulate_init(ctx, NULL) != 1 ||
            EVP_PKEY_encapsulate(ctx, buf, &ctlen, sec, &sslen) != 1 ||
            ctlen != sp_group_ct_len(g))
            return fprintf(stderr, "%s: encapsulation failed\n", g->alg), 1;
        hdr[1] = 1;
        snprintf(name, sizeof name, "%s-server-share-valid", g->alg);
        put(argv[1], "tls_keyshare", name, hdr, 2, buf, ctlen, NULL, 0);
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(key);
        OPENSSL_free(pub);
    }
    return 0;
}
