/*
 * ACDC [P] profile: envelope binding, change records, chained instances.
 * Names come from the one table (mm_dkim_acdc_name), never spelled here.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "dkim_test.h"

static EVP_PKEY *ed_author, *rsa_list;
static mm_dkim_keysrc *ks;

static int setup(void **state)
{
    (void)state;
    mm_buf rec;
    mm_buf_init(&rec, 1 << 16);
    ed_author = t_key(MM_DKIM_ALG_ED25519_SHA256, 0, "a1", &rec);
    rsa_list = t_key(MM_DKIM_ALG_RSA_SHA256, 2048, "l1", &rec);
    ks = t_keys(mm_buf_cstr(&rec));
    mm_buf_free(&rec);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(ed_author);
    EVP_PKEY_free(rsa_list);
    mm_dkim_keysrc_close(ks);
    return 0;
}

static const char *const rcpt1[] = {"<list@lists.test>", "<Bob@EXAMPLE.net> NOTIFY=NEVER"};
static const char *const rcpt2[] = {"<carol@example.org>"};

static uint8_t *originator(size_t *len)
{
    mm_dkim_sign_opts o = {.pkey = ed_author, .alg = MM_DKIM_ALG_ED25519_SHA256,
                           .domain = "example.test", .selector = "a1", .hc = MM_DKIM_RELAXED,
                           .bc = MM_DKIM_RELAXED, .acdc_n = 1,
                           .env = {"<alice@example.test>", rcpt1, 2}};
    return t_sign(&o, T_MSG, len);
}

static mm_dkim_acdc_report acdc(const uint8_t *m, size_t len, const char *mf, const char *const *rc,
                                size_t n)
{
    mm_dkim_verify_opts vo = {.keys = ks};
    mm_dkim_acdc_env env = {mf, rc, n};
    mm_dkim_acdc_report rep;
    assert_int_equal(mm_dkim_acdc_verify(&vo, m, len, mf ? &env : NULL, &rep), 0);
    print_message("acdc: %s (%s) instances=%d\n", mm_dkim_result_name(rep.code), rep.reason,
                  rep.instances);
    return rep;
}

static void test_names_table(void **state)
{
    (void)state;
    /* every id has a distinct name */
    for (int i = 0; i < MM_ACDC_ID_COUNT; i++) {
        assert_string_not_equal(mm_dkim_acdc_name((enum mm_dkim_acdc_id)i), "?");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(mm_dkim_acdc_name((enum mm_dkim_acdc_id)i),
                                    mm_dkim_acdc_name((enum mm_dkim_acdc_id)j));
    }
    assert_string_equal(mm_dkim_acdc_name(MM_ACDC_ID_COUNT), "?");
}

static void test_canon_addr(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } c[] = {{"<Bob@EXAMPLE.net>", "Bob@example.net"},
             {"<Bob@Example.Net> SIZE=100", "Bob@example.net"},
             {"bob@example.net", "bob@example.net"},
             {"<>", ""},
             {"<@relay.test:joe@Ex.test>", "joe@ex.test"}};
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        mm_buf b;
        mm_buf_init(&b, 256);
        assert_int_equal(mm_dkim_acdc_canon_addr(c[i].in, &b), 0);
        assert_string_equal(mm_buf_cstr(&b), c[i].out);
        mm_buf_free(&b);
    }
    /* EH is salted: same address, different salt -> different hash */
    uint8_t s1[16] = {1}, s2[16] = {2};
    char h1[23], h2[23], h3[23];
    assert_int_equal(mm_dkim_acdc_eh(s1, MM_ACDC_KIND_RCPT, "<a@b.test>", h1), 0);
    assert_int_equal(mm_dkim_acdc_eh(s2, MM_ACDC_KIND_RCPT, "<a@b.test>", h2), 0);
    assert_int_equal(mm_dkim_acdc_eh(s1, MM_ACDC_KIND_MAILFROM, "<a@b.test>", h3), 0);
    assert_int_equal(strlen(h1), 22);
    assert_string_not_equal(h1, h2);
    assert_string_not_equal(h1, h3);
}

