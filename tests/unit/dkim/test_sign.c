/* Signing: round trips, over-signing, refusals (l=, small RSA, rsa-sha1). SPDX-License-Identifier: Apache-2.0 */
#include "dkim_test.h"

struct keys {
    EVP_PKEY *rsa, *ed, *rsa1024;
    mm_dkim_keysrc *ks;
};
static struct keys K;

static int setup(void **state)
{
    (void)state;
    mm_buf rec;
    mm_buf_init(&rec, 1 << 16);
    K.rsa = t_key(MM_DKIM_ALG_RSA_SHA256, 2048, "rsa", &rec);
    K.ed = t_key(MM_DKIM_ALG_ED25519_SHA256, 0, "ed", &rec);
    K.rsa1024 = t_key(MM_DKIM_ALG_RSA_SHA256, 1024, "small", &rec);
    K.ks = t_keys(mm_buf_cstr(&rec));
    mm_buf_free(&rec);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(K.rsa);
    EVP_PKEY_free(K.ed);
    EVP_PKEY_free(K.rsa1024);
    mm_dkim_keysrc_close(K.ks);
    return 0;
}

static mm_dkim_sign_opts opts(enum mm_dkim_alg alg)
{
    mm_dkim_sign_opts o = {.pkey = alg == MM_DKIM_ALG_RSA_SHA256 ? K.rsa : K.ed, .alg = alg,
                           .domain = "example.test",
                           .selector = alg == MM_DKIM_ALG_RSA_SHA256 ? "rsa" : "ed"};
    return o;
}

static void test_roundtrip_all(void **state)
{
    (void)state;
    for (int a = 0; a < 2; a++)
        for (int hc = 0; hc < 2; hc++)
            for (int bc = 0; bc < 2; bc++) {
                mm_dkim_sign_opts o = opts(a ? MM_DKIM_ALG_ED25519_SHA256 : MM_DKIM_ALG_RSA_SHA256);
                o.hc = (enum mm_dkim_canon)hc;
                o.bc = (enum mm_dkim_canon)bc;
                size_t len;
                uint8_t *m = t_sign(&o, T_MSG, &len);
                mm_dkim_result r = t_verify(K.ks, m, len, false);
                assert_int_equal(r.code, MM_DKIM_PASS);
                /* any change of a signed header fails */
                uint8_t *subj = (uint8_t *)strstr((char *)m, "Subject: hello");
                subj[9] = 'j';
                r = t_verify(K.ks, m, len, false);
                assert_int_equal(r.code, MM_DKIM_FAIL);
                assert_true(r.body_ok);
                subj[9] = 'h';
                /* whitespace-only changes: pass only with relaxed */
                mm_buf w;
                mm_buf_init(&w, 1 << 20);
                mm_buf_append(&w, m, len);
                mm_buf_append_str(&w, "\r\n\r\n");
                r = t_verify(K.ks, w.data, w.len, false);
                assert_int_equal(r.code, MM_DKIM_PASS); /* trailing empty lines never count */
                char *line = strstr((char *)w.data, "this  is");
                memmove(line + 5, line + 6, w.len - (size_t)(line + 6 - (char *)w.data));
                w.len--;
                r = t_verify(K.ks, w.data, w.len, false);
                assert_int_equal(r.code, bc == MM_DKIM_RELAXED ? MM_DKIM_PASS : MM_DKIM_FAIL);
                mm_buf_free(&w);
                free(m);
            }
}

