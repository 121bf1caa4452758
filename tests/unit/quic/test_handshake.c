/*
 * test_handshake.c - QUIC handshakes over real UDP on loopback with the
 * mamori PKI: ALPN "noq", mutual X.509, refusals, no resumption or 0-RTT,
 * Retry, and stateless reset.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509.h>

#include "mamori/mm_core.h"
#include "quic_testutil.h"

typedef qt_fixture fixture;

static void start_server(fixture *f, const mm_quic_config *cfg)
{
    assert_int_equal(mm_quic_server_new(f->base, cfg, "127.0.0.1", 0, &qt_callbacks, &f->srec,
                                        &f->srv), 0);
}

static void connect_client(fixture *f, const mm_quic_config *cfg)
{
    assert_int_equal(mm_quic_connect(f->base, cfg, "127.0.0.1", mm_quic_endpoint_port(f->srv),
                                     &qt_callbacks, &f->crec, &f->client), 0);
}

/* Both ends connected, or the client saw the connection end. */
static void run_handshake(fixture *f)
{
    for (int i = 0; i < 300 && f->crec.closed == 0 && (f->crec.connected == 0 ||
                                                        f->srec.connected == 0); i++)
        qt_run_for(f->base, 10);
}

static void test_handshake_alpn_noq(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    start_server(f, &s);
    connect_client(f, &c);
    run_handshake(f);
    assert_int_equal(f->crec.connected, 1);
    assert_int_equal(f->srec.connected, 1);
    size_t len = 0;
    const uint8_t *alpn = mm_quic_conn_alpn(f->srec.conn, &len);
    assert_non_null(alpn);
    assert_int_equal(len, 3);
    assert_memory_equal(alpn, "noq", 3);
    alpn = mm_quic_conn_alpn(f->client, &len);
    assert_non_null(alpn);
    assert_memory_equal(alpn, "noq", 3);
    /* The server saw the client certificate and built the chain up to the CA. */
    assert_true(mm_quic_conn_peer_cert_count(f->srec.conn) >= 1);
    assert_non_null(mm_quic_conn_peer_chain(f->srec.conn));
    assert_int_equal(sk_X509_num((STACK_OF(X509) *)mm_quic_conn_peer_chain(f->srec.conn)), 2);
    assert_false(mm_quic_conn_resumed(f->srec.conn));
    assert_false(mm_quic_conn_early_data_accepted(f->srec.conn));
    assert_false(mm_quic_conn_retried(f->client)); /* no Retry unless configured */
    assert_false(mm_quic_conn_retried(f->srec.conn));
    assert_int_equal(mm_quic_endpoint_conn_count(f->srv), 1);
}

static void expect_refused(fixture *f, uint64_t transport_code)
{
    run_handshake(f);
    qt_run_until(f->base, &f->crec.closed, 3000);
    /* TLS 1.3: a client finishes its handshake before the server has judged
     * the client certificate, so only the server side must never connect. */
    assert_int_equal(f->srec.connected, 0);
    assert_int_equal(f->crec.closed, 1);
    if (transport_code != 0) {
        assert_false(f->crec.close.app);
        assert_int_equal(f->crec.close.error_code, transport_code);
    }
}

static void test_alpn_mismatch_refused(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    c.alpn = "h3";
    start_server(f, &s);
    connect_client(f, &c);
    /* RFC 9001 section 8.1: CRYPTO_ERROR carrying no_application_protocol. */
    expect_refused(f, MM_QUIC_ERR_NO_ALPN);
    assert_false(f->crec.close.local);
}

static void test_missing_client_cert_refused(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    c.cert_file = NULL;
    c.key_file = NULL;
    start_server(f, &s);
    connect_client(f, &c);
    expect_refused(f, 0);
    /* A TLS alert in the CRYPTO_ERROR range (0x100..0x1ff). */
    assert_false(f->crec.close.app);
    assert_true(f->crec.close.error_code >= 0x100 && f->crec.close.error_code <= 0x1ff);
}

static void test_unknown_ca_refused(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    /* A client certificate from another installation's CA. */
    c.cert_file = f->other.client_crt;
    c.key_file = f->other.client_key;
    start_server(f, &s);
    connect_client(f, &c);
    expect_refused(f, 0);
    assert_true(f->crec.close.error_code >= 0x100 && f->crec.close.error_code <= 0x1ff);
}

static void test_unknown_server_ca_refused(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    c.ca_file = f->other.ca; /* the client does not trust this server */
    start_server(f, &s);
    connect_client(f, &c);
    expect_refused(f, 0);
    assert_true(f->crec.close.local);
}

