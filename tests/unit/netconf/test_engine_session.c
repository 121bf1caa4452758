/* Sessions: hello, rpc checks, errors, pipelining, isolation. SPDX-License-Identifier: Apache-2.0 */
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

#define H_START "<hello " NCT_NS "><capabilities>"
#define H_END "</capabilities></hello>"
#define CAP(x) "<capability>" x "</capability>"
#define B10 CAP("urn:ietf:params:netconf:base:1.0")
#define B11 CAP("urn:ietf:params:netconf:base:1.1")

static int setup(void **state)
{
    nct_server *t = calloc(1, sizeof(*t));
    if (nct_server_start(t, NULL, "admin") != 0)
        return -1;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    nct_server_stop(*state, true);
    free(*state);
    return 0;
}

static void test_server_hello(void **state)
{
    nct_conn c;
    assert_int_equal(nct_open_ex(*state, &c, "admin", false, false), 0);
    static const char *const caps[] = {
        "base:1.0", "base:1.1", "writable-running:1.0", "candidate:1.0", "confirmed-commit:1.0",
        "confirmed-commit:1.1", "rollback-on-error:1.0", "validate:1.1", "startup:1.0",
        "xpath:1.0", "notification:1.0", "interleave:1.0",
        "with-defaults:1.0?basic-mode=explicit&amp;also-supported=report-all,trim,"
        "report-all-tagged",
        "yang-library:1.0?revision=2016-06-21&amp;module-set-id=",
        "yang-library:1.1?revision=2019-01-04&amp;content-id=",
        "urn:mamori:test:nc?module=nc-test&amp;revision=2025-01-01",
        "urn:ietf:params:xml:ns:netconf:base:1.0?module=ietf-netconf&amp;revision=2011-06-01"
        "&amp;features=",
    };
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        if (!strstr(c.hello, caps[i]))
            fail_msg("missing capability %s", caps[i]);
    assert_non_null(strstr(c.hello, "<session-id>"));
    nct_drop(&c);
}

static void test_hello_base11_chunked(void **state)
{
    nct_conn c;
    assert_int_equal(nct_open(*state, &c, "admin", true), 0);
    char *r = nct_rpc(&c, "<get-config><source><running/></source></get-config>");
    assert_non_null(r);
    assert_non_null(strstr(r, "<data"));
    free(r);
    nct_drop(&c);
    /* base:1.0 only: EOM */
    assert_int_equal(nct_open(*state, &c, "admin", false), 0);
    r = nct_rpc(&c, "<get-config><source><running/></source></get-config>");
    assert_non_null(r);
    assert_non_null(strstr(r, "message-id=\"1\""));
    free(r);
    nct_drop(&c);
}

static void bad_hello(nct_server *t, const char *hello, bool chunked_only)
{
    nct_conn c;
    assert_int_equal(nct_open_ex(t, &c, "admin", chunked_only, false), 0);
    nct_hello(&c, hello);
    if (!c.closed)
        fail_msg("session survived hello %s", hello);
    nct_drop(&c);
}

static void test_hello_rules(void **state)
{
    nct_server *t = *state;
    nct_conn c;
    /* session-id from the client terminates */
    bad_hello(t, "<hello " NCT_NS "><capabilities>" B11 "</capabilities><session-id>4</session-id>"
              "</hello>", false);
    /* no base capability */
    bad_hello(t, H_START CAP("urn:x") H_END, false);
    /* not well-formed */
    bad_hello(t, H_START B11, false);
    /* QUIC: base:1.1 required */
    bad_hello(t, H_START B10 H_END, true);
    /* an rpc before the hello */
    bad_hello(t, "<rpc " NCT_NS " message-id=\"1\"><get/></rpc>", false);
    /* chunked_only with base:1.1: fine, and the server hello omits base:1.0 */
    assert_int_equal(nct_open_ex(t, &c, "admin", true, false), 0);
    assert_null(strstr(c.hello, "base:1.0<"));
    assert_int_equal(nct_hello(&c, H_START B11 H_END), 0);
    assert_false(c.closed);
    /* a second hello terminates */
    nct_send(&c, H_START B11 H_END);
    assert_true(c.closed);
    nct_drop(&c);
}