static void test_streaming_signer(void **state)
{
    (void)state;
    /* milter form: name/value headers, body in odd chunks; the result verifies on the wire form */
    mm_dkim_sign_opts o = opts(MM_DKIM_ALG_ED25519_SHA256);
    o.hc = o.bc = MM_DKIM_RELAXED;
    mm_dkim_signer *s;
    assert_int_equal(mm_dkim_signer_new(&o, &s), 0);
    assert_int_equal(mm_dkim_signer_header_nv(s, "From", "Alice <alice@example.test>"), 0);
    assert_int_equal(mm_dkim_signer_header_nv(s, "To", "Bob <bob@example.net>"), 0);
    assert_int_equal(mm_dkim_signer_header_nv(s, "Subject", "hello"), 0);
    const char *body = "line one\r\nline two  \r\n\r\n";
    for (size_t i = 0; i < strlen(body); i += 3)
        mm_dkim_signer_body(s, (const uint8_t *)body + i, strlen(body) - i < 3 ? strlen(body) - i : 3);
    mm_buf f;
    mm_buf_init(&f, 1 << 16);
    assert_int_equal(mm_dkim_signer_finish(s, &f), 0);
    mm_dkim_signer_free(s);
    mm_buf_printf(&f, "\r\nFrom: Alice <alice@example.test>\r\nTo: Bob <bob@example.net>\r\n"
                      "Subject: hello\r\n\r\n%s", body);
    mm_dkim_result r = t_verify(K.ks, f.data, f.len, false);
    assert_int_equal(r.code, MM_DKIM_PASS);
    mm_buf_free(&f);
}

static void test_oversigning(void **state)
{
    (void)state;
    mm_dkim_sign_opts o = opts(MM_DKIM_ALG_ED25519_SHA256);
    size_t len;
    uint8_t *m = t_sign(&o, T_MSG, &len);
    assert_non_null(strstr((char *)m, "subject:subject"));
    /* a second Subject added below the signed one: the oversigned empty slot now hashes it */
    mm_buf w;
    mm_buf_init(&w, 1 << 20);
    char *eoh = strstr((char *)m, "\r\n\r\n");
    mm_buf_append(&w, m, (size_t)(eoh - (char *)m) + 2);
    mm_buf_append_str(&w, "Subject: injected\r\n");
    mm_buf_append_str(&w, eoh + 2);
    mm_dkim_result r = t_verify(K.ks, w.data, w.len, false);
    assert_int_equal(r.code, MM_DKIM_FAIL);
    /* a field not listed in h= may be added freely */
    mm_buf_reset(&w);
    mm_buf_append(&w, m, (size_t)(eoh - (char *)m) + 2);
    mm_buf_append_str(&w, "X-Added: later\r\n");
    mm_buf_append_str(&w, eoh + 2);
    r = t_verify(K.ks, w.data, w.len, false);
    assert_int_equal(r.code, MM_DKIM_PASS);
    mm_buf_free(&w);
    free(m);
}

static void test_refusals(void **state)
{
    (void)state;
    mm_dkim_signer *s = NULL;
    mm_dkim_sign_opts o = opts(MM_DKIM_ALG_RSA_SHA256);
    o.body_length = true; /* l= refused when signing */
    assert_int_equal(mm_dkim_signer_new(&o, &s), MM_EINVAL);
    o = opts(MM_DKIM_ALG_RSA_SHA256);
    o.pkey = K.rsa1024; /* RFC 8301: < 2048 not for signing here */
    assert_int_equal(mm_dkim_signer_new(&o, &s), MM_EINVAL);
    o = opts(MM_DKIM_ALG_RSA_SHA256);
    o.alg = MM_DKIM_ALG_RSA_SHA1;
    assert_int_equal(mm_dkim_signer_new(&o, &s), MM_EUNSUPPORTED);
    o = opts(MM_DKIM_ALG_RSA_SHA256);
    o.pkey = K.ed; /* key/algorithm mismatch */
    assert_int_equal(mm_dkim_signer_new(&o, &s), MM_EINVAL);
    /* no From, two From: nothing to sign */
    o = opts(MM_DKIM_ALG_ED25519_SHA256);
    mm_buf f;
    mm_buf_init(&f, 1 << 16);
    const char *nofrom = "To: b@example.net\r\n\r\nbody\r\n";
    assert_int_equal(mm_dkim_sign_message(&o, (const uint8_t *)nofrom, strlen(nofrom), &f), MM_EMALFORMED);
    const char *twofrom = "From: a@example.test\r\nFrom: c@example.test\r\n\r\nbody\r\n";
    assert_int_equal(mm_dkim_sign_message(&o, (const uint8_t *)twofrom, strlen(twofrom), &f), MM_EMALFORMED);
    mm_buf_free(&f);
}

