/*
 * test_netconf_suite.c - the NETCONF engine's operations re-run over a real
 * QUIC connection (draft-ietf-netconf-over-quic-06), with the real engine on
 * its own thread (nc_quic_testsrv) and the real client (mm_nc_client over
 * mm_nc_quic_client_io). It mirrors what the engine tests
 * (tests/unit/netconf/test_engine_*.c) and the client-over-socketpair tests
 * (tests/unit/netconf_client/test_client_engine.c) check:
 *
 *   hello and capabilities; get / get-config with subtree and xpath filters
 *   on running, candidate and startup; edit-config merge, replace, create,
 *   delete, remove (data-exists / data-missing), default-operation none,
 *   test-only, rollback-on-error; copy-config, delete-config startup;
 *   lock rules between two QUIC sessions (lock-denied carries the holder's
 *   session-id, a lock is released when the connection goes); validate,
 *   commit, discard-changes; confirmed commit with timeout rollback,
 *   persist / persist-id from another session, cancel-commit; kill-session
 *   from another QUIC session; with-defaults; get-schema; NMDA get-data /
 *   edit-data; NACM for a second certificate user, and a NACM change that
 *   applies to an open QUIC session at once; a replay subscription whose
 *   replayComplete arrives on the subscription's own uni stream; malformed
 *   XML ending only that session; pipelined RPCs answered in order.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_tls.h"
#include "nc_quic_testutil.h"

#define T 5000
#define NCOP "xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\""
#define SUB "<create-subscription xmlns=\"" MM_NC_NS_NOTIF "\">"
#define GET_RUN "<get-config><source><running/></source></get-config>"
#define CAND(x) "<edit-config><target><candidate/></target><config><top " NCT_TNS "><name>" x \
                "</name></top></config></edit-config>"
#define NMDA "xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-nmda\" " \
             "xmlns:ds=\"urn:ietf:params:xml:ns:yang:ietf-datastores\""
#define NACM_NS "urn:ietf:params:xml:ns:yang:ietf-netconf-acm"

typedef struct peer {
    mm_nc_client_io io;
    mm_nc_client *c;
    int notifs;
    char notif[16][2048]; /* the first 16 notifications, in arrival order */
} peer;

static void on_notif(const char *xml, size_t len, void *arg)
{
    peer *p = arg;
    if (p->notifs < 16)
        snprintf(p->notif[p->notifs], sizeof(p->notif[0]), "%.*s", (int)len, xml);
    p->notifs++;
}

static void peer_start(peer *p)
{
    char why[256];
    if (mm_nc_client_new_ex(&p->io, 0, T, &p->c, why, sizeof(why)) < 0)
        fail_msg("hello: %s", why);
    mm_nc_client_on_notification(p->c, on_notif, p);
}

/* A session with the PKI's first client certificate (CN admin, the recovery user). */
static void peer_open(ncq_testsrv *t, peer *p)
{
    memset(p, 0, sizeof(*p));
    assert_int_equal(ncq_testsrv_client(t, NULL, NULL, &p->io), 0);
    peer_start(p);
}

/* A session as user name (a client certificate issued by the test PKI). */
static void peer_open_as(ncq_testsrv *t, peer *p, const char *name)
{
    memset(p, 0, sizeof(*p));
    assert_int_equal(ncq_client_as(t, name, &p->io), 0);
    peer_start(p);
}

/* Free without <close-session/>: the QUIC connection closes (CONNECTION_CLOSE). */
static void peer_free(peer *p)
{
    ncq_client_free(&p->c, &p->io);
}

static char *expect(peer *p, const char *op, const char *needle)
{
    return ncq_expect(p->c, op, needle);
}

static void ok(peer *p, const char *op)
{
    free(expect(p, op, "<ok/>"));
}

static void lacks(const char *r, const char *needle)
{
    const char *hit = strstr(r, needle);
    if (hit != NULL)
        fail_msg("unexpected %.200s at offset %zu", hit, (size_t)(hit - r));
}

static void edit(peer *p, const char *target, const char *params, const char *config,
                 const char *want)
{
    char op[4096];
    snprintf(op, sizeof(op), "<edit-config><target><%s/></target>%s<config>%s</config>"
             "</edit-config>", target, params, config);
    free(expect(p, op, want));
}