static void test_message_id(void **state)
{
    nct_conn c;
    assert_int_equal(nct_open(*state, &c, "admin", true), 0);
    nct_send(&c, "<rpc " NCT_NS "><get/></rpc>");
    char *r = nct_recv(&c);
    assert_non_null(r);
    assert_null(strstr(r, "message-id="));
    assert_non_null(strstr(r, "<error-type>rpc</error-type><error-tag>missing-attribute</error-tag>"));
    assert_non_null(strstr(r, "<bad-attribute>message-id</bad-attribute><bad-element>rpc"));
    free(r);
    /* all attributes are copied */
    nct_send(&c, "<rpc " NCT_NS " message-id=\"7\" xmlns:x=\"urn:x\" x:foo=\"b&amp;r\"><get-config>"
                 "<source><running/></source></get-config></rpc>");
    r = nct_recv(&c);
    assert_non_null(strstr(r, "message-id=\"7\""));
    assert_non_null(strstr(r, "xmlns:x=\"urn:x\" x:foo=\"b&amp;r\""));
    free(r);
    nct_drop(&c);
}

/* The yang-library state names modules, never where the server keeps their
 * files: libyang adds location leaves (file:// paths of the module directory)
 * that tell an authenticated user the install layout (RFC 8525 location is
 * optional; get-schema serves the text). */
static void test_yanglib_no_file_location(void **state)
{
    nct_conn c;
    assert_int_equal(nct_open(*state, &c, "admin", true), 0);
    char *r = nct_rpc(&c, "<get><filter type=\"subtree\"><yang-library "
                          "xmlns=\"urn:ietf:params:xml:ns:yang:ietf-yang-library\"/></filter></get>");
    assert_non_null(r);
    assert_non_null(strstr(r, "<name>ietf-netconf</name>"));
    assert_null(strstr(r, "<location>"));
    assert_null(strstr(r, "file:"));
    free(r);
    /* and the deprecated modules-state's schema leaves (RFC 7895) */
    r = nct_rpc(&c, "<get><filter type=\"subtree\"><modules-state "
                    "xmlns=\"urn:ietf:params:xml:ns:yang:ietf-yang-library\"/></filter></get>");
    assert_non_null(r);
    assert_non_null(strstr(r, "<name>ietf-netconf</name>"));
    assert_null(strstr(r, "file:"));
    free(r);
    nct_drop(&c);
}

static void test_rpc_errors(void **state)
{
    nct_conn c;
    assert_int_equal(nct_open(*state, &c, "admin", true), 0);
    char *r = nct_rpc(&c, "<foo xmlns=\"urn:nope\"/>");
    assert_non_null(strstr(r, "<error-tag>unknown-namespace</error-tag>"));
    assert_non_null(strstr(r, "<bad-namespace>urn:nope</bad-namespace>"));
    assert_non_null(strstr(r, "<bad-element>foo</bad-element>"));
    free(r);
    r = nct_rpc(&c, "<lock><target><running/></target><extra/></lock>");
    assert_non_null(strstr(r, "<error-tag>unknown-element</error-tag>"));
    assert_non_null(strstr(r, "<bad-element>extra</bad-element>"));
    free(r);
    r = nct_rpc(&c, "<get-config/>");
    assert_non_null(strstr(r, "<error-tag>missing-element</error-tag>"));
    free(r);
    r = nct_rpc(&c, "<kill-session><session-id>abc</session-id></kill-session>");
    assert_non_null(strstr(r, "<error-tag>invalid-value</error-tag>"));
    free(r);
    r = nct_rpc(&c, "<get/><get/>");
    assert_non_null(strstr(r, "<rpc-error>"));
    free(r);
    assert_false(c.closed);
    nct_drop(&c);
}

