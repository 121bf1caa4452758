/*
 * test_provider.c - the scloudplus provider through the EVP API: sizes,
 * encapsulate/decapsulate agreement, rejection of malformed public keys and
 * ciphertexts, and the TLS-GROUP capability as libssl sees it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/provider.h>

#include "sp_prov.h"
#include "testutil.h"

static int setup(void **state)
{
    *state = tu_libctx_new();
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    tu_libctx_free(*state);
    return 0;
}

/* An empty key of alg (what libssl's server makes), then the peer's encoded key. */
static EVP_PKEY *peer_key(OSSL_LIB_CTX *libctx, const char *alg, const uint8_t *pub,
                          size_t len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(libctx, alg, NULL);
    EVP_PKEY *pkey = NULL;

    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_paramgen_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_group_name(ctx, alg), 1);
    assert_int_equal(EVP_PKEY_paramgen(ctx, &pkey), 1);
    EVP_PKEY_CTX_free(ctx);
    if (EVP_PKEY_set1_encoded_public_key(pkey, pub, len) != 1) {
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        return NULL;
    }
    return pkey;
}

static void test_roundtrip(void **state)
{
    OSSL_LIB_CTX *libctx = *state;

    for (size_t i = 0; i < SP_NGROUPS; i++) {
        const sp_group *g = &sp_groups[i];
        EVP_PKEY *kp = tu_keygen(libctx, g->alg), *peer;
        EVP_PKEY_CTX *ectx, *dctx;
        unsigned char *pub = NULL, ct[20000], ss1[128], ss2[128];
        size_t publen, ctlen = sizeof(ct), ss1len = sizeof(ss1), ss2len = sizeof(ss2);

        assert_non_null(kp);
        assert_int_equal(EVP_PKEY_get_security_bits(kp), (int)g->secbits);
        publen = EVP_PKEY_get1_encoded_public_key(kp, &pub);
        assert_int_equal(publen, sp_group_pub_len(g));
        peer = peer_key(libctx, g->alg, pub, publen);
        assert_non_null(peer);

        ectx = EVP_PKEY_CTX_new_from_pkey(libctx, peer, NULL);
        assert_int_equal(EVP_PKEY_encapsulate_init(ectx, NULL), 1);
        assert_int_equal(EVP_PKEY_encapsulate(ectx, ct, &ctlen, ss1, &ss1len), 1);
        assert_int_equal(ctlen, sp_group_ct_len(g));
        assert_int_equal(ss1len, sp_group_ss_len(g));

        dctx = EVP_PKEY_CTX_new_from_pkey(libctx, kp, NULL);
        assert_int_equal(EVP_PKEY_decapsulate_init(dctx, NULL), 1);
        assert_int_equal(EVP_PKEY_decapsulate(dctx, ss2, &ss2len, ct, ctlen), 1);
        assert_int_equal(ss2len, ss1len);
        assert_memory_equal(ss1, ss2, ss1len);

        /* Wrong-length ciphertexts are refused, never decapsulated. */
        ss2len = sizeof(ss2);
        assert_int_not_equal(EVP_PKEY_decapsulate(dctx, ss2, &ss2len, ct, ctlen - 1), 1);
        ss2len = sizeof(ss2);
        assert_int_not_equal(EVP_PKEY_decapsulate(dctx, ss2, &ss2len, ct, ctlen + 1), 1);
        /* A bad EC point in the ciphertext is refused. */
        if (g->ec == SP_EC_P256 || g->ec == SP_EC_P384) {
            ct[sp_ec_pub_len(g->ec) - 1] ^= 1;
            ss2len = sizeof(ss2);
            assert_int_not_equal(EVP_PKEY_decapsulate(dctx, ss2, &ss2len, ct, ctlen), 1);
        }
        ERR_clear_error();
        EVP_PKEY_CTX_free(ectx);
        EVP_PKEY_CTX_free(dctx);
        EVP_PKEY_free(peer);
        EVP_PKEY_free(kp);
        OPENSSL_free(pub);
    }
}