static char *get_config(peer *p, const char *ds)
{
    char op[128];
    snprintf(op, sizeof(op), "<get-config><source><%s/></source></get-config>", ds);
    return expect(p, op, "<data");
}

static bool running_has(peer *p, const char *s)
{
    char *r = get_config(p, "running");
    bool hit = strstr(r, s) != NULL;
    free(r);
    return hit;
}

/* The connection ended: the client's next read is EOF (or an error). */
static void expect_eof(peer *p)
{
    uint8_t buf[4096];
    for (int i = 0; i < 50; i++) {
        long n = p->io.recv(p->io.io, buf, sizeof(buf), T);
        if (n <= 0) {
            assert_true(n == 0 || n != MM_ETIMEOUT);
            return;
        }
    }
    fail_msg("the connection stayed open");
}

static void wait_notifs(peer *p, int n)
{
    for (int i = 0; i < 50 && p->notifs < n; i++)
        mm_nc_client_poll(p->c, 100);
    if (p->notifs < n)
        fail_msg("%d notifications, wanted %d", p->notifs, n);
}

/* ------------------------------------------------------------------ tests */

static void test_hello_capabilities(void **state)
{
    peer a, b;
    peer_open(*state, &a);
    peer_open(*state, &b);
    assert_true(mm_nc_client_session_id(a.c) >= 1);
    assert_true(mm_nc_client_session_id(b.c) != mm_nc_client_session_id(a.c));
    /* QUIC requires base:1.1: chunked framing from the first RPC on. */
    assert_int_equal(mm_nc_client_framing(a.c), MM_NC_FRAMING_CHUNKED);
    static const char *const caps[] = {
        "urn:ietf:params:netconf:base:1.1",
        "urn:ietf:params:netconf:capability:writable-running:1.0",
        "urn:ietf:params:netconf:capability:candidate:1.0",
        "urn:ietf:params:netconf:capability:confirmed-commit:1.1",
        "urn:ietf:params:netconf:capability:rollback-on-error:1.0",
        "urn:ietf:params:netconf:capability:validate:1.1",
        "urn:ietf:params:netconf:capability:startup:1.0",
        "urn:ietf:params:netconf:capability:xpath:1.0",
        "urn:ietf:params:netconf:capability:notification:1.0",
        "urn:ietf:params:netconf:capability:interleave:1.0",
        "urn:ietf:params:netconf:capability:with-defaults:1.0",
        "urn:mamori:test:nc",
    };
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        if (!mm_nc_client_has_capability(a.c, caps[i]))
            fail_msg("capability %s missing", caps[i]);
    /* Monitoring lists both sessions with the QUIC transport. */
    char *r = expect(&a, "<get><filter type=\"subtree\"><netconf-state xmlns=\"urn:ietf:params:"
                     "xml:ns:yang:ietf-netconf-monitoring\"><sessions/></netconf-state></filter>"
                     "</get>", "<username>admin</username>");
    char sid[64];
    snprintf(sid, sizeof(sid), "<session-id>%u</session-id>", mm_nc_client_session_id(b.c));
    assert_non_null(strstr(r, sid));
    free(r);
    peer_free(&a);
    peer_free(&b);
}