static void test_expiry_and_ar(void **state)
{
    (void)state;
    mm_dkim_sign_opts o = opts(MM_DKIM_ALG_ED25519_SHA256);
    o.t = 1000000000;
    o.expire_after = 3600;
    size_t len;
    uint8_t *m = t_sign(&o, T_MSG, &len);
    mm_dkim_verify_opts vo = {.keys = K.ks, .now = 1000000000 + 60};
    mm_dkim_result r[2];
    size_t n;
    assert_int_equal(mm_dkim_verify_message(&vo, m, len, r, 2, &n), 0);
    assert_int_equal(r[0].code, MM_DKIM_PASS);
    vo.now = 1000000000 + 3600 + 301; /* past x= and the allowed skew */
    assert_int_equal(mm_dkim_verify_message(&vo, m, len, r, 2, &n), 0);
    assert_int_equal(r[0].code, MM_DKIM_PERMERROR);
    assert_non_null(strstr(r[0].reason, "expired"));
    mm_buf ar;
    mm_buf_init(&ar, 4096);
    assert_int_equal(mm_dkim_ar_format("mx.example", r, n, NULL, &ar), 0);
    const char *s = mm_buf_cstr(&ar);
    assert_non_null(strstr(s, "Authentication-Results: mx.example;"));
    assert_non_null(strstr(s, "dkim=permerror"));
    assert_non_null(strstr(s, "header.d=example.test"));
    assert_non_null(strstr(s, "header.s=ed"));
    mm_buf_reset(&ar);
    assert_int_equal(mm_dkim_ar_format("mx.example", r, 0, NULL, &ar), 0);
    assert_non_null(strstr(mm_buf_cstr(&ar), "dkim=none"));
    mm_buf_free(&ar);
    free(m);
}

/* z= copies let explain name the changed field (RFC 6376 3.5); a classic verifier ignores them. */
static void test_explain_z(void **state)
{
    (void)state;
    mm_dkim_sign_opts o = opts(MM_DKIM_ALG_ED25519_SHA256);
    o.copy_headers = true;
    size_t len;
    uint8_t *m = t_sign(&o, T_MSG, &len);
    assert_int_equal(t_verify(K.ks, m, len, false).code, MM_DKIM_PASS);
    char *subj = strstr((char *)m, "Subject: hello");
    subj[9] = 'j';
    mm_dkim_msg msg;
    mm_dkim_msg_init(&msg);
    size_t body;
    assert_int_equal(mm_dkim_msg_parse(&msg, m, len, &body), 0);
    mm_buf rep;
    mm_buf_init(&rep, 4096);
    assert_int_equal(mm_dkim_explain_headers(&msg, 0, &rep), 1);
    assert_non_null(strstr(mm_buf_cstr(&rep), "changed Subject"));
    /* a removed field is named too */
    mm_dkim_msg_remove(&msg, 3); /* To (signature, From, To... order: sig=0, From=1, To=2) */
    mm_buf_reset(&rep);
    assert_true(mm_dkim_explain_headers(&msg, 0, &rep) >= 1);
    mm_dkim_msg_free(&msg);
    mm_buf_free(&rep);
    free(m);
    /* no z=: MM_ENOENT */
    o.copy_headers = false;
    m = t_sign(&o, T_MSG, &len);
    mm_dkim_msg_init(&msg);
    assert_int_equal(mm_dkim_msg_parse(&msg, m, len, &body), 0);
    mm_buf_init(&rep, 4096);
    assert_int_equal(mm_dkim_explain_headers(&msg, 0, &rep), MM_ENOENT);
    mm_dkim_msg_free(&msg);
    mm_buf_free(&rep);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_all),
        cmocka_unit_test(test_streaming_signer),
        cmocka_unit_test(test_oversigning),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_expiry_and_ar),
        cmocka_unit_test(test_explain_z),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
