/*
 * test_bad_share.c - real OpenSSL 3 TLS endpoints (libssl) over memory BIOs
 * fed with hand-made or rewritten handshake messages:
 *   - a server given a hybrid key_share of the wrong length or with an
 *     invalid EC point aborts with illegal_parameter (47);
 *   - a well-formed hand-made ClientHello (the positive control) and one over
 *     16 KB (SecP384r1SCloud+256, two records) get a ServerHello;
 *   - a client given a bad ServerHello share aborts (OpenSSL 3.0 sends
 *     internal_error (80) there: ssl_decapsulate() reports every failure so).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>

#include "sp_prov.h"
#include "testutil.h"

#define ALERT_ILLEGAL_PARAMETER 47
#define ALERT_INTERNAL_ERROR 80

typedef struct fixture {
    OSSL_LIB_CTX *libctx;
    EVP_PKEY *key;
    X509 *cert;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || (f->libctx = tu_libctx_new()) == NULL ||
        !tu_self_signed(f->libctx, &f->key, &f->cert))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    EVP_PKEY_free(f->key);
    X509_free(f->cert);
    tu_libctx_free(f->libctx);
    free(f);
    return 0;
}

/*
 * Feed a hand-made ClientHello carrying share for group g to a fresh server.
 * Returns the alert the server sent, 0 if it answered with a ServerHello,
 * -1 for anything else.
 */
static int server_answer(fixture *f, const sp_group *g, const uint8_t *share, size_t len)
{
    SSL_CTX *ctx = tu_server_ctx(f->libctx, f->key, f->cert, g->tls_name);
    SSL *s = NULL;
    uint8_t *hello, *out;
    size_t hello_len = 0, out_len = 0;
    int rc, result = -1;

    assert_non_null(ctx);
    s = tu_ssl_mem(ctx, 1);
    assert_non_null(s);
    hello = tu_client_hello(g->default_id, share, len, &hello_len);
    tu_feed(s, hello, hello_len);
    rc = SSL_do_handshake(s);
    out = tu_take_output(s, &out_len);
    if (rc <= 0 && SSL_get_error(s, rc) == SSL_ERROR_SSL)
        result = tu_find_alert(out, out_len);
    else if (rc <= 0 && SSL_get_error(s, rc) == SSL_ERROR_WANT_READ && out_len > 9 &&
             out[0] == 22 && out[5] == 2)
        result = 0;
    ERR_clear_error();
    free(out);
    free(hello);
    SSL_free(s);
    SSL_CTX_free(ctx);
    return result;
}

static uint8_t *valid_share(fixture *f, const sp_group *g, size_t *len)
{
    uint8_t *share = tu_keygen_share(f->libctx, g->alg, len);

    assert_non_null(share);
    assert_int_equal(*len, sp_group_pub_len(g));
    return share;
}

static void test_server_accepts_valid_share(void **state)
{
    fixture *f = *state;

    for (size_t i = 0; i < SP_NGROUPS; i++) {
        size_t len;
        uint8_t *share = valid_share(f, &sp_groups[i], &len);

        /* SecP384r1SCloud+256 and scloudplus256: the ClientHello spans two records. */
        assert_int_equal(server_answer(f, &sp_groups[i], share, len), 0);
        free(share);
    }
}

static void test_server_wrong_length(void **state)
{
    fixture *f = *state;

    for (size_t i = 0; i < SP_NGROUPS; i++) {
        const sp_group *g = &sp_groups[i];
        size_t len;
        uint8_t *share = valid_share(f, g, &len);
        uint8_t *longer = calloc(1, len + 1);

        assert_non_null(longer);
        memcpy(longer, share, len);
        assert_int_equal(server_answer(f, g, share, len - 1), ALERT_ILLEGAL_PARAMETER);
        assert_int_equal(server_answer(f, g, longer, len + 1), ALERT_ILLEGAL_PARAMETER);
        /* Only the ECDH part: the KEM part missing entirely. */
        if (g->ec != SP_EC_NONE)
            assert_int_equal(server_answer(f, g, share, sp_ec_pub_len(g->ec)),
                             ALERT_ILLEGAL_PARAMETER);
        free(longer);
        free(share);
    }
}

