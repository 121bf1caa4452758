/* Canonicalization (RFC 6376 3.4), streaming equivalence. SPDX-License-Identifier: Apache-2.0 */
#include "dkim_test.h"

static void sink(void *arg, const uint8_t *p, size_t n) { mm_buf_append(arg, p, n); }

static void body(enum mm_dkim_canon c, const char *in, size_t chunk, mm_buf *out)
{
    mm_dkim_body b;
    mm_buf_reset(out);
    mm_dkim_body_init(&b, c, sink, out);
    size_t n = strlen(in);
    for (size_t i = 0; i < n; i += chunk)
        mm_dkim_body_update(&b, (const uint8_t *)in + i, n - i < chunk ? n - i : chunk);
    mm_dkim_body_final(&b);
    mm_buf_cstr(out);
}

static void expect_body(enum mm_dkim_canon c, const char *in, const char *want)
{
    mm_buf out;
    mm_buf_init(&out, 1 << 20);
    for (size_t chunk = 1; chunk <= strlen(in) + 1; chunk++) {
        body(c, in, chunk, &out);
        assert_int_equal(out.len, strlen(want));
        assert_memory_equal(out.data, want, out.len);
    }
    mm_buf_free(&out);
}

static void test_rfc_example(void **state)
{
    (void)state;
    /* RFC 6376 3.4.5 */
    const char *b = " C \r\nD \t E\r\n\r\n\r\n";
    expect_body(MM_DKIM_RELAXED, b, " C\r\nD E\r\n");
    expect_body(MM_DKIM_SIMPLE, b, " C \r\nD \t E\r\n");
    mm_buf out;
    mm_buf_init(&out, 4096);
    assert_int_equal(mm_dkim_canon_header(MM_DKIM_RELAXED, (const uint8_t *)"A: X", 4, true, &out), 0);
    const char *f = "B : Y\t\r\n\tZ  ";
    assert_int_equal(mm_dkim_canon_header(MM_DKIM_RELAXED, (const uint8_t *)f, strlen(f), true, &out), 0);
    assert_int_equal(out.len, strlen("a:X\r\nb:Y Z\r\n"));
    assert_memory_equal(out.data, "a:X\r\nb:Y Z\r\n", out.len);
    mm_buf_reset(&out);
    assert_int_equal(mm_dkim_canon_header(MM_DKIM_SIMPLE, (const uint8_t *)f, strlen(f), true, &out), 0);
    assert_memory_equal(out.data, "B : Y\t\r\n\tZ  \r\n", out.len);
    mm_buf_free(&out);
}

static void test_edges(void **state)
{
    (void)state;
    expect_body(MM_DKIM_RELAXED, "", "");
    expect_body(MM_DKIM_SIMPLE, "", "\r\n");
    expect_body(MM_DKIM_RELAXED, "\r\n\r\n", "");
    expect_body(MM_DKIM_SIMPLE, "\r\n\r\n", "\r\n");
    expect_body(MM_DKIM_RELAXED, "  \r\n \t\r\n", "");
    expect_body(MM_DKIM_SIMPLE, "  \r\n", "  \r\n");
    expect_body(MM_DKIM_RELAXED, "no newline", "no newline\r\n");
    expect_body(MM_DKIM_RELAXED, "a\n\nb\n\n", "a\r\n\r\nb\r\n"); /* bare LF is a line end */
    expect_body(MM_DKIM_SIMPLE, "a\rb\r\n", "a\rb\r\n");            /* bare CR is content */
    expect_body(MM_DKIM_RELAXED, "x\r", "x\r\r\n");
    expect_body(MM_DKIM_RELAXED, "\r\n\r\nx  y\t\r\n", "\r\n\r\nx y\r\n"); /* leading empty lines stay */
}

static void test_empty_body_hashes(void **state)
{
    (void)state;
    /* spec 2.3 constants: SHA-256 of the canonical empty body */
    mm_buf out, b64;
    mm_buf_init(&out, 64);
    mm_buf_init(&b64, 64);
    uint8_t dg[32];
    unsigned int dl;
    body(MM_DKIM_RELAXED, "", 1, &out);
    EVP_Digest(out.data ? out.data : (const uint8_t *)"", out.len, dg, &dl, EVP_sha256(), NULL);
    mm_dkim_b64_encode(&b64, dg, 32);
    assert_string_equal(mm_buf_cstr(&b64), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    body(MM_DKIM_SIMPLE, "\r\n\r\n", 1, &out);
    EVP_Digest(out.data, out.len, dg, &dl, EVP_sha256(), NULL);
    mm_buf_reset(&b64);
    mm_dkim_b64_encode(&b64, dg, 32);
    assert_string_equal(mm_buf_cstr(&b64), "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
    mm_buf_free(&out);
    mm_buf_free(&b64);
}

static void test_random_chunking(void **state)
{
    (void)state;
    /* any split of a noisy body gives the same canonical output */
    char in[2048];
    const char alphabet[] = "ab \t\r\n\n";
    srand(7);
    for (size_t i = 0; i + 1 < sizeof(in); i++)
        in[i] = alphabet[rand() % (sizeof(alphabet) - 1)];
    in[sizeof(in) - 1] = 0;
    for (int c = 0; c < 2; c++) {
        mm_buf ref, out;
        mm_buf_init(&ref, 1 << 16);
        mm_buf_init(&out, 1 << 16);
        body((enum mm_dkim_canon)c, in, sizeof(in), &ref);
        for (size_t chunk = 1; chunk < 40; chunk += 3) {
            body((enum mm_dkim_canon)c, in, chunk, &out);
            assert_int_equal(out.len, ref.len);
            assert_memory_equal(out.data, ref.data, ref.len);
        }
        mm_buf_free(&ref);
        mm_buf_free(&out);
    }
}

static void test_message_split(void **state)
{
    (void)state;
    mm_dkim_msg m;
    mm_dkim_msg_init(&m);
    const char *msg = "A: 1\nB: 2\n  cont\n\nbody\n";
    size_t off;
    assert_int_equal(mm_dkim_msg_parse(&m, (const uint8_t *)msg, strlen(msg), &off), 0);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.f[1].len, strlen("B: 2\r\n  cont"));
    assert_memory_equal(m.f[1].raw, "B: 2\r\n  cont", m.f[1].len);
    assert_string_equal(msg + off, "body\n");
    mm_dkim_msg_free(&m);
    /* continuation first, field without colon: malformed */
    mm_dkim_msg_init(&m);
    assert_int_equal(mm_dkim_msg_parse(&m, (const uint8_t *)" x\r\n", 4, &off), MM_EMALFORMED);
    mm_dkim_msg_free(&m);
    mm_dkim_msg_init(&m);
    assert_int_equal(mm_dkim_msg_parse(&m, (const uint8_t *)"nocolon\r\n\r\n", 11, &off), MM_EMALFORMED);
    mm_dkim_msg_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_example),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_empty_body_hashes),
        cmocka_unit_test(test_random_chunking),
        cmocka_unit_test(test_message_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