static void test_get_filters(void **state)
{
    peer a;
    peer_open(*state, &a);
    edit(&a, "running", "", "<top " NCT_TNS "><name>f</name><item><id>1</id><value>1</value>"
         "<note>one</note></item><item><id>2</id><value>2</value><note>two</note></item>"
         "<tag>a</tag><tag>b</tag></top>", "<ok/>");
#define GC(filter) "<get-config><source><running/></source><filter type=\"subtree\">" filter \
                   "</filter></get-config>"
    char *r = expect(&a, GC("<top " NCT_TNS "><name/></top>"), "<name>f</name>");
    lacks(r, "<item>");
    free(r);
    r = expect(&a, GC("<top " NCT_TNS "><item><id>2</id></item></top>"), "<note>two</note>");
    lacks(r, "<note>one</note>");
    free(r);
    r = expect(&a, GC("<top " NCT_TNS "><item><id>1</id><note/></item></top>"),
               "<note>one</note>");
    lacks(r, "<value>");
    free(r);
    r = expect(&a, GC("<top " NCT_TNS "><tag>b</tag><name/></top>"), "<tag>b</tag>");
    lacks(r, "<tag>a</tag>");
    free(r);
    r = expect(&a, GC(""), "<data");
    lacks(r, "<top");
    free(r);
    r = expect(&a, "<get-config><source><running/></source><filter type=\"xpath\" "
                   "xmlns:t=\"urn:mamori:test:nc\" select=\"/t:top/t:item[t:id='2']/t:note\"/>"
                   "</get-config>", "<note>two</note>");
    lacks(r, "<value>");
    free(r);
    /* <get> with both filter types */
    r = expect(&a, "<get><filter type=\"subtree\"><top " NCT_TNS "><item><id>1</id></item>"
                   "</top></filter></get>", "<note>one</note>");
    lacks(r, "two");
    free(r);
    r = expect(&a, "<get><filter type=\"xpath\" xmlns:t=\"urn:mamori:test:nc\" "
                   "select=\"/t:top/t:name\"/></get>", "<name>f</name>");
    lacks(r, "<item>");
    free(r);
#undef GC
    peer_free(&a);
}

static void test_datastores_copy_delete(void **state)
{
    peer a;
    peer_open(*state, &a);
    edit(&a, "running", "", "<top " NCT_TNS "><name>cp</name></top>", "<ok/>");
    char *r = get_config(&a, "startup");
    lacks(r, "<name>cp</name>");
    free(r);
    ok(&a, "<copy-config><target><startup/></target><source><running/></source></copy-config>");
    r = get_config(&a, "startup");
    assert_non_null(strstr(r, "<name>cp</name>"));
    free(r);
    free(expect(&a, "<copy-config><target><running/></target><source><running/></source>"
                    "</copy-config>", "<error-tag>invalid-value</error-tag>"));
    ok(&a, "<copy-config><target><candidate/></target><source><config><top " NCT_TNS
           "><name>inline</name></top></config></source></copy-config>");
    r = get_config(&a, "candidate");
    assert_non_null(strstr(r, "<name>inline</name>"));
    free(r);
    ok(&a, "<discard-changes/>");
    ok(&a, "<delete-config><target><startup/></target></delete-config>");
    r = get_config(&a, "startup");
    lacks(r, "<name>");
    free(r);
    free(expect(&a, "<delete-config><target><running/></target></delete-config>", "<rpc-error>"));
    peer_free(&a);
}

static void test_edit_operations(void **state)
{
    peer a;
    peer_open(*state, &a);
    peer *c = &a;
    edit(c, "running", "", "<top " NCT_TNS "><name>a</name><item><id>1</id><value>10</value>"
         "</item></top>", "<ok/>");
    edit(c, "running", "", "<top " NCT_TNS "><item><id>1</id><note>n</note></item></top>",
         "<ok/>"); /* merge */
    char *r = get_config(c, "running");
    assert_non_null(strstr(r, "<value>10</value>"));
    assert_non_null(strstr(r, "<note>n</note>"));
    free(r);
    edit(c, "running", "", "<top " NCT_TNS " " NCOP "><item nc:operation=\"create\"><id>1</id>"
         "</item></top>", "<error-tag>data-exists</error-tag>");
    edit(c, "running", "", "<top " NCT_TNS " " NCOP "><item nc:operation=\"delete\"><id>9</id>"
         "</item></top>", "<error-tag>data-missing</error-tag>");
    edit(c, "running", "", "<top " NCT_TNS " " NCOP "><item nc:operation=\"remove\"><id>9</id>"
         "</item></top>", "<ok/>");
    edit(c, "running", "", "<top " NCT_TNS " " NCOP "><item nc:operation=\"replace\"><id>1</id>"
         "<value>5</value></item></top>", "<ok/>");
    r = get_config(c, "running");
    lacks(r, "<note>");
    assert_non_null(strstr(r, "<value>5</value>"));
    free(r);
    edit(c, "running", "", "<top " NCT_TNS " " NCOP "><item nc:operation=\"create\"><id>2</id>"
         "</item></top>", "<ok/>");
    edit(c, "running", "", "<top " NCT_TNS " " NCOP "><item nc:operation=\"delete\"><id>1</id>"
         "</item></top>", "<ok/>");
    r = get_config(c, "running");
    lacks(r, "<id>1</id>");
    assert_non_null(strstr(r, "<id>2</id>"));
    free(r);
    /* default-operation none */
    edit(c, "running", "<default-operation>none</default-operation>",
         "<top " NCT_TNS "><sub><x>1</x></sub></top>", "<error-tag>data-missing</error-tag>");
    edit(c, "running", "<default-operation>none</default-operation>",
         "<top " NCT_TNS " " NCOP "><sub nc:operation=\"create\"><x>1</x></sub></top>", "<ok/>");
    /* test-only validates without applying */
    edit(c, "running", "<test-option>test-only</test-option>",
         "<top " NCT_TNS "><name>z</name></top>", "<ok/>");
    assert_false(running_has(c, "<name>z</name>"));
    /* rollback-on-error applies nothing */
    edit(c, "running", "<error-option>rollback-on-error</error-option>",
         "<top " NCT_TNS " " NCOP "><name>v</name><item nc:operation=\"delete\"><id>7</id>"
         "</item></top>", "<error-tag>data-missing</error-tag>");
    assert_true(running_has(c, "<name>a</name>"));
    /* a validation failure leaves running untouched */
    edit(c, "running", "", "<strict " NCT_TNS "><k>1</k></strict>", "<rpc-error>");
    assert_false(running_has(c, "<strict"));
    edit(c, "running", "", "<top " NCT_TNS "><bogus>1</bogus></top>",
         "<error-tag>unknown-element</error-tag>");
    peer_free(&a);
}