static void test_malformed(void **state)
{
    nct_conn c;
    /* base:1.1: malformed-message, then the session ends */
    assert_int_equal(nct_open(*state, &c, "admin", true), 0);
    nct_send(&c, "<rpc " NCT_NS " message-id=\"1\"><get></rpc>");
    char *r = nct_recv(&c);
    assert_non_null(r);
    assert_non_null(strstr(r, "<error-tag>malformed-message</error-tag>"));
    free(r);
    assert_true(c.closed);
    nct_drop(&c);
    /* base:1.0: just ends */
    assert_int_equal(nct_open(*state, &c, "admin", false), 0);
    nct_send(&c, "<rpc " NCT_NS " message-id=\"1\"><get></rpc>");
    assert_null(nct_recv(&c));
    assert_true(c.closed);
    nct_drop(&c);
    /* QUIC (chunked_only): malformed-message too, then the end (issue 10 #14) */
    assert_int_equal(nct_open_ex(*state, &c, "admin", true, false), 0);
    nct_hello(&c, H_START B11 H_END);
    nct_send(&c, "<!DOCTYPE x [<!ENTITY a \"b\">]><rpc " NCT_NS " message-id=\"1\"><get/></rpc>");
    r = nct_recv(&c);
    assert_non_null(r);
    assert_non_null(strstr(r, "<error-tag>malformed-message</error-tag>"));
    free(r);
    assert_true(c.closed);
    nct_drop(&c);
    /* broken chunk header: fatal */
    assert_int_equal(nct_open(*state, &c, "admin", true), 0);
    nct_input(&c, "\n#01\nx", 6);
    assert_true(c.closed);
    nct_drop(&c);
}

static void test_pipelining(void **state)
{
    nct_conn c;
    assert_int_equal(nct_open(*state, &c, "admin", true), 0);
    mm_buf b;
    mm_buf_init(&b, 1u << 20);
    for (int i = 1; i <= 20; i++) {
        char x[200];
        snprintf(x, sizeof(x), "<rpc " NCT_NS " message-id=\"%d\"><get-config><source><running/>"
                 "</source></get-config></rpc>", i);
        mm_nc_frame(MM_NC_FRAMING_CHUNKED, x, strlen(x), &b);
    }
    /* all in one push, then split in odd pieces: replies in order */
    assert_int_equal(nct_input(&c, b.data, b.len), 0);
    for (int i = 1; i <= 20; i++) {
        char *r = nct_recv(&c);
        char want[32];
        snprintf(want, sizeof(want), "message-id=\"%d\"", i);
        assert_non_null(r);
        assert_non_null(strstr(r, want));
        free(r);
    }
    for (size_t off = 0; off < b.len; off += 7)
        nct_input(&c, b.data + off, b.len - off < 7 ? b.len - off : 7);
    for (int i = 1; i <= 20; i++) {
        char *r = nct_recv(&c);
        char want[32];
        snprintf(want, sizeof(want), "message-id=\"%d\"", i);
        assert_non_null(strstr(r, want));
        free(r);
    }
    mm_buf_free(&b);
    nct_drop(&c);
}

static void test_garbage_isolated(void **state)
{
    nct_conn good, bad;
    assert_int_equal(nct_open(*state, &good, "admin", true), 0);
    assert_int_equal(nct_open(*state, &bad, "admin", true), 0);
    char *r = nct_rpc(&good, "<lock><target><candidate/></target></lock>");
    assert_non_null(strstr(r, "<ok/>"));
    free(r);
    /* flood: a message larger than the maximum, then garbage */
    char *big = malloc(3u << 20);
    memset(big, 'A', 3u << 20);
    nct_input(&bad, "\n#9999999\n", 10);
    assert_true(bad.closed);
    nct_drop(&bad);
    assert_int_equal(nct_open(*state, &bad, "admin", false), 0);
    nct_input(&bad, big, 3u << 20);
    assert_true(bad.closed);
    nct_drop(&bad);
    free(big);
    r = nct_rpc(&good, "<get-config><source><running/></source></get-config>");
    assert_non_null(strstr(r, "<data"));
    free(r);
    assert_false(good.closed);
    nct_drop(&good);
}

