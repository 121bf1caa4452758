/*
 * End to end over TLS: the client (client/client.c + client/tls.c) against the
 * engine behind its own TLS transport (mm_nc_tls_server), with a fresh
 * mamori PKI and cert-to-name mapping the CA to the certificate's CN.
 * The server's event loop runs in a thread.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_netconf_tls.h"
#include "mamori/mm_pki.h"
#include "nc_test.h"

static char pki[128], ca[192], cert[192], key[192];

typedef struct tls_engine {
    nct_server t;
    mm_nc_tls_server *ts;
    uint16_t port;
    volatile int stop;
    pthread_t thread;
} tls_engine;

static void *loop_main(void *arg)
{
    tls_engine *e = arg;
    while (!e->stop) {
        event_base_loop(e->t.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        usleep(500);
    }
    return NULL;
}

static int fill_settings(mm_nc_tls_settings *s)
{
    memset(s, 0, sizeof(*s));
    mm_pki_path(pki, MM_PKI_SERVER_CERT, s->cert_file, sizeof(s->cert_file));
    mm_pki_path(pki, MM_PKI_SERVER_KEY, s->key_file, sizeof(s->key_file));
    snprintf(s->ca_file, sizeof(s->ca_file), "%s", ca);
    snprintf(s->endpoints[0].name, sizeof(s->endpoints[0].name), "test");
    snprintf(s->endpoints[0].address, sizeof(s->endpoints[0].address), "127.0.0.1");
    s->endpoints[0].port = 0;
    s->n_endpoints = 1;
    /* cert-to-name: any certificate under our CA maps to its common name */
    X509 *x = mm_pki_read_cert_file(ca);
    if (!x)
        return -1;
    mm_ctn_entry *c = &s->ctn[0];
    c->id = 1;
    c->map_type = MM_CTN_COMMON_NAME;
    int rc = mm_ctn_fingerprint_of(x, MM_CTN_SHA256, c->fingerprint, sizeof(c->fingerprint),
                                   &c->fingerprint_len);
    X509_free(x);
    s->n_ctn = 1;
    return rc;
}

static void start(tls_engine *e)
{
    memset(e, 0, sizeof(*e));
    assert_int_equal(nct_server_start(&e->t, NULL, "admin"), 0);
    mm_nc_tls_settings *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(fill_settings(s), 0);
    assert_int_equal(mm_nc_tls_server_new(e->t.srv, e->t.base, s, &e->ts), 0);
    free(s);
    e->port = mm_nc_tls_server_port(e->ts, 0);
    assert_true(e->port > 0);
    assert_int_equal(pthread_create(&e->thread, NULL, loop_main, e), 0);
}

static void stop(tls_engine *e)
{
    e->stop = 1;
    pthread_join(e->thread, NULL);
    mm_nc_tls_server_free(e->ts);
    nct_server_stop(&e->t, true);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(pki, sizeof(pki), "/tmp/mm-test-nctlse-%ld", (long)getpid());
    if (mm_pki_init(pki, true) < 0 || mm_pki_issue_client(pki, "bob", true) < 0)
        return -1;
    mm_pki_path(pki, MM_PKI_CA_CERT, ca, sizeof(ca));
    mm_pki_path(pki, MM_PKI_CLIENT_CERT, cert, sizeof(cert));
    mm_pki_path(pki, MM_PKI_CLIENT_KEY, key, sizeof(key));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
    return system(cmd) == 0 ? 0 : -1;
}

static mm_nc_client *connect_as(tls_engine *e, const char *crt, const char *k, mm_nc_tls_stream **s)
{
    mm_nc_tls_client_config cfg = {.host = "127.0.0.1",
                                   .port = e->port,
                                   .ca_file = ca,
                                   .cert_file = crt,
                                   .key_file = k,
                                   .timeout_ms = 5000};
    char why[256];
    if (mm_nc_tls_connect(&cfg, s, why, sizeof(why)) < 0)
        fail_msg("connect: %s", why);
    mm_nc_client_io io;
    mm_nc_tls_stream_io(*s, &io);
    mm_nc_client *c = NULL;
    if (mm_nc_client_new_ex(&io, 0, 5000, &c, why, sizeof(why)) < 0)
        fail_msg("hello: %s", why);
    return c;
}

static mm_nc_reply *call(mm_nc_client *c, const char *op)
{
    char *xml = NULL;
    if (mm_nc_client_rpc(c, op, &xml, 5000) < 0)
        fail_msg("%s: %s", op, mm_nc_client_error(c));
    mm_nc_reply *r = NULL;
    assert_int_equal(mm_nc_reply_parse(xml, strlen(xml), &r, NULL, 0), 0);
    free(xml);
    return r;
}