static void test_locks_between_sessions(void **state)
{
    ncq_testsrv *t = *state;
    peer a, b;
    peer_open(t, &a);
    peer_open(t, &b);
    ok(&a, "<lock><target><running/></target></lock>");
    char sid[64];
    snprintf(sid, sizeof(sid), "<session-id>%u</session-id>", mm_nc_client_session_id(a.c));
    char *r = expect(&b, "<lock><target><running/></target></lock>",
                     "<error-tag>lock-denied</error-tag>");
    if (strstr(r, sid) == NULL)
        fail_msg("lock-denied without the holder's %s: %s", sid, r);
    free(r);
    edit(&b, "running", "", "<top " NCT_TNS "><name>blocked</name></top>",
         "<error-tag>in-use</error-tag>");
    free(expect(&b, "<unlock><target><running/></target></unlock>",
                "<error-tag>operation-failed</error-tag>"));
    edit(&a, "running", "", "<top " NCT_TNS "><name>holder</name></top>", "<ok/>");
    ok(&a, "<unlock><target><running/></target></unlock>");
    /* a modified candidate cannot be locked by another session */
    ok(&b, CAND("cand"));
    free(expect(&a, "<lock><target><candidate/></target></lock>",
                "<error-tag>lock-denied</error-tag>"));
    ok(&b, "<discard-changes/>");
    ok(&a, "<lock><target><candidate/></target></lock>");
    ok(&a, "<lock><target><startup/></target></lock>");
    free(expect(&b, "<lock><target><startup/></target></lock>",
                "<error-tag>lock-denied</error-tag>"));
    /* The connection goes (CONNECTION_CLOSE, no close-session): locks released. */
    assert_true(ncq_wait_sessions(t, 2, b.c));
    peer_free(&a);
    assert_true(ncq_wait_sessions(t, 1, b.c));
    ok(&b, "<lock><target><candidate/></target></lock>");
    ok(&b, "<lock><target><startup/></target></lock>");
    peer_free(&b);
}

static void test_validate_commit_discard(void **state)
{
    peer a;
    peer_open(*state, &a);
    ok(&a, "<validate><source><running/></source></validate>");
    ok(&a, CAND("c1"));
    ok(&a, "<validate><source><candidate/></source></validate>");
    free(expect(&a, "<validate><source><config><strict " NCT_TNS "><k>1</k></strict></config>"
                    "</source></validate>", "<rpc-error>"));
    assert_false(running_has(&a, "c1"));
    ok(&a, "<commit/>");
    assert_true(running_has(&a, "c1"));
    ok(&a, CAND("c2"));
    char *r = get_config(&a, "candidate");
    assert_non_null(strstr(r, "c2"));
    free(r);
    ok(&a, "<discard-changes/>");
    ok(&a, "<commit/>");
    assert_true(running_has(&a, "c1"));
    peer_free(&a);
}