static void test_set_encoded_rejects(void **state)
{
    OSSL_LIB_CTX *libctx = *state;

    for (size_t i = 0; i < SP_NGROUPS; i++) {
        const sp_group *g = &sp_groups[i];
        size_t len, ec = sp_ec_pub_len(g->ec);
        uint8_t *pub = tu_keygen_share(libctx, g->alg, &len);
        uint8_t *big = calloc(1, len + 1);
        EVP_PKEY *k;

        assert_non_null(pub);
        assert_non_null(big);
        memcpy(big, pub, len);
        assert_null(peer_key(libctx, g->alg, pub, len - 1));
        assert_null(peer_key(libctx, g->alg, big, len + 1));
        assert_null(peer_key(libctx, g->alg, pub, 1));
        if (g->ec == SP_EC_P256 || g->ec == SP_EC_P384) {
            pub[ec - 1] ^= 1; /* off the curve */
            assert_null(peer_key(libctx, g->alg, pub, len));
            pub[ec - 1] ^= 1;
            pub[0] = 0x03; /* not uncompressed */
            assert_null(peer_key(libctx, g->alg, pub, len));
            pub[0] = 0x04;
        }
        k = peer_key(libctx, g->alg, pub, len);
        assert_non_null(k); /* and the intact value still works */
        EVP_PKEY_free(k);
        free(big);
        free(pub);
    }
}

static void test_tls_groups_known(void **state)
{
    OSSL_LIB_CTX *libctx = *state;
    SSL_CTX *ctx = tu_client_ctx(libctx, NULL);

    assert_non_null(ctx);
    for (size_t i = 0; i < SP_NGROUPS; i++)
        assert_int_equal(SSL_CTX_set1_groups_list(ctx, sp_groups[i].tls_name), 1);
    assert_int_equal(SSL_CTX_set1_groups_list(ctx, "X25519SCloud+128:SecP256r1SCloud+192:"
                                                   "SecP384r1SCloud+256:X25519"), 1);
    assert_int_equal(SSL_CTX_set1_groups_list(ctx, "X25519SCloud+999"), 0);
    ERR_clear_error();
    SSL_CTX_free(ctx);
}

/* The codepoints the table promises: private use, distinct. */
static void test_codepoints(void **state)
{
    for (size_t i = 0; i < SP_NGROUPS; i++) {
        assert_int_equal(sp_groups[i].default_id & 0xFF00, 0xFE00);
        for (size_t j = i + 1; j < SP_NGROUPS; j++)
            assert_int_not_equal(sp_groups[i].default_id, sp_groups[j].default_id);
    }
    assert_int_equal(sp_group_by_name("X25519SCloud+128")->default_id, 0xFE50);
    assert_int_equal(sp_group_by_name("SecP256r1SCloud+192")->default_id, 0xFE51);
    assert_int_equal(sp_group_by_name("SecP384r1SCloud+256")->default_id, 0xFE52);
    assert_int_equal(sp_group_pub_len(sp_group_by_name("SecP384r1SCloud+256")), 18857);
    assert_int_equal(sp_group_ct_len(sp_group_by_name("SecP256r1SCloud+192")), 10897);
    assert_int_equal(sp_group_ss_len(sp_group_by_name("X25519SCloud+128")), 48);
}

/* A full handshake per group through libssl, both sides in this process. */
static void test_handshake_each_group(void **state)
{
    OSSL_LIB_CTX *libctx = *state;
    EVP_PKEY *key;
    X509 *cert;

    assert_int_equal(tu_self_signed(libctx, &key, &cert), 1);
    for (size_t i = 0; i < SP_NGROUPS; i++) {
        SSL_CTX *sctx = tu_server_ctx(libctx, key, cert, sp_groups[i].tls_name);
        SSL_CTX *cctx = tu_client_ctx(libctx, sp_groups[i].tls_name);
        SSL *c = tu_ssl_mem(cctx, 0), *s = tu_ssl_mem(sctx, 1);
        int nid;

        assert_int_equal(tu_handshake(c, s, NULL, NULL), 1);
        nid = SSL_get_negotiated_group(c);
        assert_int_equal(nid & 0xFFFF, sp_groups[i].default_id);
        assert_string_equal(SSL_group_to_name(c, nid), sp_groups[i].tls_name);
        SSL_free(c);
        SSL_free(s);
        SSL_CTX_free(cctx);
        SSL_CTX_free(sctx);
    }
    EVP_PKEY_free(key);
    X509_free(cert);
}

/* Load the built-in provider into a fresh library context with the given
 * in-process options (key, value pairs); returns the provider or NULL, with
 * the first queued error's data text in why. */
static OSSL_PROVIDER *loaded_default; /* unloaded before its context is freed */

