/* libevent helpers: timers and the signal-driven shutdown. SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_event.h"

struct counts {
    int ticks, once, shutdowns, signo;
    struct event_base *base;
    struct event *periodic;
};

static void on_tick(void *arg)
{
    struct counts *c = arg;
    if (++c->ticks == 3)
        raise(SIGTERM); /* the shutdown handler ends the loop */
}

static void on_once(void *arg) { ((struct counts *)arg)->once++; }

static void on_shutdown(int signo, void *arg)
{
    struct counts *c = arg;
    c->shutdowns++;
    c->signo = signo;
}

static void test_timers_and_shutdown(void **state)
{
    (void)state;
    struct counts c = {0};
    c.base = event_base_new();
    assert_non_null(c.base);
    mm_shutdown *sd = mm_shutdown_install(c.base, on_shutdown, &c, true);
    assert_non_null(sd);
    struct event *tick = mm_timer_new(c.base, 10, true, on_tick, &c);
    struct event *once = mm_timer_new(c.base, 1, false, on_once, &c);
    assert_non_null(tick);
    assert_non_null(once);
    assert_int_equal(event_base_dispatch(c.base), 0);
    assert_int_equal(c.ticks, 3);
    assert_int_equal(c.once, 1); /* one-shot fired exactly once */
    assert_int_equal(c.shutdowns, 1);
    assert_int_equal(c.signo, SIGTERM);
    assert_int_equal(mm_shutdown_signal(sd), SIGTERM);
    /* Re-arming a one-shot makes it fire again. */
    assert_int_equal(mm_timer_arm(once, 1), 0);
    event_base_loop(c.base, EVLOOP_ONCE);
    assert_int_equal(c.once, 2);
    mm_timer_free(tick);
    mm_timer_free(once);
    mm_shutdown_free(sd);
    event_base_free(c.base);
}

static void on_deferred(int signo, void *arg)
{
    (void)signo;
    ((struct counts *)arg)->shutdowns++;
}

static void raise_int(void *arg)
{
    (void)arg;
    raise(SIGINT);
}

static void test_deferred_exit_second_signal(void **state)
{
    (void)state;
    /* immediate_exit=false: the first signal only calls back; a second ends the loop. */
    struct counts c = {0};
    c.base = event_base_new();
    mm_shutdown *sd = mm_shutdown_install(c.base, on_deferred, &c, false);
    struct event *t = mm_timer_new(c.base, 5, true, raise_int, &c);
    assert_int_equal(event_base_loop(c.base, EVLOOP_NO_EXIT_ON_EMPTY), 0);
    assert_int_equal(c.shutdowns, 1);
    assert_int_equal(mm_shutdown_signal(sd), SIGINT);
    mm_timer_free(t);
    mm_shutdown_free(sd);
    event_base_free(c.base);
}

int main(void)
{
    mm_log_set_level(MM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_and_shutdown),
        cmocka_unit_test(test_deferred_exit_second_signal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
