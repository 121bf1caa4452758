/*
 * test_netconf.c - the NETCONF flows over QUIC with the real engine and the
 * real client: hello (base:1.1, chunked), get-config, edit-config, lock,
 * commit, notifications on their own unidirectional stream, the refused
 * second stream (0x02), close-session / kill-session closing the connection,
 * abrupt loss releasing locks, and cert-to-name refusal.
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

typedef struct peer {
    mm_nc_client_io io;
    mm_nc_client *c;
    int notifs;
    char last_notif[4096];
} peer;

static void on_notif(const char *xml, size_t len, void *arg)
{
    peer *p = arg;
    p->notifs++;
    snprintf(p->last_notif, sizeof(p->last_notif), "%.*s", (int)len, xml);
}

static void peer_open(ncq_testsrv *t, peer *p)
{
    memset(p, 0, sizeof(*p));
    assert_int_equal(ncq_testsrv_client(t, NULL, NULL, &p->io), 0);
    assert_int_equal(mm_nc_client_new(&p->io, 0, &p->c), 0);
    mm_nc_client_on_notification(p->c, on_notif, p);
}

static void peer_free(peer *p)
{
    ncq_client_free(&p->c, &p->io);
}

static void expect(peer *p, const char *op, const char *needle)
{
    free(ncq_expect(p->c, op, needle));
}

static void test_hello_get_config(void **state)
{
    peer a;
    peer_open(*state, &a);
    assert_true(mm_nc_client_session_id(a.c) > 0);
    bool b11 = false;
    for (const char *const *cap = mm_nc_client_capabilities(a.c); *cap != NULL; cap++)
        b11 = b11 || strcmp(*cap, "urn:ietf:params:netconf:base:1.1") == 0;
    assert_true(b11);
    expect(&a, "<get-config><source><running/></source></get-config>", "<data");
    peer_free(&a);
}

static void test_edit_lock_commit(void **state)
{
    peer a, b;
    peer_open(*state, &a);
    peer_open(*state, &b);
    expect(&a, "<lock><target><candidate/></target></lock>", "<ok/>");
    expect(&b, "<lock><target><candidate/></target></lock>", "lock-denied");
    expect(&a,
           "<edit-config><target><candidate/></target><config><top " NCT_TNS
           "><name>over-quic</name></top></config></edit-config>",
           "<ok/>");
    expect(&a, "<commit/>", "<ok/>");
    expect(&b, "<get-config><source><running/></source></get-config>", "over-quic");
    expect(&a, "<unlock><target><candidate/></target></unlock>", "<ok/>");
    peer_free(&a);
    peer_free(&b);
}

static void test_notification_on_uni_stream(void **state)
{
    peer a, b;
    peer_open(*state, &a);
    peer_open(*state, &b);
    expect(&a, "<create-subscription xmlns=\"" MM_NC_NS_NOTIF "\"/>", "<ok/>");
    expect(&b,
           "<edit-config><target><running/></target><config><top " NCT_TNS
           "><name>notify-me</name></top></config></edit-config>",
           "<ok/>");
    for (int i = 0; i < 50 && a.notifs == 0; i++)
        mm_nc_client_poll(a.c, 100);
    assert_true(a.notifs >= 1);
    assert_non_null(strstr(a.last_notif, "netconf-config-change"));
    int opened = 0, ended = 0;
    mm_nc_quic_client_stream_stats(&a.io, &opened, &ended);
    assert_int_equal(opened, 1); /* one S-UN stream for the one subscription */
    assert_int_equal(ended, 0);
    /* RPCs still flow on stream 0 meanwhile. */
    expect(&a, "<get-config><source><running/></source></get-config>", "notify-me");
    peer_free(&a);
    peer_free(&b);
}

static void test_second_stream_refused(void **state)
{
    peer a;
    peer_open(*state, &a);
    mm_quic_conn *qc = mm_nc_quic_client_conn(&a.io);
    int64_t sid = -1;
    assert_int_equal(mm_quic_conn_open_bidi(qc, &sid), 0);
    assert_int_equal(sid, 4);
    const char *hello = "<hello/>]]>]]>";
    assert_int_equal(mm_quic_conn_send(qc, sid, (const uint8_t *)hello, strlen(hello), false), 0);
    /* The session on stream 0 is untouched. */
    expect(&a, "<get-config><source><running/></source></get-config>", "<data");
    expect(&a, "<get-config><source><running/></source></get-config>", "<data");
    peer_free(&a);
}

static void test_close_session_closes_connection(void **state)
{
    ncq_testsrv *t = *state;
    peer a;
    peer_open(t, &a);
    assert_true(ncq_wait_sessions(t, 1, NULL));
    assert_int_equal(mm_nc_client_close(a.c), 0);
    a.c = NULL;
    /* The server closed the QUIC connection: the client reads EOF. */
    uint8_t buf[16];
    assert_int_equal(a.io.recv(a.io.io, buf, sizeof(buf), T), 0);
    assert_false(mm_quic_conn_established(mm_nc_quic_client_conn(&a.io)));
    assert_true(ncq_wait_sessions(t, 0, NULL));
    peer_free(&a);
}

static void test_kill_session_closes_connection(void **state)
{
    ncq_testsrv *t = *state;
    peer a, b;
    peer_open(t, &a);
    peer_open(t, &b);
    char op[128];
    snprintf(op, sizeof(op), "<kill-session><session-id>%u</session-id></kill-session>",
             mm_nc_client_session_id(a.c));
    expect(&b, op, "<ok/>");
    uint8_t buf[16];
    assert_int_equal(a.io.recv(a.io.io, buf, sizeof(buf), T), 0);
    assert_true(ncq_wait_sessions(t, 1, NULL));
    peer_free(&a);
    peer_free(&b);
}