static void test_server_name_mismatch_refused(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    c.server_name = "router.example.net"; /* not in the server certificate's SANs */
    start_server(f, &s);
    connect_client(f, &c);
    expect_refused(f, 0);
}

static void test_no_resumption_no_early_data(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    c.test_try_early_data = true;
    start_server(f, &s);
    connect_client(f, &c);
    run_handshake(f);
    assert_int_equal(f->srec.connected, 1);
    qt_run_for(f->base, 100); /* room for a NewSessionTicket, which must not come */
    uint8_t data[8192];
    size_t len = 0;
    int rc = mm_quic_conn_tls_session_data(f->client, data, sizeof(data), &len);
    mm_quic_conn_close(f->client, MM_QUIC_NC_NO_ERROR, "bye", false);
    qt_run_until(f->base, &f->srec.closed, 2000);
    mm_quic_endpoint_free(mm_quic_conn_endpoint(f->client));
    f->client = NULL;

    /* Second connection: 0-RTT asked for, resumption attempted with whatever
     * state the first connection left. The server must do a full handshake. */
    memset(&f->crec, 0, sizeof(f->crec));
    memset(&f->srec, 0, sizeof(f->srec));
    if (rc == 0 && len > 0) {
        c.test_resume = data;
        c.test_resume_len = len;
    }
    connect_client(f, &c);
    run_handshake(f);
    assert_int_equal(f->srec.connected, 1);
    assert_false(mm_quic_conn_resumed(f->srec.conn));
    assert_false(mm_quic_conn_resumed(f->client));
    assert_false(mm_quic_conn_early_data_accepted(f->srec.conn));
    /* Full authentication again: the client certificate is there. */
    assert_non_null(mm_quic_conn_peer_chain(f->srec.conn));
}

static void test_retry(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    s.retry = true;
    start_server(f, &s);
    connect_client(f, &c);
    run_handshake(f);
    assert_int_equal(f->srec.connected, 1);
    assert_int_equal(f->crec.connected, 1);
    /* The Retry really happened, seen from both ends. */
    assert_true(mm_quic_conn_retried(f->client));
    assert_true(mm_quic_conn_retried(f->srec.conn));
}

static void test_stateless_reset(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    static const uint8_t secret[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    s.static_secret = secret; /* survives the restart, as a deployment's key would */
    start_server(f, &s);
    uint16_t port = mm_quic_endpoint_port(f->srv);
    connect_client(f, &c);
    run_handshake(f);
    assert_int_equal(f->crec.connected, 1);
    /* The server restarts and forgets the connection (and its old secret):
     * the next packet from the client is answered by a stateless reset. */
    mm_quic_endpoint_free(f->srv);
    f->srv = NULL;
    memset(&f->srec, 0, sizeof(f->srec));
    assert_int_equal(mm_quic_server_new(f->base, &s, "127.0.0.1", port, &qt_callbacks, &f->srec,
                                        &f->srv), 0);
    int64_t sid;
    assert_int_equal(mm_quic_conn_open_bidi(f->client, &sid), 0);
    uint8_t junk[600];
    memset(junk, 'x', sizeof(junk));
    assert_int_equal(mm_quic_conn_send(f->client, sid, junk, sizeof(junk), false), 0);
    qt_run_until(f->base, &f->crec.closed, 5000);
    assert_int_equal(f->crec.closed, 1);
    assert_true(f->crec.close.stateless_reset);
    assert_int_equal(f->srec.connected, 0);
}

int main(void)
{
    mm_log_set_level(MM_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_alpn_noq, qt_setup_two_pkis, qt_teardown),
        cmocka_unit_test_setup_teardown(test_alpn_mismatch_refused, qt_setup_two_pkis, qt_teardown),
        cmocka_unit_test_setup_teardown(test_missing_client_cert_refused, qt_setup_two_pkis, qt_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_ca_refused, qt_setup_two_pkis, qt_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_server_ca_refused, qt_setup_two_pkis, qt_teardown),
        cmocka_unit_test_setup_teardown(test_server_name_mismatch_refused, qt_setup_two_pkis, qt_teardown),
        cmocka_unit_test_setup_teardown(test_no_resumption_no_early_data, qt_setup_two_pkis, qt_teardown),
        cmocka_unit_test_setup_teardown(test_retry, qt_setup_two_pkis, qt_teardown),
        cmocka_unit_test_setup_teardown(test_stateless_reset, qt_setup_two_pkis, qt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