static void test_confirmed_commit_timeout(void **state)
{
    peer a, b;
    peer_open(*state, &a);
    peer_open(*state, &b);
    ok(&a, CAND("base"));
    ok(&a, "<commit/>");
    ok(&a, CAND("trial"));
    ok(&a, "<commit><confirmed/><confirm-timeout>1</confirm-timeout></commit>");
    assert_true(running_has(&b, "trial"));
    /* another session cannot confirm a non-persistent confirmed commit */
    free(expect(&b, "<commit/>", "<rpc-error>"));
    /* The server thread's event loop rolls back after one second. */
    bool rolled = false;
    for (int i = 0; i < 40 && !rolled; i++) {
        usleep(100000);
        rolled = running_has(&b, "<name>base</name>");
    }
    assert_true(rolled);
    assert_false(running_has(&a, "trial"));
    /* confirming in time keeps it */
    ok(&a, CAND("kept"));
    ok(&a, "<commit><confirmed/><confirm-timeout>1</confirm-timeout></commit>");
    ok(&a, "<commit/>");
    /* An observation window past the old timeout, checked all along: the
     * confirmed change must never be rolled back. */
    for (int i = 0; i < 13; i++) {
        usleep(100000);
        assert_true(running_has(&b, "kept"));
    }
    peer_free(&a);
    peer_free(&b);
}

static void test_confirmed_persist_cancel(void **state)
{
    ncq_testsrv *t = *state;
    peer a, b;
    peer_open(t, &a);
    peer_open(t, &b);
    ok(&a, CAND("p0"));
    ok(&a, "<commit/>");
    ok(&a, CAND("p1"));
    ok(&a, "<commit><confirmed/><persist>tok</persist></commit>");
    /* survives the end of its QUIC connection */
    assert_true(ncq_wait_sessions(t, 2, b.c));
    peer_free(&a);
    assert_true(ncq_wait_sessions(t, 1, b.c));
    assert_true(running_has(&b, "p1"));
    free(expect(&b, "<commit><persist-id>bad</persist-id></commit>",
                "<error-tag>invalid-value</error-tag>"));
    free(expect(&b, "<cancel-commit><persist-id>bad</persist-id></cancel-commit>",
                "<error-tag>invalid-value</error-tag>"));
    ok(&b, "<cancel-commit><persist-id>tok</persist-id></cancel-commit>");
    assert_true(running_has(&b, "p0"));
    free(expect(&b, "<cancel-commit/>", "<error-tag>operation-failed</error-tag>"));
    /* persist from b, confirmed by persist-id from a third session */
    ok(&b, CAND("p2"));
    ok(&b, "<commit><confirmed/><persist>t2</persist></commit>");
    peer c;
    peer_open(t, &c);
    ok(&c, "<commit><persist-id>t2</persist-id></commit>");
    peer_free(&b);
    assert_true(running_has(&c, "p2"));
    /* cancel-commit by the originating session of a non-persistent one */
    ok(&c, CAND("p3"));
    ok(&c, "<commit><confirmed/><confirm-timeout>60</confirm-timeout></commit>");
    assert_true(running_has(&c, "p3"));
    ok(&c, "<cancel-commit/>");
    assert_true(running_has(&c, "p2"));
    peer_free(&c);
}

static void test_kill_session_releases_lock(void **state)
{
    ncq_testsrv *t = *state;
    peer a, b;
    peer_open(t, &a);
    peer_open(t, &b);
    ok(&a, "<lock><target><running/></target></lock>");
    free(expect(&a, "<kill-session><session-id>" "0" "</session-id></kill-session>",
                "<rpc-error>"));
    char op[128];
    snprintf(op, sizeof(op), "<kill-session><session-id>%u</session-id></kill-session>",
             mm_nc_client_session_id(a.c));
    free(expect(&a, op, "<error-tag>invalid-value</error-tag>")); /* not its own */
    ok(&b, op);
    expect_eof(&a);
    assert_true(ncq_wait_sessions(t, 1, b.c));
    ok(&b, "<lock><target><running/></target></lock>");
    peer_free(&a);
    peer_free(&b);
}