static void test_envelope_binding(void **state)
{
    (void)state;
    size_t len;
    uint8_t *m = originator(&len);
    assert_non_null(strstr((char *)m, mm_dkim_acdc_name(MM_ACDC_TAG_MF)));
    /* classic verification ignores the extra tags (ACDC-5) */
    assert_int_equal(t_verify(ks, m, len, false).code, MM_DKIM_PASS);
    /* domain case does not matter, local-part case does (RFC 5321 2.4) */
    const char *bob[] = {"<Bob@example.NET>"};
    assert_int_equal(acdc(m, len, "<alice@example.test>", bob, 1).code, MM_DKIM_PASS);
    const char *lower_bob[] = {"<bob@example.net>"};
    assert_int_equal(acdc(m, len, "<alice@example.test>", lower_bob, 1).code, MM_DKIM_FAIL);
    assert_int_equal(acdc(m, len, NULL, NULL, 0).code, MM_DKIM_PASS); /* no envelope to check */
    /* replay to another recipient */
    const char *eve[] = {"<eve@evil.test>"};
    mm_dkim_acdc_report r = acdc(m, len, "<alice@example.test>", eve, 1);
    assert_int_equal(r.code, MM_DKIM_FAIL);
    assert_string_equal(r.reason, mm_dkim_acdc_name(MM_ACDC_R_RCPT));
    /* replay with another MAIL FROM */
    r = acdc(m, len, "<mallory@evil.test>", bob, 1);
    assert_int_equal(r.code, MM_DKIM_FAIL);
    assert_string_equal(r.reason, mm_dkim_acdc_name(MM_ACDC_R_MAILFROM));
    /* acdc_d=1 with the change record outside h=: refused by name */
    char *d = strstr((char *)m, "acdc_d=0");
    assert_non_null(d);
    d[7] = '1';
    r = acdc(m, len, NULL, NULL, 0);
    assert_int_equal(r.code, MM_DKIM_PERMERROR);
    assert_non_null(strstr(r.reason, "not in h="));
    d[7] = '0';
    /* a classic message: no ACDC result */
    assert_int_equal(acdc((const uint8_t *)T_MSG, strlen(T_MSG), NULL, NULL, 0).code, MM_DKIM_NONE);
    free(m);
}

/* b= text of the first DKIM-Signature, and its salt tag value. */
static void sig_values(const uint8_t *m, char *b, size_t bl, char *salt, size_t sl)
{
    mm_dkim_msg msg;
    mm_dkim_msg_init(&msg);
    size_t body;
    assert_int_equal(mm_dkim_msg_parse(&msg, m, strlen((const char *)m), &body), 0);
    mm_dkim_taglist tl;
    size_t vl;
    const uint8_t *v = mm_dkim_field_value(&msg.f[0], &vl);
    assert_int_equal(mm_dkim_taglist_parse(&tl, v, vl), 0);
    int i = mm_dkim_taglist_find(&tl, "b");
    const uint8_t *bv = mm_dkim_taglist_value(&tl, i, &vl);
    size_t o = 0;
    for (size_t k = 0; k < vl && o + 1 < bl; k++)
        if (bv[k] > ' ')
            b[o++] = (char)bv[k];
    b[o] = 0;
    i = mm_dkim_taglist_find(&tl, mm_dkim_acdc_name(MM_ACDC_TAG_S));
    bv = mm_dkim_taglist_value(&tl, i, &vl);
    snprintf(salt, sl, "%.*s", (int)vl, (const char *)bv);
    mm_dkim_msg_free(&msg);
}

/* A mailing list: tags the subject, adds a footer and List-Id, records the change, signs. */
static uint8_t *list_hop(const uint8_t *m1, const char *received_for, size_t *len)
{
    mm_buf m2;
    mm_buf_init(&m2, 1 << 20);
    mm_buf_append_str(&m2, "List-Id: <list.lists.test>\r\n");
    const char *s = (const char *)m1;
    const char *subj = strstr(s, "Subject: hello");
    mm_buf_append(&m2, s, (size_t)(subj - s));
    mm_buf_append_str(&m2, "Subject: [list] hello");
    mm_buf_append_str(&m2, subj + strlen("Subject: hello"));
    mm_buf_append_str(&m2, "-- \r\nlist footer\r\n");
    mm_buf diff;
    mm_buf_init(&diff, 1 << 20);
    static const char *const signed_names[] = {"from", "to", "subject", "date", "message-id",
                                               "reply-to", "cc", "list-id", NULL};
    assert_int_equal(mm_dkim_acdc_diff_make(2, m1, strlen(s), m2.data, m2.len, signed_names, &diff), 0);
    assert_true(diff.len > 0);
    print_message("%s\n", mm_buf_cstr(&diff));
    mm_buf with;
    mm_buf_init(&with, 1 << 20);
    mm_buf_append(&with, diff.data, diff.len);
    mm_buf_append_str(&with, "\r\n");
    mm_buf_append(&with, m2.data, m2.len);
    char b[1400], salt[64];
    sig_values(m1, b, sizeof(b), salt, sizeof(salt));
    static const char *const hdrs[] = {"from", "to", "subject", "date", "message-id", "list-id",
                                       "acdc-diff", NULL};
    mm_dkim_sign_opts o = {.pkey = rsa_list, .alg = MM_DKIM_ALG_RSA_SHA256, .domain = "example.test",
                           .selector = "l1", .hc = MM_DKIM_RELAXED, .bc = MM_DKIM_RELAXED,
                           .headers = hdrs, .acdc_n = 2, .env = {"<list-bounces@lists.test>", rcpt2, 1},
                           .acdc_prev_salt_b64 = salt, .acdc_received_for = received_for,
                           .acdc_prev_b = b, .acdc_diff = true};
    uint8_t *out = t_sign(&o, mm_buf_cstr(&with), len);
    mm_buf_free(&m2);
    mm_buf_free(&diff);
    mm_buf_free(&with);
    return out;
}

