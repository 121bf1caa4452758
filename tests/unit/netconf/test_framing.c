/* RFC 6242 framing: grammar, limits, every split point. SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"

/* Feed input (in pieces at split) and collect messages joined by '|'. */
static int decode(enum mm_nc_framing mode, const char *in, size_t len, size_t split,
                  size_t max, char *out, size_t outlen)
{
    mm_nc_framer f;
    mm_nc_framer_init(&f, max);
    mm_nc_framer_set_mode(&f, mode);
    out[0] = '\0';
    int rc = 0;
    size_t off = 0;
    while (off < len && rc >= 0) {
        size_t n = split && len - off > split ? split : len - off;
        if (split == 0 && off == 0)
            n = len;
        rc = mm_nc_framer_push(&f, (const uint8_t *)in + off, n);
        off += n;
        const char *msg;
        size_t mlen;
        while (rc >= 0 && (rc = mm_nc_framer_next(&f, &msg, &mlen)) == 1) {
            strncat(out, msg, outlen - strlen(out) - 1);
            strncat(out, "|", outlen - strlen(out) - 1);
        }
    }
    mm_nc_framer_free(&f);
    return rc;
}

static void test_eom(void **state)
{
    (void)state;
    char out[256];
    const char *in = "<a/>]]>]]><b/>]]>]]><c";
    for (size_t split = 1; split <= strlen(in); split++) {
        assert_int_equal(decode(MM_NC_FRAMING_EOM, in, strlen(in), split, 0, out, sizeof(out)),
                         0);
        assert_string_equal(out, "<a/>|<b/>|");
    }
}

static void test_chunked_every_split(void **state)
{
    (void)state;
    const char *in = "\n#4\n<rpc\n#18\n message-id=\"102\">\n#1\n<\n##\n\n#3\nabc\n##\n";
    char out[256];
    size_t len = strlen(in);
    for (size_t a = 1; a < len; a++) {
        /* two pieces split at a */
        mm_nc_framer f;
        mm_nc_framer_init(&f, 0);
        mm_nc_framer_set_mode(&f, MM_NC_FRAMING_CHUNKED);
        out[0] = '\0';
        const char *msg;
        size_t mlen;
        int rc;
        assert_int_equal(mm_nc_framer_push(&f, (const uint8_t *)in, a), 0);
        while ((rc = mm_nc_framer_next(&f, &msg, &mlen)) == 1) {
            strcat(out, msg);
            strcat(out, "|");
        }
        assert_int_equal(rc, 0);
        assert_int_equal(mm_nc_framer_push(&f, (const uint8_t *)in + a, len - a), 0);
        while ((rc = mm_nc_framer_next(&f, &msg, &mlen)) == 1) {
            strcat(out, msg);
            strcat(out, "|");
        }
        assert_int_equal(rc, 0);
        assert_string_equal(out, "<rpc message-id=\"102\"><|abc|");
        mm_nc_framer_free(&f);
    }
    for (size_t split = 1; split <= len; split++) {
        assert_int_equal(decode(MM_NC_FRAMING_CHUNKED, in, len, split, 0, out, sizeof(out)), 0);
        assert_string_equal(out, "<rpc message-id=\"102\"><|abc|");
    }
}

static void test_chunked_errors(void **state)
{
    (void)state;
    char out[64];
    static const struct {
        const char *in;
        int rc;
    } bad[] = {
        {"\n#0\n", MM_EMALFORMED},            /* chunk-size starts with DIGIT1 */
        {"\n#01\na\n##\n", MM_EMALFORMED},    /* leading zero */
        {"\n##\n", MM_EMALFORMED},            /* end-of-chunks without a chunk */
        {"#1\na\n##\n", MM_EMALFORMED},       /* missing LF */
        {"\n#1a\n", MM_EMALFORMED},           /* non-digit */
        {"\n#4294967296\n", MM_EMALFORMED},   /* over the grammar's maximum */
        {"\n#1\na#", MM_EMALFORMED},          /* chunk header without LF before HASH */
        {"\n#1\na\n##x", MM_EMALFORMED},      /* end-of-chunks not ended by LF */
        {"\n#4294967295\n", MM_ELIMIT},       /* valid size, over the local maximum */
        {" \n#1\na\n##\n", MM_EMALFORMED},    /* garbage between messages */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = decode(MM_NC_FRAMING_CHUNKED, bad[i].in, strlen(bad[i].in), 0, 1024, out,
                        sizeof(out));
        if (rc != bad[i].rc)
            fail_msg("case %zu: rc %d", i, rc);
    }
}

