/*
 * A subscriber that does not read (notif_backlog.c, issue 10 #4): its
 * transport's queue is what the test client has not read yet. Over the cap a
 * grace runs; a reader that catches up keeps its session; one that stays
 * over, or reaches twice the cap, is closed with its queue dropped, an audit
 * record, and netconf-session-end (other) for the other subscribers.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "nc_test.h"

#define CAP 8192
#define SUB "<create-subscription xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\"/>"
/* Ten leaf-list entries replaced by ten others: a notification of ~20 edits. */
#define TAGS(v) "<tag>" v "1</tag><tag>" v "2</tag><tag>" v "3</tag><tag>" v "4</tag><tag>" v \
                "5</tag><tag>" v "6</tag><tag>" v "7</tag><tag>" v "8</tag><tag>" v "9</tag>"
#define EDIT(v) "<edit-config><target><running/></target><config><top " NCT_TNS \
                " xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" nc:operation=\"replace\">" \
                TAGS(v) "</top></config></edit-config>"

typedef struct fx {
    nct_server t;
    nct_conn a; /* the subscriber under test (backlog transport) */
    nct_conn b; /* makes the events */
    nct_conn c; /* another subscriber, reading */
    unsigned edits;
} fx;

static int start(void **state, uint32_t grace_ms)
{
    fx *f = calloc(1, sizeof(*f));
    mm_nc_server_config over = {.notif_grace_ms = grace_ms};
    if (!f || nct_server_start_with(&f->t, NULL, "admin", &over) != 0 ||
        nct_open_backlog(&f->t, &f->a, "admin", CAP) != 0 ||
        nct_open(&f->t, &f->b, "admin", true) != 0 || nct_open(&f->t, &f->c, "admin", true) != 0)
        return -1;
    *state = f;
    return 0;
}

static int setup_short(void **state) { return start(state, 1); }
static int setup_long(void **state) { return start(state, 600000); }

static int teardown(void **state)
{
    fx *f = *state;
    nct_drop(&f->a);
    nct_drop(&f->b);
    nct_drop(&f->c);
    nct_server_stop(&f->t, true);
    free(f);
    return 0;
}

static void drain(nct_conn *c)
{
    char *m;
    while ((m = nct_recv(c)) != NULL)
        free(m);
}

/* One event for every subscriber; c reads its copy at once. */
static void edit(fx *f)
{
    nct_ok(&f->b, f->edits++ % 2 ? EDIT("b") : EDIT("a"));
    drain(&f->c);
}

/* Make events until a's unread output is over the cap (bounded). */
static void fill_over_cap(fx *f)
{
    for (int i = 0; i < 500 && f->a.s && f->a.out.len <= CAP; i++)
        edit(f);
    assert_non_null(f->a.s);
    assert_true(f->a.out.len > CAP);
}

static void subscribe(fx *f)
{
    nct_ok(&f->a, SUB);
    nct_ok(&f->c, SUB);
}

static bool file_has(const char *path, const char *a, const char *b)
{
    FILE *fp = fopen(path, "r");
    char line[8192];
    bool hit = false;
    while (fp && !hit && fgets(line, sizeof(line), fp))
        hit = strstr(line, a) && strstr(line, b);
    if (fp)
        fclose(fp);
    return hit;
}

static void test_grace_ends_in_close(void **state)
{
    fx *f = *state;
    subscribe(f);
    uint32_t sid = mm_nc_session_id(f->a.s);
    fill_over_cap(f);
    /* Over the cap, under twice it: queued, the grace runs. */
    assert_true(f->a.out.len <= 2 * CAP);
    assert_false(f->a.aborted);
    /* The grace (1 ms) ends while a still has not read: closed, queue dropped. */
    for (int i = 0; i < 1000 && f->a.s; i++)
        event_base_loop(f->t.base, EVLOOP_ONCE);
    assert_null(f->a.s);
    assert_true(f->a.aborted);
    assert_int_equal(f->a.out.len, 0);
    /* The other subscriber is told why a's session ended (RFC 6470). */
    char *n = nct_recv(&f->c), want[64];
    assert_non_null(n);
    snprintf(want, sizeof(want), "<session-id>%u</session-id>", sid);
    assert_non_null(strstr(n, "<netconf-session-end"));
    assert_non_null(strstr(n, want));
    assert_non_null(strstr(n, "<termination-reason>other</termination-reason>"));
    free(n);
    /* Audited, naming the session. */
    char path[300], sidq[32];
    snprintf(path, sizeof(path), "%s/audit.log", f->t.dir);
    snprintf(sidq, sizeof(sidq), "\"session\":\"%u\"", sid);
    assert_true(file_has(path, "\"action\":\"session-end\"", sidq));
    mm_nc_stats st;
    mm_nc_server_stats(f->t.srv, &st);
    assert_int_equal(st.notif_overflows, 1);
    assert_true(st.session_queued_max > CAP && st.session_queued_max <= 2 * CAP);
    /* The event source is served as before. */
    edit(f);
}