static void test_chain_with_changes(void **state)
{
    (void)state;
    size_t l1, l2;
    uint8_t *m1 = originator(&l1);
    uint8_t *m2 = list_hop(m1, "<list@lists.test>", &l2);
    /* classic view: the author's signature broke (content changed), the list's passes */
    mm_dkim_verify_opts vo = {.keys = ks};
    mm_dkim_result r[4];
    size_t n;
    assert_int_equal(mm_dkim_verify_message(&vo, m2, l2, r, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].code, MM_DKIM_PASS);
    assert_int_equal(r[1].code, MM_DKIM_FAIL);
    /* ACDC view: instance 1 verifies on the reconstructed content */
    mm_dkim_acdc_report rep = acdc(m2, l2, "<list-bounces@lists.test>", rcpt2, 1);
    assert_int_equal(rep.code, MM_DKIM_PASS);
    assert_int_equal(rep.instances, 2);
    assert_int_equal(rep.inst[0].code, MM_DKIM_PASS);
    assert_int_equal(rep.inst[1].code, MM_DKIM_PASS);
    /* the reconstruction gives back exactly the author's header fields and body */
    mm_buf prev;
    mm_buf_init(&prev, 1 << 20);
    const char *why;
    assert_int_equal(mm_dkim_acdc_undo(m2, l2, 2, &prev, &why), 0);
    assert_int_equal(t_verify(ks, prev.data, prev.len, false).code, MM_DKIM_PASS);
    assert_null(strstr(mm_buf_cstr(&prev), "[list]"));
    assert_null(strstr(mm_buf_cstr(&prev), "footer"));
    mm_buf_free(&prev);
    /* envelope of the list's transaction, not the author's */
    assert_int_equal(acdc(m2, l2, "<alice@example.test>", rcpt2, 1).code, MM_DKIM_FAIL);
    free(m1);
    free(m2);
}

static void test_chain_broken(void **state)
{
    (void)state;
    size_t l1, l2;
    uint8_t *m1 = originator(&l1);
    /* the hop claims it received the message for an address the author did not send to */
    uint8_t *m2 = list_hop(m1, "<someone@else.test>", &l2);
    mm_dkim_acdc_report rep = acdc(m2, l2, NULL, NULL, 0);
    assert_int_equal(rep.code, MM_DKIM_FAIL);
    assert_string_equal(rep.reason, mm_dkim_acdc_name(MM_ACDC_R_CHAIN));
    free(m2);
    /* instance 1 removed: instances no longer contiguous */
    m2 = list_hop(m1, "<list@lists.test>", &l2);
    char *sig1 = strstr((char *)m2 + 20, "DKIM-Signature:");
    while (sig1 && !strstr(sig1, mm_dkim_acdc_name(MM_ACDC_TAG_N)))
        sig1 = strstr(sig1 + 1, "DKIM-Signature:");
    /* the author's signature is the last DKIM-Signature (it was first in m1) */
    char *last = NULL;
    for (char *p = strstr((char *)m2, "DKIM-Signature:"); p; p = strstr(p + 1, "DKIM-Signature:"))
        last = p;
    assert_non_null(last);
    last[0] = 'X'; /* X-KIM-Signature: no longer a signature */
    rep = acdc(m2, l2, NULL, NULL, 0);
    assert_int_equal(rep.code, MM_DKIM_PERMERROR);
    assert_string_equal(rep.reason, mm_dkim_acdc_name(MM_ACDC_R_SEQUENCE));
    last[0] = 'D';
    /* the change record edited: the hop's own signature fails and nothing passes */
    char *d = strstr((char *)m2, "b=c1-");
    assert_non_null(d);
    d[3] = '2';
    rep = acdc(m2, l2, NULL, NULL, 0);
    assert_int_not_equal(rep.code, MM_DKIM_PASS);
    free(m1);
    free(m2);
}