static void test_limits(void **state)
{
    (void)state;
    char out[64];
    /* chunks summing over the maximum */
    const char *over = "\n#8\n12345678\n#8\n12345678\n##\n";
    assert_int_equal(decode(MM_NC_FRAMING_CHUNKED, over, strlen(over), 0, 12, out, sizeof(out)),
                     MM_ELIMIT);
    /* exactly the maximum is fine */
    const char *exact = "\n#6\n123456\n#6\n123456\n##\n";
    assert_int_equal(decode(MM_NC_FRAMING_CHUNKED, exact, strlen(exact), 0, 12, out, sizeof(out)),
                     0);
    /* EOM message over the maximum without a delimiter */
    char big[200];
    memset(big, 'x', sizeof(big));
    assert_int_equal(decode(MM_NC_FRAMING_EOM, big, sizeof(big), 7, 50, out, sizeof(out)),
                     MM_ELIMIT);
    /* push beyond room is refused without a sticky error */
    mm_nc_framer f;
    mm_nc_framer_init(&f, 16);
    assert_true(mm_nc_framer_room(&f) > 0);
    assert_int_equal(mm_nc_framer_push(&f, (const uint8_t *)big, sizeof(big)), MM_ELIMIT);
    assert_int_equal(mm_nc_framer_push(&f, (const uint8_t *)"a]]>]]>", 7), 0);
    const char *msg;
    size_t len;
    assert_int_equal(mm_nc_framer_next(&f, &msg, &len), 1);
    assert_int_equal(len, 1);
    mm_nc_framer_free(&f);
}

static void test_mode_switch_keeps_buffer(void **state)
{
    (void)state;
    mm_nc_framer f;
    mm_nc_framer_init(&f, 0);
    const char *in = "<hello/>]]>]]>\n#2\nok\n##\n";
    assert_int_equal(mm_nc_framer_push(&f, (const uint8_t *)in, strlen(in)), 0);
    const char *msg;
    size_t len;
    assert_int_equal(mm_nc_framer_next(&f, &msg, &len), 1);
    assert_string_equal(msg, "<hello/>");
    mm_nc_framer_set_mode(&f, MM_NC_FRAMING_CHUNKED);
    assert_int_equal(mm_nc_framer_next(&f, &msg, &len), 1);
    assert_string_equal(msg, "ok");
    mm_nc_framer_free(&f);
}

static void test_encode(void **state)
{
    (void)state;
    mm_buf b;
    mm_buf_init(&b, 1024);
    assert_int_equal(mm_nc_frame(MM_NC_FRAMING_CHUNKED, "<ok/>", 5, &b), 0);
    assert_memory_equal(b.data, "\n#5\n<ok/>\n##\n", b.len);
    mm_buf_reset(&b);
    assert_int_equal(mm_nc_frame(MM_NC_FRAMING_EOM, "<ok/>", 5, &b), 0);
    assert_memory_equal(b.data, "<ok/>]]>]]>", b.len);
    /* a delimiter inside an EOM message would inject a message: refused */
    assert_int_equal(mm_nc_frame(MM_NC_FRAMING_EOM, "a]]>]]>b", 8, &b), MM_EINVAL);
    assert_int_equal(mm_nc_frame(MM_NC_FRAMING_CHUNKED, "", 0, &b), MM_EINVAL);
    mm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eom),
        cmocka_unit_test(test_chunked_every_split),
        cmocka_unit_test(test_chunked_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_mode_switch_keeps_buffer),
        cmocka_unit_test(test_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
