/* Tag-list grammar (RFC 6376 3.2), base64 (2.4), every error class. SPDX-License-Identifier: Apache-2.0 */
#include "dkim_test.h"

static int parse(const char *s, mm_dkim_taglist *tl)
{
    return mm_dkim_taglist_parse(tl, (const uint8_t *)s, strlen(s));
}

static void value_is(const mm_dkim_taglist *tl, const char *name, const char *want)
{
    int i = mm_dkim_taglist_find(tl, name);
    assert_true(i >= 0);
    size_t l;
    const uint8_t *v = mm_dkim_taglist_value(tl, i, &l);
    assert_int_equal(l, strlen(want));
    assert_memory_equal(v, want, l);
}

static void test_valid(void **state)
{
    (void)state;
    mm_dkim_taglist tl;
    assert_int_equal(parse("v=1; a=rsa-sha256;\r\n\td = example.test ; h=from : to;", &tl), 0);
    assert_int_equal(tl.n, 4);
    value_is(&tl, "v", "1");
    value_is(&tl, "d", "example.test");
    value_is(&tl, "h", "from : to");
    /* empty value, trailing FWS, no trailing ';' */
    assert_int_equal(parse("p=; t=y \r\n ", &tl), 0);
    value_is(&tl, "p", "");
    value_is(&tl, "t", "y");
    /* folded value keeps its inner FWS; unknown and underscore names are accepted */
    assert_int_equal(parse("b=abc\r\n def; x_y1=z", &tl), 0);
    value_is(&tl, "b", "abc\r\n def");
    value_is(&tl, "x_y1", "z");
    assert_int_equal(mm_dkim_taglist_find(&tl, "B"), -1); /* names are case-sensitive */
}

static void expect_err(const char *s, enum mm_dkim_tag_error e, size_t off)
{
    mm_dkim_taglist tl;
    assert_int_equal(parse(s, &tl), MM_EMALFORMED);
    assert_int_equal(tl.err, e);
    assert_int_equal(tl.err_off, off);
    assert_string_not_equal(mm_dkim_tag_strerror(e), "unknown tag-list error");
}

static void test_error_classes(void **state)
{
    (void)state;
    expect_err("", MM_DKIM_TAG_EEMPTY, 0);
    expect_err("  ", MM_DKIM_TAG_EEMPTY, 2);
    expect_err("1a=b", MM_DKIM_TAG_ENAME, 0);
    expect_err("a-b=c", MM_DKIM_TAG_ENAMECHAR, 1);
    expect_err("ab c=d", MM_DKIM_TAG_ENOEQ, 3);
    expect_err("a", MM_DKIM_TAG_ENOEQ, 1);
    expect_err("a=b\x01", MM_DKIM_TAG_EVALCHAR, 3);
    expect_err("a=\xc3\xa9", MM_DKIM_TAG_EVALCHAR, 2); /* 8-bit octets are not VALCHAR */
    expect_err("a=b\r\nc=d", MM_DKIM_TAG_EFWS, 3);     /* CRLF without continuation */
    expect_err("a=b \rc", MM_DKIM_TAG_EFWS, 4);        /* bare CR */
    expect_err("a=1; b=2; a=3", MM_DKIM_TAG_EDUP, 10);
    expect_err("a=1;;b=2", MM_DKIM_TAG_EEMPTYSPEC, 4);
    char many[MM_DKIM_MAX_TAGS * 8 + 16] = "";
    for (int i = 0; i <= MM_DKIM_MAX_TAGS; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "t%d=1;", i);
    mm_dkim_taglist tl;
    assert_int_equal(parse(many, &tl), MM_EMALFORMED);
    assert_int_equal(tl.err, MM_DKIM_TAG_ETOOMANY);
}

static void test_base64(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n;
    assert_int_equal(mm_dkim_b64_decode((const uint8_t *)"aGVs\r\n bG8=", 11, out, sizeof(out), &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "hello", 5);
    assert_int_equal(mm_dkim_b64_decode((const uint8_t *)"aGVsbA==", 8, out, sizeof(out), &n), 0);
    assert_int_equal(n, 4);
    /* RFC 6376 2.4 base64string: the padding is optional */
    assert_int_equal(mm_dkim_b64_decode((const uint8_t *)"aGVsbG8", 7, out, sizeof(out), &n), 0);
    assert_int_equal(n, 5);
    const char *bad[] = {"aGVsb$8=", "aGVs=bG8", "aGVsbG8===", "a", "aGVsbB==" /* non-zero bits */};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(mm_dkim_b64_decode((const uint8_t *)bad[i], strlen(bad[i]), out, sizeof(out), &n),
                         MM_EMALFORMED);
    assert_int_equal(mm_dkim_b64_decode((const uint8_t *)"aGVsbG8gd29ybGQhISEh", 20, out, 4, &n), MM_ESPACE);
    mm_buf b;
    mm_buf_init(&b, 64);
    for (size_t len = 0; len <= 5; len++) {
        mm_buf_reset(&b);
        assert_int_equal(mm_dkim_b64_encode(&b, (const uint8_t *)"hello", len), 0);
        assert_int_equal(mm_dkim_b64_decode(b.data, b.len, out, sizeof(out), &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(out, "hello", len);
    }
    mm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_error_classes),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