static void test_tls_end_to_end(void **state)
{
    (void)state;
    tls_engine e;
    start(&e);
    mm_nc_tls_stream *s = NULL;
    mm_nc_client *c = connect_as(&e, cert, key, &s);
    assert_true(mm_nc_client_session_id(c) >= 1);
    assert_int_equal(mm_nc_client_framing(c), MM_NC_FRAMING_CHUNKED);
    assert_non_null(mm_nc_tls_stream_group(s));
    /* admin is the recovery user: it may write */
    mm_nc_reply *r = call(c, "<edit-config><target><running/></target><config>"
                             "<top xmlns=\"urn:mamori:test:nc\"><name>tls</name></top>"
                             "</config></edit-config>");
    if (!mm_nc_reply_ok(r))
        fail_msg("edit-config: %s",
                 mm_nc_reply_error_count(r) ? mm_nc_reply_error_at(r, 0)->tag : "no <ok/>");
    mm_nc_reply_free(r);
    r = call(c, "<get-config><source><running/></source></get-config>");
    assert_non_null(strstr(mm_nc_reply_data(r), "<name>tls</name>"));
    mm_nc_reply_free(r);
    assert_int_equal(mm_nc_client_close(c), 0);
    mm_nc_tls_stream_close(s);

    /* bob (CN from cert-to-name) is no recovery user: write-default deny */
    char bcrt[256], bkey[256];
    snprintf(bcrt, sizeof(bcrt), "%s/%s/bob.crt", pki, MM_PKI_CLIENTS_DIR);
    snprintf(bkey, sizeof(bkey), "%s/%s/bob.key", pki, MM_PKI_CLIENTS_DIR);
    c = connect_as(&e, bcrt, bkey, &s);
    r = call(c, "<edit-config><target><running/></target><config>"
                "<top xmlns=\"urn:mamori:test:nc\"><item><id>b</id><value>1</value></item></top>"
                "</config></edit-config>");
    assert_false(mm_nc_reply_ok(r));
    assert_string_equal(mm_nc_reply_error_at(r, 0)->tag, "access-denied");
    mm_nc_reply_free(r);
    /* Changing an existing leaf is an update: denied too, and nothing changes. */
    r = call(c, "<edit-config><target><running/></target><config>"
                "<top xmlns=\"urn:mamori:test:nc\"><name>bob</name></top>"
                "</config></edit-config>");
    assert_false(mm_nc_reply_ok(r));
    assert_string_equal(mm_nc_reply_error_at(r, 0)->tag, "access-denied");
    mm_nc_reply_free(r);
    /* So is deleting it. */
    r = call(c, "<edit-config><target><running/></target><config>"
                "<top xmlns=\"urn:mamori:test:nc\" "
                "xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\">"
                "<name nc:operation=\"delete\"/></top></config></edit-config>");
    assert_false(mm_nc_reply_ok(r));
    assert_string_equal(mm_nc_reply_error_at(r, 0)->tag, "access-denied");
    mm_nc_reply_free(r);
    r = call(c, "<get-config><source><running/></source></get-config>");
    assert_non_null(strstr(mm_nc_reply_data(r), "<name>tls</name>"));
    mm_nc_reply_free(r);
    assert_int_equal(mm_nc_client_close(c), 0);
    mm_nc_tls_stream_close(s);
    stop(&e);
}

/*
 * 120 corked, pipelined RPCs over TLS: the server writes long bursts of
 * replies in parts (MM_NC_TLS_GATHER_MAX); every reply must still come back
 * whole, in order, and answer its own request (each get-config sees the
 * edit just before it).
 */
static void test_tls_pipelined_bursts(void **state)
{
    (void)state;
    tls_engine e;
    start(&e);
    mm_nc_tls_stream *s = NULL;
    mm_nc_client *c = connect_as(&e, cert, key, &s);
    enum { N = 120 };
    mm_nc_client_cork(c, true);
    for (int i = 0; i < N; i++) {
        char op[256];
        if (i % 2 == 0)
            snprintf(op, sizeof(op),
                     "<edit-config><target><running/></target><config><top xmlns=\""
                     "urn:mamori:test:nc\"><name>burst-%d</name></top></config></edit-config>",
                     i);
        else
            snprintf(op, sizeof(op), "<get-config><source><running/></source></get-config>");
        assert_int_equal(mm_nc_client_send_rpc(c, op, NULL), 0);
    }
    for (int i = 0; i < N; i++) {
        char *xml = NULL;
        if (mm_nc_client_recv_reply(c, &xml, 10000) < 0)
            fail_msg("reply %d: %s", i, mm_nc_client_error(c));
        char want[64];
        snprintf(want, sizeof(want), "message-id=\"%d\"", i + 1);
        assert_non_null(strstr(xml, want));
        if (i % 2 == 0) {
            assert_non_null(strstr(xml, "<ok/>"));
        } else {
            snprintf(want, sizeof(want), "<name>burst-%d</name>", i - 1);
            if (!strstr(xml, want))
                fail_msg("reply %d lacks %s: %.300s", i, want, xml);
        }
        free(xml);
    }
    mm_nc_client_cork(c, false);
    assert_int_equal(mm_nc_client_close(c), 0);
    mm_nc_tls_stream_close(s);
    stop(&e);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    mm_log_set_level(MM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_end_to_end),
        cmocka_unit_test(test_tls_pipelined_bursts),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
