/* mm_cursor: bounds, sticky errors, sub-cursors. SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"

static void test_read_big_endian(void **state)
{
    (void)state;
    const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
                          0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12};
    mm_cursor c;
    mm_cursor_init_read(&c, in, sizeof(in));
    assert_int_equal(mm_cursor_read_u8(&c), 0x01);
    assert_int_equal(mm_cursor_read_u16(&c), 0x0203);
    assert_int_equal(mm_cursor_read_u24(&c), 0x040506);
    assert_int_equal(mm_cursor_read_u32(&c), 0x0708090a);
    assert_true(mm_cursor_read_u64(&c) == 0x0b0c0d0e0f101112ULL);
    assert_int_equal(mm_cursor_remaining(&c), 0);
    assert_int_equal(mm_cursor_error(&c), 0);
}

static void test_underflow_is_sticky(void **state)
{
    (void)state;
    const uint8_t in[] = {0xAA, 0xBB, 0xCC};
    mm_cursor c;
    mm_cursor_init_read(&c, in, sizeof(in));
    assert_int_equal(mm_cursor_read_u16(&c), 0xAABB);
    /* Only one byte left: a u32 read fails and yields 0. */
    assert_int_equal(mm_cursor_read_u32(&c), 0);
    assert_int_equal(mm_cursor_error(&c), MM_ETRUNC);
    /* Sticky: even a read that would fit now fails. */
    assert_int_equal(mm_cursor_read_u8(&c), 0);
    assert_int_equal(mm_cursor_error(&c), MM_ETRUNC);
    assert_int_equal(mm_cursor_remaining(&c), 0);
    uint8_t out[2] = {0x55, 0x55};
    mm_cursor_read_bytes(&c, out, sizeof(out));
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 0);
}

static void test_skip_and_huge_lengths(void **state)
{
    (void)state;
    const uint8_t in[8] = {0};
    mm_cursor c;
    mm_cursor_init_read(&c, in, sizeof(in));
    mm_cursor_skip(&c, 6);
    assert_int_equal(mm_cursor_remaining(&c), 2);
    /* A length that would wrap a naive pos+n check. */
    mm_cursor_skip(&c, SIZE_MAX);
    assert_int_equal(mm_cursor_error(&c), MM_ETRUNC);
}

static void test_sub_cursor(void **state)
{
    (void)state;
    const uint8_t in[] = {0x00, 0x03, 'a', 'b', 'c', 0x7F};
    mm_cursor c, sub;
    mm_cursor_init_read(&c, in, sizeof(in));
    uint16_t n = mm_cursor_read_u16(&c);
    mm_cursor_sub(&c, n, &sub);
    assert_int_equal(mm_cursor_remaining(&sub), 3);
    assert_int_equal(mm_cursor_read_u8(&sub), 'a');
    /* Reading past the sub-span fails there, not in the parent. */
    mm_cursor_skip(&sub, 3);
    assert_int_equal(mm_cursor_error(&sub), MM_ETRUNC);
    assert_int_equal(mm_cursor_error(&c), 0);
    assert_int_equal(mm_cursor_read_u8(&c), 0x7F);

    /* A sub-span longer than what remains poisons both. */
    mm_cursor_init_read(&c, in, sizeof(in));
    mm_cursor_sub(&c, 100, &sub);
    assert_int_equal(mm_cursor_error(&c), MM_ETRUNC);
    assert_int_equal(mm_cursor_error(&sub), MM_ETRUNC);
    assert_int_equal(mm_cursor_remaining(&sub), 0);
}

static void test_writer_overflow(void **state)
{
    (void)state;
    uint8_t out[7];
    memset(out, 0xEE, sizeof(out));
    mm_cursor w;
    mm_cursor_init_write(&w, out, 6);
    mm_cursor_write_u16(&w, 0x0102);
    mm_cursor_write_u24(&w, 0x030405);
    assert_int_equal(mm_cursor_error(&w), 0);
    /* 1 byte left: a u16 does not fit, nothing is written. */
    mm_cursor_write_u16(&w, 0xFFFF);
    assert_int_equal(mm_cursor_error(&w), MM_ESPACE);
    mm_cursor_write_u8(&w, 0x06); /* sticky: refused too */
    assert_int_equal(out[5], 0xEE);
    assert_int_equal(out[6], 0xEE); /* never touched beyond the span */
    const uint8_t want[] = {0x01, 0x02, 0x03, 0x04, 0x05};
    assert_memory_equal(out, want, sizeof(want));
}

static void test_write_read_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[32];
    mm_cursor w, r;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    mm_cursor_write_u64(&w, 0x1122334455667788ULL);
    mm_cursor_write_u32(&w, 0xDEADBEEF);
    mm_cursor_write_bytes(&w, (const uint8_t *)"xyz", 3);
    mm_cursor_write_zeros(&w, 2);
    assert_int_equal(mm_cursor_offset(&w), 17);
    mm_cursor_init_read(&r, buf, mm_cursor_offset(&w));
    assert_true(mm_cursor_read_u64(&r) == 0x1122334455667788ULL);
    assert_int_equal(mm_cursor_read_u32(&r), 0xDEADBEEF);
    uint8_t s[3];
    mm_cursor_read_bytes(&r, s, 3);
    assert_memory_equal(s, "xyz", 3);
    assert_int_equal(mm_cursor_read_u16(&r), 0);
    assert_int_equal(mm_cursor_error(&r), 0);
    assert_int_equal(mm_cursor_remaining(&r), 0);
}

static void test_null_span(void **state)
{
    (void)state;
    mm_cursor c;
    mm_cursor_init_read(&c, NULL, 100);
    assert_int_equal(mm_cursor_remaining(&c), 0);
    mm_cursor_read_u8(&c);
    assert_int_equal(mm_cursor_error(&c), MM_ETRUNC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_big_endian),   cmocka_unit_test(test_underflow_is_sticky),
        cmocka_unit_test(test_skip_and_huge_lengths), cmocka_unit_test(test_sub_cursor),
        cmocka_unit_test(test_writer_overflow),   cmocka_unit_test(test_write_read_roundtrip),
        cmocka_unit_test(test_null_span),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