static void test_close_and_kill(void **state)
{
    nct_server *t = *state;
    nct_conn a, b;
    assert_int_equal(nct_open(t, &a, "admin", true), 0);
    assert_int_equal(nct_open(t, &b, "admin", true), 0);
    char x[128];
    char *r = nct_rpc(&b, "<lock><target><running/></target></lock>");
    assert_non_null(strstr(r, "<ok/>"));
    free(r);
    snprintf(x, sizeof(x), "<kill-session><session-id>%u</session-id></kill-session>",
             mm_nc_session_id(a.s));
    r = nct_rpc(&a, x);
    assert_non_null(strstr(r, "<error-tag>invalid-value</error-tag>"));
    free(r);
    r = nct_rpc(&a, "<lock><target><running/></target></lock>");
    assert_non_null(strstr(r, "<error-tag>lock-denied</error-tag>"));
    snprintf(x, sizeof(x), "<session-id>%u</session-id>", mm_nc_session_id(b.s));
    assert_non_null(strstr(r, x));
    free(r);
    snprintf(x, sizeof(x), "<kill-session><session-id>%u</session-id></kill-session>",
             mm_nc_session_id(b.s));
    r = nct_rpc(&a, x);
    assert_non_null(strstr(r, "<ok/>"));
    free(r);
    assert_true(b.closed);
    nct_drop(&b);
    r = nct_rpc(&a, "<lock><target><running/></target></lock>");
    assert_non_null(strstr(r, "<ok/>"));
    free(r);
    r = nct_rpc(&a, "<close-session/>");
    assert_non_null(strstr(r, "<ok/>"));
    free(r);
    assert_true(a.closed);
    nct_drop(&a);
    /* the lock died with the session */
    assert_int_equal(nct_open(t, &b, "admin", true), 0);
    r = nct_rpc(&b, "<lock><target><running/></target></lock>");
    assert_non_null(strstr(r, "<ok/>"));
    free(r);
    nct_drop(&b);
}

static void visit(mm_nc_session *s, void *io, void *arg)
{
    (void)io;
    (*(int *)arg)++;
    if (strcmp(mm_nc_session_username(s), "victim") == 0)
        mm_nc_session_terminate(s, "certificate revoked");
}

static void test_hooks(void **state)
{
    nct_server *t = *state;
    nct_conn a, b;
    assert_int_equal(nct_open(t, &a, "admin", true), 0);
    assert_int_equal(nct_open(t, &b, "victim", true), 0);
    int n = 0;
    mm_nc_server_foreach_session(t->srv, visit, &n);
    assert_int_equal(n, 2);
    assert_true(b.closed);
    assert_false(a.closed);
    nct_drop(&b);
    nct_drop(&a);
}