static void test_with_defaults(void **state)
{
    peer a;
    peer_open(*state, &a);
    edit(&a, "running", "", "<top " NCT_TNS "><name>wd</name><mtu>1500</mtu></top>", "<ok/>");
#define WD(mode) "<get-config><source><running/></source><filter type=\"subtree\"><top " NCT_TNS \
                 "/></filter><with-defaults xmlns=\"urn:ietf:params:xml:ns:yang:" \
                 "ietf-netconf-with-defaults\">" mode "</with-defaults></get-config>"
    char *r = expect(&a, WD("report-all"), "<enabled>true</enabled>");
    free(r);
    r = expect(&a, WD("explicit"), "<mtu>1500</mtu>");
    lacks(r, "<enabled>");
    free(r);
    r = expect(&a, WD("trim"), "<name>wd</name>");
    lacks(r, "<mtu>");
    lacks(r, "<enabled>");
    free(r);
    r = expect(&a, WD("report-all-tagged"), "default=\"true\"");
    assert_non_null(strstr(r, "urn:ietf:params:xml:ns:netconf:default:1.0"));
    free(r);
#undef WD
    peer_free(&a);
}

static void test_schema_and_nmda(void **state)
{
    peer a;
    peer_open(*state, &a);
    char *r = expect(&a, "<get-schema xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-"
                     "monitoring\"><identifier>nc-test</identifier></get-schema>",
                     "module nc-test {");
    free(r);
    free(expect(&a, "<get-schema xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring\">"
                "<identifier>nope</identifier></get-schema>",
                "<error-tag>invalid-value</error-tag>"));
    ok(&a, "<edit-data " NMDA "><datastore>ds:candidate</datastore><config><top " NCT_TNS
           "><name>nm</name><item><id>1</id><value>3</value></item></top></config></edit-data>");
    free(expect(&a, "<get-data " NMDA "><datastore>ds:candidate</datastore></get-data>",
                "<name>nm</name>"));
    r = expect(&a, "<get-data " NMDA "><datastore>ds:candidate</datastore><max-depth>2"
               "</max-depth></get-data>", "<name>nm</name>");
    lacks(r, "<value>");
    free(r);
    free(expect(&a, "<get-data " NMDA "><datastore>ds:candidate</datastore><with-defaults>"
                "report-all</with-defaults></get-data>", "<mtu>1500</mtu>"));
    free(expect(&a, "<get-data " NMDA "><datastore>ds:operational</datastore><config-filter>"
                "false</config-filter><subtree-filter><netconf-state xmlns=\"urn:ietf:params:xml:"
                "ns:yang:ietf-netconf-monitoring\"><statistics/></netconf-state></subtree-filter>"
                "</get-data>", "<in-rpcs>"));
    free(expect(&a, "<get-data " NMDA "><datastore>ds:intended</datastore></get-data>",
                "<error-tag>invalid-value</error-tag>"));
    free(expect(&a, "<edit-data " NMDA "><datastore>ds:operational</datastore><config/>"
                "</edit-data>", "<error-tag>invalid-value</error-tag>"));
    ok(&a, "<commit/>");
    free(expect(&a, "<get-data " NMDA "><datastore>ds:running</datastore></get-data>",
                "<name>nm</name>"));
    peer_free(&a);
}