static OSSL_PROVIDER *load_with(OSSL_LIB_CTX **lc, const char *const *kv, char *why,
                                size_t whylen)
{
    OSSL_PROVIDER *p;
    const char *data = NULL;
    int flags = 0;

    mm_scloudplus_provider_options_clear();
    for (size_t i = 0; kv[i] != NULL; i += 2)
        assert_int_equal(mm_scloudplus_provider_option_set(kv[i], kv[i + 1]), 0);
    *lc = OSSL_LIB_CTX_new();
    assert_non_null(*lc);
    loaded_default = OSSL_PROVIDER_load(*lc, "default");
    assert_non_null(loaded_default);
    assert_true(OSSL_PROVIDER_add_builtin(*lc, SP_PROVIDER_NAME, mm_scloudplus_provider_init));
    ERR_clear_error();
    p = OSSL_PROVIDER_load(*lc, SP_PROVIDER_NAME);
    why[0] = '\0';
    if (ERR_peek_error_data(&data, &flags) != 0 && data != NULL && (flags & ERR_TXT_STRING))
        snprintf(why, whylen, "%s", data);
    ERR_clear_error();
    mm_scloudplus_provider_options_clear();
    return p;
}

static int cap_id_cb(const OSSL_PARAM params[], void *arg)
{
    const OSSL_PARAM *n = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_NAME);
    const OSSL_PARAM *i = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_ID);
    const char *name = NULL;
    unsigned int id = 0;

    if (OSSL_PARAM_get_utf8_string_ptr(n, &name) && strcmp(name, "X25519SCloud+128") == 0 &&
        OSSL_PARAM_get_uint(i, &id))
        *(unsigned int *)arg = id;
    return 1;
}

/* Codepoint overrides: refused values fail the load with the reason; a good
 * one moves the group. */
static void test_codepoint_overrides(void **state)
{
    static const struct {
        const char *kv[5];
        const char *why; /* NULL: must load */
    } cases[] = {
        {{"x25519_scloudplus128_codepoint", "29", NULL}, "is the codepoint of x25519"},
        {{"x25519_scloudplus128_codepoint", "0x11EC", NULL}, "ECDHE-MLKEM hybrid"},
        {{"x25519_scloudplus128_codepoint", "257", NULL}, "FFDHE"},
        {{"x25519_scloudplus128_codepoint", "0x6399", NULL}, "outside the private-use range"},
        {{"x25519_scloudplus128_codepoint", "29", "allow_any_codepoint", "yes", NULL},
         "is the codepoint of x25519"},
        {{"scloudplus256_codepoint", "0xFE50", NULL}, "share codepoint 0xFE50"},
        {{"scloudplus256_codepoint", "0x10000", NULL}, "bad scloudplus256_codepoint"},
        {{"scloudplus256_codepoint", "-1", NULL}, "bad scloudplus256_codepoint"},
        {{"allow_any_codepoint", "perhaps", NULL}, "bad allow_any_codepoint"},
        {{"scloudplus_variant", "other", NULL}, "bad scloudplus_variant"},
        {{"x25519_scloudplus128_codepoint", "0x6399", "allow_any_codepoint", "yes", NULL}, NULL},
        {{"x25519_scloudplus128_codepoint", "0xFE60", NULL}, NULL},
    };
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        OSSL_LIB_CTX *lc = NULL;
        char why[300];
        OSSL_PROVIDER *p = load_with(&lc, cases[c].kv, why, sizeof(why));

        if (cases[c].why != NULL) {
            assert_null(p);
            if (strstr(why, cases[c].why) == NULL)
                fail_msg("case %zu: error '%s' does not say '%s'", c, why, cases[c].why);
        } else {
            unsigned int id = 0;
            unsigned long want = strtoul(cases[c].kv[1], NULL, 0);

            assert_non_null(p);
            assert_int_equal(OSSL_PROVIDER_get_capabilities(p, "TLS-GROUP", cap_id_cb, &id), 1);
            assert_int_equal(id, want);
            OSSL_PROVIDER_unload(p);
        }
        OSSL_PROVIDER_unload(loaded_default);
        OSSL_LIB_CTX_free(lc);
    }
    assert_int_equal(mm_scloudplus_provider_option_set("no_such_key", "1"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codepoints),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_set_encoded_rejects),
        cmocka_unit_test(test_tls_groups_known),
        cmocka_unit_test(test_handshake_each_group),
        cmocka_unit_test(test_codepoint_overrides),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