static void test_reader_catches_up(void **state)
{
    fx *f = *state;
    subscribe(f);
    fill_over_cap(f);
    /* a reads everything, then the next event finds it under the cap: the
     * grace is over, and running the loop (where the 1 ms grace would end)
     * leaves a open, with the new notification queued. */
    drain(&f->a);
    edit(f);
    event_base_loop(f->t.base, EVLOOP_ONCE);
    assert_non_null(f->a.s);
    assert_false(f->a.aborted);
    char *n = nct_recv(&f->a);
    assert_non_null(n);
    assert_non_null(strstr(n, "<netconf-config-change"));
    free(n);
    /* Over again and caught up with no event in between: the grace's end
     * finds the queue under the cap and keeps the session. */
    fill_over_cap(f);
    drain(&f->a);
    event_base_loop(f->t.base, EVLOOP_ONCE);
    assert_non_null(f->a.s);
    mm_nc_stats st;
    mm_nc_server_stats(f->t.srv, &st);
    assert_int_equal(st.notif_overflows, 0);
}

static void test_twice_the_cap_closes_at_once(void **state)
{
    fx *f = *state; /* grace: 10 minutes, never reached here */
    subscribe(f);
    size_t peak = 0;
    for (int i = 0; i < 500 && f->a.s; i++) {
        edit(f);
        peak = f->a.out.len > peak ? f->a.out.len : peak;
        event_base_loop(f->t.base, EVLOOP_NONBLOCK); /* the deferred end, when due */
    }
    assert_null(f->a.s);
    assert_true(f->a.aborted);
    assert_true(peak > CAP);
    assert_true(peak <= 2 * CAP);
}

/*
 * A replay larger than the cap goes out at the pace the subscriber reads
 * (RFC 5277 section 3 replay is not a backlog to punish): every logged
 * event, then replayComplete, then an event that happened during the
 * replay, in that order; the queue never holds more than the cap.
 */
static void test_replay_paced(void **state)
{
    fx *f = *state; /* grace: 10 minutes */
    for (int i = 0; i < 40; i++)
        edit(f);
    nct_ok(&f->a, "<create-subscription xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\">"
                  "<startTime>2000-01-01T00:00:00Z</startTime></create-subscription>");
    edit(f); /* during the replay */
    int changes = 0, complete = 0, after = 0;
    size_t peak = 0;
    for (int i = 0; i < 2000 && f->a.s && !after; i++) {
        peak = f->a.out.len > peak ? f->a.out.len : peak;
        char *m;
        while ((m = nct_recv(&f->a)) != NULL) {
            if (strstr(m, "<replayComplete"))
                complete++;
            else if (strstr(m, "<netconf-config-change") && complete)
                after++;
            else if (strstr(m, "<netconf-config-change"))
                changes++;
            free(m);
        }
        if (!after)
            event_base_loop(f->t.base, EVLOOP_ONCE); /* the replay's next step */
    }
    assert_non_null(f->a.s);
    assert_false(f->a.aborted);
    assert_int_equal(changes, 40);
    assert_int_equal(complete, 1);
    assert_int_equal(after, 1);
    assert_true(peak <= CAP);
    mm_nc_stats st;
    mm_nc_server_stats(f->t.srv, &st);
    assert_true(st.session_queued_max <= CAP); /* the first burst too */
    /* Live again: the next event comes at once. */
    edit(f);
    char *n = nct_recv(&f->a);
    assert_non_null(n);
    assert_non_null(strstr(n, "<netconf-config-change"));
    free(n);
}

/* A replay the subscriber does not read while the log (64 events here) ages
 * out what it still owes: its stream cannot be complete, so it is ended. */
static void test_replay_aged_out(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 40; i++)
        edit(f);
    nct_ok(&f->a, "<create-subscription xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\">"
                  "<startTime>2000-01-01T00:00:00Z</startTime></create-subscription>");
    /* The replay stopped at half the cap and waits for its next step; before
     * it comes, 100 new events push what a is still owed out of the log. */
    for (int i = 0; i < 100 && f->a.s; i++)
        edit(f);
    for (int i = 0; i < 1000 && f->a.s; i++)
        event_base_loop(f->t.base, EVLOOP_ONCE);
    assert_null(f->a.s);
    assert_true(f->a.aborted);
    mm_nc_stats st;
    mm_nc_server_stats(f->t.srv, &st);
    assert_int_equal(st.notif_overflows, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_grace_ends_in_close, setup_short, teardown),
        cmocka_unit_test_setup_teardown(test_reader_catches_up, setup_short, teardown),
        cmocka_unit_test_setup_teardown(test_twice_the_cap_closes_at_once, setup_long, teardown),
        cmocka_unit_test_setup_teardown(test_replay_paced, setup_long, teardown),
        cmocka_unit_test_setup_teardown(test_replay_aged_out, setup_long, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