static void test_nacm_second_user(void **state)
{
    ncq_testsrv *t = *state;
    peer adm, bob;
    peer_open(t, &adm);
    peer_open_as(t, &bob, "bob");
    edit(&adm, "running", "", "<top " NCT_TNS "><name>seen</name></top>", "<ok/>");
    /* RFC 8341 defaults: bob may read, not write; /nacm is hidden from him. */
    edit(&bob, "running", "", "<top " NCT_TNS "><name>bob</name></top>",
         "<error-tag>access-denied</error-tag>");
    assert_true(running_has(&bob, "<name>seen</name>"));
    char *r = expect(&bob, "<get/>", "<data");
    lacks(r, "<nacm");
    free(r);
    /* The recovery user changes the policy: it applies to bob's open session at once. */
    edit(&adm, "running", "",
         "<nacm xmlns=\"" NACM_NS "\"><groups><group><name>ops</name><user-name>bob"
         "</user-name></group></groups><rule-list><name>ops-acl</name><group>ops</group>"
         "<rule><name>permit-test</name><module-name>nc-test</module-name>"
         "<access-operations>*</access-operations><action>permit</action></rule>"
         "</rule-list></nacm>", "<ok/>");
    edit(&bob, "running", "", "<top " NCT_TNS "><name>bob</name></top>", "<ok/>");
    assert_true(running_has(&adm, "<name>bob</name>"));
    /* ...and so does a deny rule for reading the data bob just wrote. */
    edit(&adm, "running", "",
         "<nacm xmlns=\"" NACM_NS "\"><rule-list><name>ops-acl</name>"
         "<rule><name>permit-test</name><access-operations>create update delete"
         "</access-operations></rule>"
         "<rule><name>hide-name</name><module-name>nc-test</module-name>"
         "<path xmlns:t=\"urn:mamori:test:nc\">/t:top/t:name</path>"
         "<access-operations>read</access-operations><action>deny</action></rule>"
         "</rule-list></nacm>", "<ok/>");
    r = get_config(&bob, "running");
    lacks(r, "<name>bob</name>");
    free(r);
    assert_true(running_has(&adm, "<name>bob</name>"));
    peer_free(&bob);
    peer_free(&adm);
}

static void test_replay_subscription(void **state)
{
    ncq_testsrv *t = *state;
    peer a, b;
    peer_open(t, &a);
    edit(&a, "running", "", "<top " NCT_TNS "><name>replayed</name></top>", "<ok/>");
    peer_open(t, &b);
    free(expect(&b, SUB "<startTime>2999-01-01T00:00:00Z</startTime></create-subscription>",
                "<error-tag>bad-element</error-tag>"));
    ok(&b, SUB "<filter type=\"subtree\"><netconf-config-change xmlns=\"urn:ietf:params:xml:ns:"
           "yang:ietf-netconf-notifications\"/></filter><startTime>2000-01-01T00:00:00Z"
           "</startTime></create-subscription>");
    free(expect(&b, SUB "</create-subscription>", "<error-tag>in-use</error-tag>"));
    wait_notifs(&b, 2);
    assert_non_null(strstr(b.notif[0], "<netconf-config-change"));
    assert_non_null(strstr(b.notif[0], "<operation>"));
    assert_non_null(strstr(b.notif[0], "<eventTime>"));
    assert_non_null(strstr(b.notif[1], "<replayComplete"));
    int opened = 0, ended = 0;
    mm_nc_quic_client_stream_stats(&b.io, &opened, &ended);
    assert_int_equal(opened, 1); /* the replay and its marker came on one uni stream */
    assert_int_equal(ended, 0);
    /* live notifications follow on the same stream; RPCs still flow on stream 0 */
    edit(&a, "running", "", "<top " NCT_TNS "><name>live</name></top>", "<ok/>");
    wait_notifs(&b, 3);
    assert_non_null(strstr(b.notif[2], "<netconf-config-change"));
    assert_true(running_has(&b, "live"));
    mm_nc_quic_client_stream_stats(&b.io, &opened, &ended);
    assert_int_equal(opened, 1);
    peer_free(&b);
    /* a subscription with a stopTime in the past ends its stream (FIN) */
    peer c;
    peer_open(t, &c);
    ok(&c, SUB "<startTime>2000-01-01T00:00:00Z</startTime><stopTime>2001-01-01T00:00:00Z"
           "</stopTime></create-subscription>");
    for (int i = 0; i < 50; i++) {
        mm_nc_quic_client_stream_stats(&c.io, &opened, &ended);
        if (ended == 1 && c.notifs >= 2)
            break;
        mm_nc_client_poll(c.c, 100);
    }
    assert_int_equal(opened, 1);
    assert_int_equal(ended, 1);
    assert_non_null(strstr(c.notif[0], "<replayComplete"));
    assert_non_null(strstr(c.notif[1], "<notificationComplete"));
    peer_free(&c);
    peer_free(&a);
}