static void test_server_bad_point(void **state)
{
    fixture *f = *state;

    for (size_t i = 0; i < SP_NGROUPS; i++) {
        const sp_group *g = &sp_groups[i];
        size_t len, ec_len = sp_ec_pub_len(g->ec);
        uint8_t *share;

        if (g->ec != SP_EC_P256 && g->ec != SP_EC_P384)
            continue;
        share = valid_share(f, g, &len);
        /* Off the curve: change the last byte of Y. */
        share[ec_len - 1] ^= 0x01;
        assert_int_equal(server_answer(f, g, share, len), ALERT_ILLEGAL_PARAMETER);
        share[ec_len - 1] ^= 0x01;
        /* Compressed-point prefix (not allowed in TLS 1.3), same length. */
        share[0] = 0x02;
        assert_int_equal(server_answer(f, g, share, len), ALERT_ILLEGAL_PARAMETER);
        /* The point at infinity / all zero. */
        memset(share, 0, ec_len);
        assert_int_equal(server_answer(f, g, share, len), ALERT_ILLEGAL_PARAMETER);
        free(share);
    }
}

/*
 * X25519 accepts any 32 bytes as a public value; a small-order one (0, 1)
 * makes the ECDH result all zero, so encapsulation fails (RFC 8446 7.4.2).
 * OpenSSL 3.0.x then sends illegal_parameter as well (observed; the alert
 * comes from libssl, not from us).
 */
static void test_server_x25519_small_order(void **state)
{
    fixture *f = *state;
    const sp_group *g = sp_group_by_name("X25519SCloud+128");
    size_t len;
    uint8_t *share = valid_share(f, g, &len);

    memset(share, 0, 32);
    assert_int_equal(server_answer(f, g, share, len), ALERT_ILLEGAL_PARAMETER);
    share[0] = 1;
    assert_int_equal(server_answer(f, g, share, len), ALERT_ILLEGAL_PARAMETER);
    free(share);
}

/*
 * Client side: run a real client against a real server, rewrite the
 * ServerHello share with mutate(), and return the client's alert.
 */
typedef void mutate_fn(uint8_t **share, size_t *len, const sp_group *g);

static int client_answer(fixture *f, const sp_group *g, mutate_fn *mutate)
{
    SSL_CTX *sctx = tu_server_ctx(f->libctx, f->key, f->cert, g->tls_name);
    SSL_CTX *cctx = tu_client_ctx(f->libctx, g->tls_name);
    SSL *c, *s;
    uint8_t *flight, *rewritten, *share, *alert_out;
    size_t flen = 0, rlen = 0, slen = 0, off, alen = 0;
    int rc, result = -1;

    assert_non_null(sctx);
    assert_non_null(cctx);
    c = tu_ssl_mem(cctx, 0);
    s = tu_ssl_mem(sctx, 1);
    assert_int_equal(SSL_do_handshake(c), -1);
    tu_pump(c, s);
    assert_int_equal(SSL_do_handshake(s), -1);
    flight = tu_take_output(s, &flen);
    assert_non_null(flight);
    off = tu_server_share_offset(flight, flen, &slen);
    assert_true(off > 0);
    assert_int_equal(slen, sp_group_ct_len(g));
    share = malloc(slen);
    assert_non_null(share);
    memcpy(share, flight + off, slen);
    mutate(&share, &slen, g);
    rewritten = tu_rewrite_server_share(flight, flen, share, slen, &rlen);
    assert_non_null(rewritten);
    tu_feed(c, rewritten, rlen);
    rc = SSL_do_handshake(c);
    if (rc <= 0 && SSL_get_error(c, rc) == SSL_ERROR_SSL) {
        alert_out = tu_take_output(c, &alen);
        result = tu_find_alert(alert_out, alen);
        free(alert_out);
    }
    ERR_clear_error();
    free(share);
    free(rewritten);
    free(flight);
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    return result;
}

static void mut_none(uint8_t **share, size_t *len, const sp_group *g)
{
}

static void mut_short(uint8_t **share, size_t *len, const sp_group *g)
{
    *len -= 1;
}

static void mut_bad_point(uint8_t **share, size_t *len, const sp_group *g)
{
    (*share)[sp_ec_pub_len(g->ec) - 1] ^= 0x01;
}

static void test_client_bad_server_share(void **state)
{
    fixture *f = *state;
    const char *names[] = {"X25519SCloud+128", "SecP256r1SCloud+192", "scloudplus128"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const sp_group *g = sp_group_by_name(names[i]);

        /* Control: an unchanged (re-encoded) ServerHello is accepted. */
        assert_int_equal(client_answer(f, g, mut_none), -1);
        assert_int_equal(client_answer(f, g, mut_short), ALERT_INTERNAL_ERROR);
        if (g->ec == SP_EC_P256)
            assert_int_equal(client_answer(f, g, mut_bad_point), ALERT_INTERNAL_ERROR);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_accepts_valid_share),
        cmocka_unit_test(test_server_wrong_length),
        cmocka_unit_test(test_server_bad_point),
        cmocka_unit_test(test_server_x25519_small_order),
        cmocka_unit_test(test_client_bad_server_share),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
