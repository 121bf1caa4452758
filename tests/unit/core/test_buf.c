/* mm_buf: growth, the upper bound, consume. SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mamori/mm_buf.h"
#include "mamori/mm_core.h"

static void test_grow_and_limit(void **state)
{
    (void)state;
    mm_buf b;
    mm_buf_init(&b, 100);
    char chunk[30];
    memset(chunk, 'x', sizeof(chunk));
    for (int i = 0; i < 3; i++)
        assert_int_equal(mm_buf_append(&b, chunk, sizeof(chunk)), 0);
    assert_int_equal(b.len, 90);
    /* 90 + 30 > 100: refused, contents unchanged. */
    assert_int_equal(mm_buf_append(&b, chunk, sizeof(chunk)), MM_ELIMIT);
    assert_int_equal(b.len, 90);
    assert_int_equal(mm_buf_append(&b, chunk, 10), 0);
    assert_int_equal(b.len, 100);
    assert_int_equal(mm_buf_append(&b, "y", 1), MM_ELIMIT);
    mm_buf_free(&b);
    assert_null(b.data);
}

static void test_printf_and_cstr(void **state)
{
    (void)state;
    mm_buf b;
    mm_buf_init(&b, 64);
    assert_string_equal(mm_buf_cstr(&b), "");
    assert_int_equal(mm_buf_printf(&b, "%s=%d", "port", 6513), 0);
    assert_int_equal(mm_buf_append_str(&b, ";"), 0);
    assert_string_equal(mm_buf_cstr(&b), "port=6513;");
    assert_int_equal(b.len, 10);
    /* An expansion longer than the limit fails whole. */
    assert_int_equal(mm_buf_printf(&b, "%080d", 1), MM_ELIMIT);
    assert_string_equal(mm_buf_cstr(&b), "port=6513;");
    mm_buf_free(&b);
}

static void test_consume(void **state)
{
    (void)state;
    mm_buf b;
    mm_buf_init(&b, 1024);
    b.secret = true;
    assert_int_equal(mm_buf_append_str(&b, "hello world"), 0);
    mm_buf_consume(&b, 6);
    assert_string_equal(mm_buf_cstr(&b), "world");
    mm_buf_consume(&b, 1000);
    assert_int_equal(b.len, 0);
    assert_int_equal(mm_buf_append_str(&b, "again"), 0);
    assert_string_equal(mm_buf_cstr(&b), "again");
    mm_buf_free(&b);
}

static void test_zero_limit(void **state)
{
    (void)state;
    mm_buf b;
    mm_buf_init(&b, 0);
    assert_int_equal(mm_buf_append(&b, "a", 1), MM_ELIMIT);
    assert_int_equal(mm_buf_append(&b, "", 0), 0);
    mm_buf_free(&b);
}

static void test_append_u64(void **state)
{
    (void)state;
    mm_buf b;
    mm_buf_init(&b, 64);
    assert_int_equal(mm_buf_append_u64(&b, 0), 0);
    assert_int_equal(mm_buf_append(&b, ",", 1), 0);
    assert_int_equal(mm_buf_append_u64(&b, 7), 0);
    assert_int_equal(mm_buf_append(&b, ",", 1), 0);
    assert_int_equal(mm_buf_append_u64(&b, 18446744073709551615u), 0);
    assert_string_equal(mm_buf_cstr(&b), "0,7,18446744073709551615");
    mm_buf_free(&b);
}

static void test_strv_push(void **state)
{
    (void)state;
    char **v = NULL;
    size_t n = 0;
    assert_int_equal(mm_strv_push(&v, &n, strdup("a")), 0);
    assert_int_equal(mm_strv_push(&v, &n, strdup("b")), 0);
    assert_int_equal(mm_strv_push(&v, &n, NULL), MM_ENOMEM); /* a failed strdup */
    assert_int_equal(n, 2);
    assert_string_equal(v[0], "a");
    assert_string_equal(v[1], "b");
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_and_limit),
        cmocka_unit_test(test_printf_and_cstr),
        cmocka_unit_test(test_consume),
        cmocka_unit_test(test_zero_limit),
        cmocka_unit_test(test_strv_push),
        cmocka_unit_test(test_append_u64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