static void short_idle(mm_nc_quic_settings *s)
{
    s->idle_timeout_ms = 1000;
}

static void keep_alive_client(peer *p, ncq_testsrv *t)
{
    memset(p, 0, sizeof(*p));
    mm_quic_config c = qt_client_config(&t->pki);
    c.keep_alive_ms = 50; /* the survivors keep their connection alive */
    assert_int_equal(mm_nc_quic_client_io("127.0.0.1", ncq_testsrv_port(t), &c, T, &p->io), 0);
    assert_int_equal(mm_nc_client_new(&p->io, 0, &p->c), 0);
}

static void test_abrupt_loss_releases_lock(void **state)
{
    (void)state;
    ncq_testsrv st, *t = &st;
    ncq_testsrv_start(t, short_idle);
    peer a, b;
    keep_alive_client(&a, t);
    keep_alive_client(&b, t);
    expect(&a, "<lock><target><running/></target></lock>", "<ok/>");
    expect(&b, "<lock><target><running/></target></lock>", "lock-denied");
    /* The server-side count is sampled by the server thread: see both first. */
    assert_true(ncq_wait_sessions(t, 2, b.c));
    /* Client a vanishes: no CONNECTION_CLOSE, no close-session. */
    mm_quic_conn_abandon(mm_nc_quic_client_conn(&a.io));
    mm_nc_client_free(a.c);
    a.c = NULL;
    /* The server notices by idle timeout (1 s here) and ends the session. */
    assert_true(ncq_wait_sessions(t, 1, b.c));
    expect(&b, "<lock><target><running/></target></lock>", "<ok/>");
    peer_free(&a);
    peer_free(&b);
    ncq_testsrv_stop(t);
}

static void test_abrupt_loss_confirmed_commit(void **state)
{
    (void)state;
    ncq_testsrv t;
    ncq_testsrv_start(&t, short_idle);
    peer a, b;
    keep_alive_client(&a, &t);
    keep_alive_client(&b, &t);
    expect(&a,
           "<edit-config><target><candidate/></target><config><top " NCT_TNS
           "><name>tentative</name></top></config></edit-config>",
           "<ok/>");
    expect(&a, "<commit><confirmed/><confirm-timeout>600</confirm-timeout></commit>", "<ok/>");
    expect(&b, "<get-config><source><running/></source></get-config>", "tentative");
    assert_true(ncq_wait_sessions(&t, 2, b.c));
    mm_quic_conn_abandon(mm_nc_quic_client_conn(&a.io));
    mm_nc_client_free(a.c);
    a.c = NULL;
    assert_true(ncq_wait_sessions(&t, 1, b.c));
    /* RFC 6241 section 8.4: the session ended, the confirmed commit is rolled back. */
    char *r = ncq_rpc(b.c, "<get-config><source><running/></source></get-config>");
    assert_null(strstr(r, "tentative"));
    free(r);
    peer_free(&a);
    peer_free(&b);
    ncq_testsrv_stop(&t);
}

static void only_admin_leaf(mm_nc_quic_settings *s)
{
    /* Map only certificates whose leaf matches a fingerprint nobody has. */
    s->ctn[0].map_type = MM_CTN_SPECIFIED;
    memset(s->ctn[0].fingerprint + 1, 0xAB, s->ctn[0].fingerprint_len - 1);
    snprintf(s->ctn[0].name, sizeof(s->ctn[0].name), "nobody");
}

static void test_unmapped_certificate_refused(void **state)
{
    (void)state;
    ncq_testsrv t;
    ncq_testsrv_start(&t, only_admin_leaf);
    mm_nc_client_io io;
    mm_nc_client *c = NULL;
    int rc = ncq_testsrv_client(&t, NULL, NULL, &io);
    if (rc == 0) {
        /* TLS 1.3 finishes on the client first; the session never starts. */
        assert_true(mm_nc_client_new(&io, 0, &c) < 0);
        mm_nc_quic_client_io_free(&io);
    }
    assert_int_equal(atomic_load(&t.sessions), 0);
    ncq_testsrv_stop(&t);
}

static void test_issued_client_maps_to_its_name(void **state)
{
    ncq_testsrv *t = *state;
    peer p;
    memset(&p, 0, sizeof(p));
    assert_int_equal(ncq_client_as(t, "bob", &p.io), 0);
    assert_int_equal(mm_nc_client_new(&p.io, 0, &p.c), 0);
    /* ietf-netconf-monitoring shows the user name the server derived. */
    expect(&p,
           "<get><filter type=\"subtree\"><netconf-state "
           "xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring\"><sessions/>"
           "</netconf-state></filter></get>",
           "<username>bob</username>");
    peer_free(&p);
}

int main(void)
{
    mm_log_set_level(getenv("QDBG") ? MM_LOG_DEBUG : MM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_get_config, ncq_setup, ncq_teardown),
        cmocka_unit_test_setup_teardown(test_edit_lock_commit, ncq_setup, ncq_teardown),
        cmocka_unit_test_setup_teardown(test_notification_on_uni_stream, ncq_setup, ncq_teardown),
        cmocka_unit_test_setup_teardown(test_second_stream_refused, ncq_setup, ncq_teardown),
        cmocka_unit_test_setup_teardown(test_close_session_closes_connection, ncq_setup, ncq_teardown),
        cmocka_unit_test_setup_teardown(test_kill_session_closes_connection, ncq_setup, ncq_teardown),
        cmocka_unit_test(test_abrupt_loss_releases_lock),
        cmocka_unit_test(test_abrupt_loss_confirmed_commit),
        cmocka_unit_test(test_unmapped_certificate_refused),
        cmocka_unit_test_setup_teardown(test_issued_client_maps_to_its_name, ncq_setup, ncq_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