/* <rpc message-id="N" xmlns=base>op</rpc> built in a buffer of any size. */
static void send_big(nct_conn *c, const char *rpc_attrs, const char *head, const char *unit,
                     size_t n, const char *tail)
{
    mm_buf b;
    mm_buf_init(&b, 8u << 20);
    assert_int_equal(mm_buf_printf(&b, "<rpc " NCT_NS " %s>%s", rpc_attrs, head), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(mm_buf_append_str(&b, unit), 0);
    assert_int_equal(mm_buf_printf(&b, "%s</rpc>", tail), 0);
    nct_send(c, mm_buf_cstr(&b));
    mm_buf_free(&b);
}

static void expect_too_big(nct_conn *c, const char *msgid)
{
    char *r = nct_recv(c);
    if (!r || !strstr(r, "<error-tag>too-big</error-tag>"))
        fail_msg("wanted too-big, got %s", r ? r : "(nothing)");
    char want[64];
    snprintf(want, sizeof(want), "message-id=\"%s\"", msgid);
    assert_non_null(strstr(r, want));
    free(r);
    assert_false(c->closed);
    /* the session goes on */
    r = nct_rpc(c, "<get-config><source><running/></source></get-config>");
    assert_non_null(r);
    assert_non_null(strstr(r, "<data"));
    free(r);
}

/*
 * Issue 10 item 3: the work of one message is bounded before libyang parses
 * it: 80 000 sibling filter elements, 80 000 attributes on <rpc>, deep
 * nesting each get too-big, and the session (and others) keep working.
 */
static void test_message_bounds(void **state)
{
    nct_conn c, other;
    assert_int_equal(nct_open(*state, &c, "admin", true), 0);
    assert_int_equal(nct_open(*state, &other, "admin", true), 0);
    send_big(&c, "message-id=\"41\"", "<get><filter type=\"subtree\"><top " NCT_TNS ">",
             "<tag/>", 80000, "</top></filter></get>");
    expect_too_big(&c, "41");
    mm_buf attrs;
    mm_buf_init(&attrs, 4u << 20);
    assert_int_equal(mm_buf_append_str(&attrs, "message-id=\"42\""), 0);
    for (int i = 0; i < 80000; i++)
        assert_int_equal(mm_buf_printf(&attrs, " a%d=\"x\"", i), 0);
    send_big(&c, mm_buf_cstr(&attrs), "<get/>", "", 0, "");
    mm_buf_free(&attrs);
    expect_too_big(&c, "42");
    send_big(&c, "message-id=\"43\"", "<get><filter type=\"subtree\">", "<top " NCT_TNS ">", 200,
             "</filter></get>"); /* not even well-formed: refused before that shows */
    expect_too_big(&c, "43");
    /* within the bounds: answered as usual */
    send_big(&c, "message-id=\"44\"", "<get><filter type=\"subtree\"><top " NCT_TNS ">",
             "<tag/>", 100, "</top></filter></get>");
    char *r = nct_recv(&c);
    assert_non_null(r);
    assert_non_null(strstr(r, "<data"));
    free(r);
    r = nct_rpc(&other, "<get-config><source><running/></source></get-config>");
    assert_non_null(strstr(r, "<data"));
    free(r);
    nct_drop(&other);
    nct_drop(&c);
}

/* The bounds come from the server settings. */
static void test_message_bounds_configured(void **state)
{
    (void)state;
    nct_server t;
    mm_nc_server_config over = {.max_elements = 40, .max_attributes = 3, .max_depth = 6};
    assert_int_equal(nct_server_start_with(&t, NULL, "admin", &over), 0);
    nct_conn c;
    assert_int_equal(nct_open(&t, &c, "admin", true), 0);
    send_big(&c, "message-id=\"1\"", "<get><filter type=\"subtree\"><top " NCT_TNS ">", "<tag/>",
             30, "</top></filter></get>");
    char *r = nct_recv(&c);
    assert_non_null(strstr(r, "<data"));
    free(r);
    send_big(&c, "message-id=\"2\"", "<get><filter type=\"subtree\"><top " NCT_TNS ">", "<tag/>",
             40, "</top></filter></get>");
    expect_too_big(&c, "2");
    send_big(&c, "message-id=\"3\" a=\"1\" b=\"2\" c=\"3\"", "<get/>", "", 0, "");
    expect_too_big(&c, "3");
    send_big(&c, "message-id=\"4\"", "<get><filter type=\"subtree\"><top " NCT_TNS ">",
             "<sub>", 0, "<sub><x><y><z/></y></x></sub></top></filter></get>");
    expect_too_big(&c, "4");
    /* a '>' or '=' inside an attribute value is not an attribute */
    nct_send(&c, "<rpc " NCT_NS " message-id=\"5\" x=\"a=b>c=d=e\"><get-config><source>"
                 "<running/></source></get-config></rpc>");
    r = nct_recv(&c);
    assert_non_null(strstr(r, "<data"));
    free(r);
    nct_drop(&c);
    nct_server_stop(&t, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_hello),
        cmocka_unit_test(test_hello_base11_chunked),
        cmocka_unit_test(test_hello_rules),
        cmocka_unit_test(test_message_id),
        cmocka_unit_test(test_yanglib_no_file_location),
        cmocka_unit_test(test_rpc_errors),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_garbage_isolated),
        cmocka_unit_test(test_close_and_kill),
        cmocka_unit_test(test_hooks),
        cmocka_unit_test(test_message_bounds),
        cmocka_unit_test(test_message_bounds_configured),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
