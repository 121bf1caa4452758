/* Candidate, commit, confirmed commit 1.1, notifications, monitoring, NMDA. SPDX-License-Identifier: Apache-2.0 */
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

typedef struct fx {
    nct_server t;
    nct_conn a, b;
    int changed;
} fx;

static void on_changed(mm_nc_server *srv, void *arg)
{
    (void)srv;
    ((fx *)arg)->changed++;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    if (nct_server_start(&f->t, NULL, "admin") != 0 || nct_open(&f->t, &f->a, "admin", true) ||
        nct_open(&f->t, &f->b, "admin", true))
        return -1;
    mm_nc_server_on_running_changed(f->t.srv, on_changed, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    nct_drop(&f->a);
    nct_drop(&f->b);
    nct_server_stop(&f->t, true);
    free(f);
    return 0;
}

#define CAND(x) "<edit-config><target><candidate/></target><config><top " NCT_TNS "><name>" x \
                "</name></top></config></edit-config>"
#define GET_RUN "<get-config><source><running/></source></get-config>"

static bool running_has(nct_conn *c, const char *s)
{
    char *r = nct_rpc(c, GET_RUN);
    bool hit = r && strstr(r, s);
    free(r);
    return hit;
}

static void run_loop(nct_server *t, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    event_base_loopexit(t->base, &tv);
    event_base_dispatch(t->base);
}

static void test_commit_discard(void **state)
{
    fx *f = *state;
    nct_ok(&f->a, CAND("c1"));
    assert_false(running_has(&f->a, "c1"));
    nct_ok(&f->a, "<commit/>");
    assert_true(running_has(&f->a, "c1"));
    assert_true(f->changed > 0);
    nct_ok(&f->a, CAND("c2"));
    nct_ok(&f->a, "<discard-changes/>");
    nct_ok(&f->a, "<commit/>");
    assert_true(running_has(&f->a, "c1"));
}

static void test_confirmed_timeout(void **state)
{
    fx *f = *state;
    nct_ok(&f->a, CAND("base"));
    nct_ok(&f->a, "<commit/>");
    nct_ok(&f->a, CAND("trial"));
    nct_ok(&f->a, "<commit><confirmed/><confirm-timeout>1</confirm-timeout></commit>");
    assert_true(running_has(&f->a, "trial"));
    run_loop(&f->t, 1500);
    assert_true(running_has(&f->a, "base"));
    /* confirming in time keeps it; follow-up resets the timer */
    nct_ok(&f->a, CAND("kept"));
    nct_ok(&f->a, "<commit><confirmed/><confirm-timeout>1</confirm-timeout></commit>");
    nct_ok(&f->a, "<commit><confirmed/><confirm-timeout>3</confirm-timeout></commit>");
    run_loop(&f->t, 1200);
    assert_true(running_has(&f->a, "kept"));
    /* another session cannot confirm a non-persistent one */
    free(nct_expect(&f->b, "<commit/>", "<rpc-error>"));
    nct_ok(&f->a, "<commit/>");
    run_loop(&f->t, 100);
    assert_true(running_has(&f->a, "kept"));
}

static void test_confirmed_persist_and_cancel(void **state)
{
    fx *f = *state;
    nct_ok(&f->a, CAND("p0"));
    nct_ok(&f->a, "<commit/>");
    nct_ok(&f->a, CAND("p1"));
    nct_ok(&f->a, "<commit><confirmed/><persist>tok</persist></commit>");
    /* survives its session */
    nct_drop(&f->a);
    assert_true(running_has(&f->b, "p1"));
    free(nct_expect(&f->b, "<commit><persist-id>bad</persist-id></commit>",
                    "<error-tag>invalid-value</error-tag>"));
    free(nct_expect(&f->b, "<cancel-commit><persist-id>bad</persist-id></cancel-commit>",
                    "<error-tag>invalid-value</error-tag>"));
    nct_ok(&f->b, "<cancel-commit><persist-id>tok</persist-id></cancel-commit>");
    assert_true(running_has(&f->b, "p0"));
    free(nct_expect(&f->b, "<cancel-commit/>", "<error-tag>operation-failed</error-tag>"));
    nct_ok(&f->b, CAND("p2"));
    nct_ok(&f->b, "<commit><confirmed/><persist>t2</persist></commit>");
    nct_ok(&f->b, "<commit><persist-id>t2</persist-id></commit>");
    assert_true(nct_open(&f->t, &f->a, "admin", true) == 0);
    assert_true(running_has(&f->a, "p2"));
}

static void test_rollback_on_session_end(void **state)
{
    fx *f = *state;
    char x[128];
    nct_ok(&f->a, CAND("r0"));
    nct_ok(&f->a, "<commit/>");
    /* lost transport */
    nct_ok(&f->a, CAND("r1"));
    nct_ok(&f->a, "<commit><confirmed/></commit>");
    nct_drop(&f->a);
    assert_true(running_has(&f->b, "r0"));
    /* killed session */
    assert_int_equal(nct_open(&f->t, &f->a, "admin", true), 0);
    nct_ok(&f->a, CAND("r2"));
    nct_ok(&f->a, "<commit><confirmed/></commit>");
    snprintf(x, sizeof(x), "<kill-session><session-id>%u</session-id></kill-session>",
             mm_nc_session_id(f->a.s));
    nct_ok(&f->b, x);
    assert_true(running_has(&f->b, "r0"));
    nct_drop(&f->a);
    /* server-side terminate */
    assert_int_equal(nct_open(&f->t, &f->a, "admin", true), 0);
    nct_ok(&f->a, CAND("r3"));
    nct_ok(&f->a, "<commit><confirmed/></commit>");
    mm_nc_session_terminate(f->a.s, "test");
    assert_true(running_has(&f->b, "r0"));
    nct_drop(&f->a);
    assert_int_equal(nct_open(&f->t, &f->a, "admin", true), 0);
}

#define SUB "<create-subscription xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\">"

static void test_notifications(void **state)
{
    fx *f = *state;
    nct_ok(&f->a, SUB "</create-subscription>");
    free(nct_expect(&f->a, SUB "</create-subscription>", "<error-tag>in-use</error-tag>"));
    nct_ok(&f->b, "<edit-config><target><running/></target><config><top " NCT_TNS "><name>n</name>"
                  "</top></config></edit-config>");
    char *n = nct_recv(&f->a);
    assert_non_null(n);
    assert_non_null(strstr(n, "<netconf-config-change"));
    assert_non_null(strstr(n, "<operation>create</operation>"));
    assert_non_null(strstr(n, "<eventTime>"));
    free(n);
    /* session end of b */
    nct_drop(&f->b);
    n = nct_recv(&f->a);
    assert_non_null(strstr(n, "<netconf-session-end"));
    assert_non_null(strstr(n, "<termination-reason>dropped</termination-reason>"));
    free(n);
    assert_int_equal(nct_open(&f->t, &f->b, "admin", true), 0);
    n = nct_recv(&f->a);
    assert_non_null(strstr(n, "<netconf-session-start"));
    free(n);
    /* errors */
    free(nct_expect(&f->b, SUB "<stopTime>2020-01-01T00:00:00Z</stopTime></create-subscription>",
                    "<error-tag>missing-element</error-tag>"));
    free(nct_expect(&f->b, SUB "<startTime>2999-01-01T00:00:00Z</startTime></create-subscription>",
                    "<error-tag>bad-element</error-tag>"));
    free(nct_expect(&f->b,
                    SUB "<startTime>2020-01-02T00:00:00Z</startTime><stopTime>"
                        "2020-01-01T00:00:00Z</stopTime></create-subscription>",
                    "<error-tag>bad-element</error-tag>"));
    free(nct_expect(&f->b, SUB "<stream>nope</stream></create-subscription>", "<rpc-error>"));
    /* replay with a filter, then replayComplete and notificationComplete */
    char *r =
        nct_expect(&f->b,
                   SUB "<filter type=\"subtree\"><netconf-config-change xmlns=\"urn:"
                       "ietf:params:xml:ns:yang:ietf-netconf-notifications\"/></filter><startTime>"
                       "2000-01-01T00:00:00Z</startTime><stopTime>2999-01-01T00:00:00Z</stopTime>"
                       "</create-subscription>",
                   "<ok/>");
    free(r);
    n = nct_recv(&f->b);
    assert_non_null(strstr(n, "<netconf-config-change"));
    free(n);
    n = nct_recv(&f->b);
    assert_non_null(strstr(n, "<replayComplete"));
    free(n);
    assert_null(nct_recv(&f->b));
    /* streams */
    r = nct_expect(&f->b,
                   "<get><filter type=\"subtree\"><netconf xmlns=\"urn:ietf:params:xml:ns:"
                   "netmod:notification\"/></filter></get>",
                   "<name>NETCONF</name>");
    assert_non_null(strstr(r, "<replaySupport>true</replaySupport>"));
    free(r);
}

static void test_replay_stop_and_channel(void **state)
{
    fx *f = *state;
    nct_conn q;
    nct_ok(&f->a, CAND("x"));
    nct_ok(&f->a, "<commit><confirmed/><confirm-timeout>30</confirm-timeout></commit>");
    nct_ok(&f->a, "<commit/>");
    assert_int_equal(nct_open_ex(&f->t, &q, "admin", true, true), 0);
    assert_int_equal(nct_hello(&q, "<hello " NCT_NS "><capabilities><capability>urn:ietf:params:"
                                   "netconf:base:1.1</capability></capabilities></hello>"), 0);
    nct_ok(&q, SUB "<filter type=\"xpath\" xmlns:nn=\"urn:ietf:params:xml:ns:yang:ietf-netconf-"
                   "notifications\" select=\"/nn:netconf-confirmed-commit\"/><startTime>"
                   "2000-01-01T00:00:00Z</startTime><stopTime>2001-01-01T00:00:00Z</stopTime>"
                   "</create-subscription>");
    /* stopTime in the past: nothing matches, then both markers, channel closed */
    assert_int_equal(q.chan_opened, 1);
    assert_int_equal(q.chan_closed, 1);
    mm_nc_framer rx;
    mm_nc_framer_init(&rx, 0);
    mm_nc_framer_set_mode(&rx, MM_NC_FRAMING_CHUNKED);
    mm_nc_framer_push(&rx, q.chan_out.data, q.chan_out.len);
    const char *msg;
    size_t len;
    assert_int_equal(mm_nc_framer_next(&rx, &msg, &len), 1);
    assert_non_null(strstr(msg, "<replayComplete"));
    assert_int_equal(mm_nc_framer_next(&rx, &msg, &len), 1);
    assert_non_null(strstr(msg, "<notificationComplete"));
    assert_int_equal(mm_nc_framer_next(&rx, &msg, &len), 0);
    mm_nc_framer_free(&rx);
    /* a new subscription on the channel sees the confirmed-commit events */
    mm_buf_reset(&q.chan_out);
    nct_ok(&q, SUB "<filter type=\"xpath\" xmlns:nn=\"urn:ietf:params:xml:ns:yang:ietf-netconf-"
                   "notifications\" select=\"/nn:netconf-confirmed-commit\"/><startTime>"
                   "2000-01-01T00:00:00Z</startTime></create-subscription>");
    const char *out = mm_buf_cstr(&q.chan_out);
    assert_non_null(strstr(out, "<confirm-event>start</confirm-event>"));
    assert_non_null(strstr(out, "<confirm-event>complete</confirm-event>"));
    assert_null(strstr(out, "config-change"));
    nct_drop(&q);
    assert_int_equal(q.chan_closed, 1);
}

static void test_monitoring_nmda(void **state)
{
    fx *f = *state;
    char *r = nct_expect(&f->a,
                         "<get><filter type=\"subtree\"><netconf-state xmlns=\"urn:ietf:params"
                         ":xml:ns:yang:ietf-netconf-monitoring\"/></filter></get>",
                         "<username>admin");
    assert_non_null(strstr(r, "<capability>urn:ietf:params:netconf:base:1.1</capability>"));
    assert_non_null(strstr(r, "<identifier>nc-test</identifier>"));
    assert_non_null(strstr(r, "<in-sessions>"));
    assert_non_null(strstr(r, "<name>candidate</name>"));
    free(r);
    r = nct_expect(&f->a,
                   "<get-schema xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring\">"
                   "<identifier>nc-test</identifier></get-schema>",
                   "module nc-test {");
    free(r);
    free(nct_expect(&f->a,
                    "<get-schema xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring\">"
                    "<identifier>nope</identifier></get-schema>",
                    "<error-tag>invalid-value</error-tag>"));
#define NMDA "xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-nmda\" " \
             "xmlns:ds=\"urn:ietf:params:xml:ns:yang:ietf-datastores\""
    nct_ok(&f->a,
           "<edit-data " NMDA "><datastore>ds:candidate</datastore><config><top " NCT_TNS
           "><name>nm</name><item><id>1</id><value>3</value></item></top></config></edit-data>");
    r = nct_expect(&f->a, "<get-data " NMDA "><datastore>ds:candidate</datastore></get-data>",
                   "<name>nm</name>");
    free(r);
    r = nct_expect(&f->a,
                   "<get-data " NMDA "><datastore>ds:candidate</datastore><max-depth>2"
                   "</max-depth></get-data>",
                   "<name>nm</name>");
    assert_null(strstr(r, "<value>"));
    free(r);
    r = nct_expect(
        &f->a,
        "<get-data " NMDA "><datastore>ds:operational</datastore><config-filter>"
        "false</config-filter><subtree-filter><netconf-state xmlns=\"urn:ietf:params:xml:"
        "ns:yang:ietf-netconf-monitoring\"><statistics/></netconf-state></subtree-filter>"
        "</get-data>",
        "<in-rpcs>");
    free(r);
    /* attribute match in get-data's subtree-filter: the attribute-bearing node is not selected */
    r = nct_expect(&f->a,
                   "<get-data " NMDA "><datastore>ds:candidate</datastore><subtree-filter><top "
                   NCT_TNS "><name/><item k='v'/></top></subtree-filter></get-data>",
                   "<name>nm</name>");
    assert_null(strstr(r, "<item>"));
    free(r);
    r = nct_expect(&f->a,
                   "<get-data " NMDA "><datastore>ds:candidate</datastore><with-defaults>"
                   "report-all</with-defaults></get-data>",
                   "<mtu>1500</mtu>");
    free(r);
    free(nct_expect(&f->a, "<get-data " NMDA "><datastore>ds:intended</datastore></get-data>",
                    "<error-tag>invalid-value</error-tag>"));
    free(nct_expect(&f->a,
                    "<edit-data " NMDA "><datastore>ds:operational</datastore><config/>"
                    "</edit-data>",
                    "<error-tag>invalid-value</error-tag>"));
}

#define NMDA_NS "xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-nmda\" " \
                "xmlns:ds=\"urn:ietf:params:xml:ns:yang:ietf-datastores\""
#define GET_DATA_RUN(extra) "<get-data " NMDA_NS "><datastore>ds:running</datastore>" extra \
                            "</get-data>"

/*
 * Issue 10 item 16, RFC 8526 section 3.1.1: max-depth 1 returns the
 * selected nodes without their children (the top-level nodes without a
 * filter; list entries with their keys), not an empty <data/>.
 */
static void test_get_data_max_depth(void **state)
{
    fx *f = *state;
    nct_ok(&f->a, "<edit-config><target><running/></target><config><top " NCT_TNS "><name>d"
                  "</name><item><id>1</id><value>3</value></item><sub><x>y</x></sub></top>"
                  "<strict " NCT_TNS "><k>s</k><req>r</req></strict></config></edit-config>");
    char *r = nct_expect(&f->a, GET_DATA_RUN("<max-depth>1</max-depth>"), "<data");
    if (!strstr(r, "<top xmlns=\"urn:mamori:test:nc\"/>"))
        fail_msg("max-depth 1 lost the top-level container: %s", r);
    assert_non_null(strstr(r, "<strict xmlns=\"urn:mamori:test:nc\"><k>s</k></strict>"));
    assert_null(strstr(r, "<name>"));
    assert_null(strstr(r, "<req>"));
    free(r);
    /* 2: the children of the top-level nodes, list entries by their keys only */
    r = nct_expect(&f->a, GET_DATA_RUN("<max-depth>2</max-depth>"), "<name>d</name>");
    assert_non_null(strstr(r, "<item><id>1</id></item>"));
    assert_non_null(strstr(r, "<sub/>"));
    assert_null(strstr(r, "<value>"));
    free(r);
    /* with a filter, the depth counts from the nodes the filter selects */
    r = nct_expect(&f->a, GET_DATA_RUN("<subtree-filter><top " NCT_TNS "><item/></top>"
                                       "</subtree-filter><max-depth>1</max-depth>"),
                   "<top xmlns=\"urn:mamori:test:nc\"><item><id>1</id></item></top>");
    assert_null(strstr(r, "<value>"));
    free(r);
    r = nct_expect(&f->a, GET_DATA_RUN("<xpath-filter xmlns:t=\"urn:mamori:test:nc\">/t:top/"
                                       "t:item</xpath-filter><max-depth>1</max-depth>"),
                   "<top xmlns=\"urn:mamori:test:nc\"><item><id>1</id></item></top>");
    assert_null(strstr(r, "<value>"));
    free(r);
    r = nct_expect(&f->a, GET_DATA_RUN("<xpath-filter xmlns:t=\"urn:mamori:test:nc\">/t:top/"
                                       "t:item</xpath-filter><max-depth>2</max-depth>"),
                   "<value>3</value>");
    free(r);
}

/* The engine's fault hook: the step named *arg fails. */
static int fault_at(void *arg, const char *point)
{
    const char *const *which = arg;
    return *which && !strcmp(*which, point);
}

/*
 * Issue 10 item 11: a confirmed commit whose rollback timer cannot be armed,
 * or whose persist token cannot be kept, fails (no <ok/>) and leaves running
 * as it was; a pending one keeps its state.
 */
static void test_confirmed_commit_faults(void **state)
{
    (void)state;
    const char *failing = NULL;
    mm_nc_server_config over = {.fault = fault_at, .fault_arg = &failing};
    nct_server t;
    nct_conn c;
    assert_int_equal(nct_server_start_with(&t, NULL, "admin", &over), 0);
    assert_int_equal(nct_open(&t, &c, "admin", true), 0);
    nct_ok(&c, CAND("f1"));
    failing = "confirm-timer";
    free(nct_expect(&c, "<commit><confirmed/></commit>", "<error-tag>operation-failed</error-tag>"));
    assert_false(running_has(&c, "f1"));
    failing = "confirm-persist";
    free(nct_expect(&c, "<commit><confirmed/><persist>p1</persist></commit>",
                    "<error-tag>operation-failed</error-tag>"));
    assert_false(running_has(&c, "f1"));
    /* without a fault the same commit works, and confirming it is possible */
    failing = NULL;
    nct_ok(&c, "<commit><confirmed/><persist>p1</persist></commit>");
    assert_true(running_has(&c, "f1"));
    /* extending the pending commit fails too when the timer fails; it stays pending */
    nct_ok(&c, CAND("f2"));
    failing = "confirm-timer";
    free(nct_expect(&c, "<commit><confirmed/><persist-id>p1</persist-id></commit>",
                    "<error-tag>operation-failed</error-tag>"));
    assert_false(running_has(&c, "f2"));
    failing = NULL;
    nct_ok(&c, "<cancel-commit><persist-id>p1</persist-id></cancel-commit>");
    assert_false(running_has(&c, "f1"));
    nct_drop(&c);
    nct_server_stop(&t, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_discard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_confirmed_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_confirmed_persist_and_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_on_session_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notifications, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_stop_and_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_monitoring_nmda, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_data_max_depth, setup, teardown),
        cmocka_unit_test(test_confirmed_commit_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
