/* Every error code has its own text. SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mamori/mm_core.h"

static void test_every_code_named(void **state)
{
    (void)state;
    static const int codes[] = {
#define X(sym, val, text) sym,
        MM_ERROR_TABLE(X)
#undef X
    };
    size_t n = sizeof(codes) / sizeof(codes[0]);
    for (size_t i = 0; i < n; i++) {
        const char *t = mm_strerror(codes[i]);
        assert_non_null(t);
        assert_string_not_equal(t, "unknown error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(t, mm_strerror(codes[j]));
    }
    assert_string_equal(mm_strerror(-9999), "unknown error");
    assert_string_equal(mm_strerror(MM_ETRUNC), "input truncated (read past the end)");
}

static void test_hex(void **state)
{
    (void)state;
    const uint8_t in[] = {0x00, 0xAB, 0x7f};
    char out[7];
    mm_hex_encode(in, 3, out);
    assert_string_equal(out, "00AB7F");
    uint8_t back[3];
    assert_int_equal(mm_hex_decode("00ab7F", 6, back, 3), 0);
    assert_memory_equal(back, in, 3);
    assert_int_equal(mm_hex_decode("00ab7", 5, back, 3), MM_EMALFORMED);
    assert_int_equal(mm_hex_decode("00ag7f", 6, back, 3), MM_EMALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_named),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
