/*
 * Fixed-window limiter: counts, window reset, headers' numbers, bounded keys.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

static void test_window(void **state)
{
    (void)state;
    mm_ddns_rl *rl = mm_ddns_rl_new(16);
    mm_ddns_rl_result r;
    int64_t t = 1000020; /* window [1000020, 1000080) for 60 s windows aligned to 60 */
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(mm_ddns_rl_hit(rl, "k", 3, 60, t, &r), 0);
        assert_int_equal(r.limit, 3);
        assert_int_equal(r.remaining, 2 - i);
        assert_int_equal(r.reset, 1000020 - 1000020 % 60 + 60);
    }
    assert_int_equal(mm_ddns_rl_hit(rl, "k", 3, 60, t + 5, &r), MM_EAGAIN);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_after, (uint32_t)(r.reset - (t + 5)));
    assert_int_equal(mm_ddns_rl_peek(rl, "k", 60, t + 5), 3);
    /* other keys are independent */
    assert_int_equal(mm_ddns_rl_hit(rl, "other", 3, 60, t, &r), 0);
    /* next window */
    assert_int_equal(mm_ddns_rl_hit(rl, "k", 3, 60, r.reset + 60, &r), 0);
    assert_int_equal(r.remaining, 2);
    mm_ddns_rl_free(rl);
}

static void test_bounded(void **state)
{
    (void)state;
    mm_ddns_rl *rl = mm_ddns_rl_new(8);
    mm_ddns_rl_result r;
    char k[32];
    /* many more keys than slots: never fails, memory stays 8 entries */
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "ip%d", i);
        assert_int_equal(mm_ddns_rl_hit(rl, k, 1, 60, 600 + i, &r), 0);
    }
    /* the most recent key is still tracked */
    assert_int_equal(mm_ddns_rl_hit(rl, "ip999", 1, 60, 1599, &r), MM_EAGAIN);
    mm_ddns_rl_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_window), cmocka_unit_test(test_bounded)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