static void test_malformed_ends_only_that_session(void **state)
{
    ncq_testsrv *t = *state;
    peer good, bad;
    peer_open(t, &good);
    peer_open(t, &bad);
    ok(&good, "<lock><target><candidate/></target></lock>");
    ok(&bad, "<lock><target><startup/></target></lock>");
    assert_true(ncq_wait_sessions(t, 2, good.c));
    /* Well-framed, badly formed XML on stream 0. */
    const char *x = "<rpc " NCT_NS " message-id=\"1\"><get></rpc>";
    mm_buf b;
    mm_buf_init(&b, 4096);
    assert_int_equal(mm_nc_frame(MM_NC_FRAMING_CHUNKED, x, strlen(x), &b), 0);
    assert_int_equal(bad.io.send(bad.io.io, b.data, b.len), 0);
    mm_buf_free(&b);
    expect_eof(&bad);
    assert_true(ncq_wait_sessions(t, 1, good.c));
    /* The other session keeps its lock and works; the bad one's lock is gone. */
    char *r = get_config(&good, "running");
    free(r);
    ok(&good, "<lock><target><startup/></target></lock>");
    free(expect(&good, "<unlock><target><candidate/></target></unlock>", "<ok/>"));
    peer_free(&bad);
    /* A broken chunk header is fatal too, and again only for that session. */
    peer_open(t, &bad);
    assert_int_equal(bad.io.send(bad.io.io, (const uint8_t *)"\n#01\nx", 6), 0);
    expect_eof(&bad);
    peer_free(&bad);
    ok(&good, "<unlock><target><startup/></target></unlock>");
    peer_free(&good);
}

static void test_pipelined_in_order(void **state)
{
    peer a;
    peer_open(*state, &a);
    static const char *const ops[] = {
        "<lock><target><candidate/></target></lock>",
        CAND("pipe"),
        "<get-config><source><candidate/></source></get-config>",
        "<validate><source><candidate/></source></validate>",
        "<commit/>",
        GET_RUN,
        "<get><filter type=\"subtree\"><top " NCT_TNS "/></filter></get>",
        "<unlock><target><candidate/></target></unlock>",
        "<unlock><target><candidate/></target></unlock>",
    };
    static const char *const want[] = {"<ok/>", "<ok/>", "pipe", "<ok/>", "<ok/>",
                                       "pipe", "pipe", "<ok/>", "operation-failed"};
    enum { N = sizeof(ops) / sizeof(ops[0]), ROUNDS = 5 };
    uint64_t ids[ROUNDS * N];
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < N; i++)
            assert_int_equal(mm_nc_client_send_rpc(a.c, ops[i], &ids[r * N + i]), 0);
    assert_int_equal(mm_nc_client_pending(a.c), ROUNDS * N);
    for (int k = 0; k < ROUNDS * N; k++) {
        char *reply = NULL;
        assert_int_equal(mm_nc_client_recv_reply(a.c, &reply, T), 0);
        mm_nc_reply *p = NULL;
        assert_int_equal(mm_nc_reply_parse(reply, strlen(reply), &p, NULL, 0), 0);
        char id[32];
        snprintf(id, sizeof(id), "%llu", (unsigned long long)ids[k]);
        assert_string_equal(mm_nc_reply_message_id(p), id);
        if (strstr(reply, want[k % N]) == NULL)
            fail_msg("reply %d to %s lacks %s: %s", k, ops[k % N], want[k % N], reply);
        mm_nc_reply_free(p);
        free(reply);
    }
    assert_int_equal(mm_nc_client_pending(a.c), 0);
    peer_free(&a);
}

int main(void)
{
    mm_log_set_level(getenv("QDBG") ? MM_LOG_DEBUG : MM_LOG_ERROR);
#define TC(f) cmocka_unit_test_setup_teardown(f, ncq_setup, ncq_teardown)
    const struct CMUnitTest tests[] = {
        TC(test_hello_capabilities),
        TC(test_get_filters),
        TC(test_datastores_copy_delete),
        TC(test_edit_operations),
        TC(test_locks_between_sessions),
        TC(test_validate_commit_discard),
        TC(test_confirmed_commit_timeout),
        TC(test_confirmed_persist_cancel),
        TC(test_kill_session_releases_lock),
        TC(test_with_defaults),
        TC(test_schema_and_nmda),
        TC(test_nacm_second_user),
        TC(test_replay_subscription),
        TC(test_malformed_ends_only_that_session),
        TC(test_pipelined_in_order),
    };
#undef TC
    return cmocka_run_group_tests(tests, NULL, NULL);
}