/* The signer keeps its own copy of the salt (a milter's buffer is gone by end of message). */
static void test_salt_copied(void **state)
{
    (void)state;
    uint8_t salt[16];
    memset(salt, 0x5a, sizeof(salt));
    mm_dkim_sign_opts o = {.pkey = ed_author, .alg = MM_DKIM_ALG_ED25519_SHA256,
                           .domain = "example.test", .selector = "a1", .hc = MM_DKIM_RELAXED,
                           .bc = MM_DKIM_RELAXED, .acdc_n = 1, .acdc_salt = salt,
                           .env = {"<alice@example.test>", rcpt1, 2}};
    mm_dkim_signer *s;
    assert_int_equal(mm_dkim_signer_new(&o, &s), 0);
    memset(salt, 0, sizeof(salt));
    assert_int_equal(mm_dkim_signer_header_nv(s, "From", "a@example.test"), 0);
    mm_buf f;
    mm_buf_init(&f, 1 << 16);
    assert_int_equal(mm_dkim_signer_finish(s, &f), 0);
    assert_non_null(strstr(mm_buf_cstr(&f), "=WlpaWlpaWlpaWlpaWlpaWg=="));
    mm_buf_free(&f);
    mm_dkim_signer_free(s);
}

static void test_acdc_refusals(void **state)
{
    (void)state;
    mm_dkim_signer *s;
    mm_dkim_sign_opts o = {.pkey = ed_author, .alg = MM_DKIM_ALG_ED25519_SHA256,
                           .domain = "example.test", .selector = "a1", .hc = MM_DKIM_SIMPLE,
                           .bc = MM_DKIM_RELAXED, .acdc_n = 1,
                           .env = {"<alice@example.test>", rcpt1, 2}};
    assert_int_equal(mm_dkim_signer_new(&o, &s), MM_EINVAL); /* simple is obsoleted for ACDC */
    o.hc = MM_DKIM_RELAXED;
    o.env.nrcpt = 0;
    assert_int_equal(mm_dkim_signer_new(&o, &s), MM_EINVAL); /* no envelope to bind */
    o.env.nrcpt = 2;
    o.acdc_diff = true; /* a change record that h= would not cover */
    assert_int_equal(mm_dkim_signer_new(&o, &s), MM_EINVAL);
    o.acdc_diff = false;
    o.acdc_n = 2;
    assert_int_equal(mm_dkim_signer_new(&o, &s), MM_EINVAL); /* instance 2 without chain data */
    /* undo of garbage change records: an error, never a crash */
    const char *bad[] = {"ACDC-Diff: n=2; b=c5-9\r\nFrom: a@b.test\r\n\r\nx\r\n",
                         "ACDC-Diff: n=2; b=l!!!\r\nFrom: a@b.test\r\n\r\nx\r\n",
                         "ACDC-Diff: n=2; h=Subject:Zm9v\r\nFrom: a@b.test\r\n\r\nx\r\n",
                         "ACDC-Diff: n=2; q=1\r\nFrom: a@b.test\r\n\r\nx\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mm_buf out;
        mm_buf_init(&out, 1 << 16);
        const char *why;
        char *m = strdup(bad[i]);
        /* the field name comes from the table */
        assert_int_equal(strncmp(m, mm_dkim_acdc_name(MM_ACDC_HDR_DIFF), 9), 0);
        assert_true(mm_dkim_acdc_undo((const uint8_t *)m, strlen(m), 2, &out, &why) < 0);
        free(m);
        mm_buf_free(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_table),
        cmocka_unit_test(test_canon_addr),
        cmocka_unit_test(test_envelope_binding),
        cmocka_unit_test(test_chain_with_changes),
        cmocka_unit_test(test_chain_broken),
        cmocka_unit_test(test_salt_copied),
        cmocka_unit_test(test_acdc_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
