/*
 * test_streams.c - QUIC streams as NETCONF uses them: the bidirectional
 * stream 0, a refused second bidirectional stream (0x02), server-initiated
 * unidirectional streams with FIN, large transfers under flow control, a
 * notification stream overtaking a large reply queued before it,
 * graceful close, abrupt loss, and continuous certificate verification.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "quic_testutil.h"

typedef qt_fixture fixture;

static void connect_pair(fixture *f, mm_quic_config *s, mm_quic_config *c)
{
    assert_int_equal(mm_quic_server_new(f->base, s, "::1", 0, &qt_callbacks, &f->srec, &f->srv),
                     0);
    assert_int_equal(mm_quic_connect(f->base, c, "::1", mm_quic_endpoint_port(f->srv),
                                     &qt_callbacks, &f->crec, &f->client), 0);
    for (int i = 0; i < 300 && (f->crec.connected == 0 || f->srec.connected == 0); i++)
        qt_run_for(f->base, 10);
    assert_int_equal(f->srec.connected, 1);
    assert_int_equal(f->crec.connected, 1);
}

static void run_until_len(fixture *f, qt_rec *r, size_t len)
{
    for (int i = 0; i < 300 && r->datalen < len; i++)
        qt_run_for(f->base, 10);
}

static void test_echo_on_stream0(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    connect_pair(f, &s, &c);
    f->srec.echo = true;
    int64_t sid = -1;
    assert_int_equal(mm_quic_conn_open_bidi(f->client, &sid), 0);
    assert_int_equal(sid, 0);
    assert_int_equal(mm_quic_conn_send(f->client, sid, (const uint8_t *)"<hello/>", 8, false), 0);
    run_until_len(f, &f->crec, 8);
    assert_int_equal(f->crec.datalen, 8);
    assert_memory_equal(f->crec.data, "<hello/>", 8);
    /* The server granted one bidirectional stream: a second is blocked locally. */
    int64_t sid2;
    assert_int_equal(mm_quic_conn_open_bidi(f->client, &sid2), MM_ELIMIT);
}

static void test_second_bidi_refused_0x02(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    s.max_streams_bidi = 2;
    connect_pair(f, &s, &c);
    f->srec.echo = true;
    f->srec.refuse_extra = true;
    int64_t s0, s4;
    assert_int_equal(mm_quic_conn_open_bidi(f->client, &s0), 0);
    assert_int_equal(mm_quic_conn_send(f->client, s0, (const uint8_t *)"a", 1, false), 0);
    run_until_len(f, &f->crec, 1);
    assert_int_equal(mm_quic_conn_open_bidi(f->client, &s4), 0);
    assert_int_equal(s4, 4);
    assert_int_equal(mm_quic_conn_send(f->client, s4, (const uint8_t *)"b", 1, false), 0);
    qt_run_until(f->base, &f->crec.resets, 2000);
    assert_int_equal(f->crec.last_reset_sid, 4);
    assert_int_equal(f->crec.last_reset_code, MM_QUIC_NC_CLOSE_STREAM_ERROR);
    /* Stream 0 keeps going. */
    assert_int_equal(mm_quic_conn_send(f->client, s0, (const uint8_t *)"c", 1, false), 0);
    run_until_len(f, &f->crec, 2);
    assert_int_equal(f->crec.datalen, 2);
    assert_memory_equal(f->crec.data, "ac", 2);
    assert_int_equal(f->crec.closed, 0);
}

static void test_server_uni_stream_fin(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    connect_pair(f, &s, &c);
    int64_t sid;
    assert_int_equal(mm_quic_conn_open_uni(f->srec.conn, &sid), 0);
    assert_int_equal(sid & 0x3, 0x3);
    assert_int_equal(mm_quic_conn_send(f->srec.conn, sid, (const uint8_t *)"note", 4, true), 0);
    for (int i = 0; i < 200 && !f->crec.fin; i++)
        qt_run_for(f->base, 10);
    assert_true(f->crec.fin);
    assert_int_equal(f->crec.data_sid, sid);
    assert_int_equal(f->crec.datalen, 4);
}

static void test_large_transfer_then_graceful_close(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    connect_pair(f, &s, &c);
    int64_t sid;
    assert_int_equal(mm_quic_conn_open_bidi(f->client, &sid), 0);
    size_t n = 3u << 20; /* beyond the initial flow-control windows */
    uint8_t *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (uint8_t)(i * 7);
    assert_int_equal(mm_quic_conn_send(f->client, sid, big, n, false), 0);
    /* Graceful close waits until every byte is acknowledged. */
    mm_quic_conn_close(f->client, MM_QUIC_NC_NO_ERROR, "done", true);
    qt_run_until(f->base, &f->srec.closed, 10000);
    assert_int_equal(f->srec.closed, 1);
    assert_true(f->srec.close.app);
    assert_int_equal(f->srec.close.error_code, MM_QUIC_NC_NO_ERROR);
    /* The recorder keeps the first 64 KiB: check it arrived intact. */
    assert_int_equal(f->srec.total, n);
    assert_int_equal(f->srec.datalen, sizeof(f->srec.data));
    assert_memory_equal(f->srec.data, big, sizeof(f->srec.data));
    free(big);
}

/* The client side of test_notification_overtakes_bulk: where stream 0 stood
 * when the first byte of the unidirectional (notification) stream arrived. */
static size_t g_bulk_rx, g_bulk_at_uni, g_uni_rx;

static int order_on_data(mm_quic_conn *c, int64_t sid, const uint8_t *data, size_t len,
                         bool fin, void *arg)
{
    if ((sid & 0x3) == 0x3) {
        if (g_uni_rx == 0 && len > 0)
            g_bulk_at_uni = g_bulk_rx;
        g_uni_rx += len;
    } else {
        g_bulk_rx += len;
    }
    return qt_callbacks.on_stream_data(c, sid, data, len, fin, arg);
}

/*
 * A notification queued after a large reply still goes first: unidirectional
 * (notification) streams are written before stream 0 (conn.c pick_stream),
 * so a notification waits for at most the burst already on the wire, not
 * for the reply.
 */
static void test_notification_overtakes_bulk(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    c.max_streams_uni = 1;
    assert_int_equal(mm_quic_server_new(f->base, &s, "::1", 0, &qt_callbacks, &f->srec, &f->srv),
                     0);
    mm_quic_callbacks cb = qt_callbacks;
    cb.on_stream_data = order_on_data;
    g_bulk_rx = g_bulk_at_uni = g_uni_rx = 0;
    assert_int_equal(mm_quic_connect(f->base, &c, "::1", mm_quic_endpoint_port(f->srv), &cb,
                                     &f->crec, &f->client), 0);
    for (int i = 0; i < 300 && (f->crec.connected == 0 || f->srec.connected == 0); i++)
        qt_run_for(f->base, 10);
    assert_int_equal(f->srec.connected, 1);
    int64_t sid;
    assert_int_equal(mm_quic_conn_open_bidi(f->client, &sid), 0);
    assert_int_equal(mm_quic_conn_send(f->client, sid, (const uint8_t *)"<get/>", 6, false), 0);
    for (int i = 0; i < 300 && f->srec.total < 6; i++)
        qt_run_for(f->base, 10);
    mm_quic_conn *sc = f->srec.conn;
    size_t n = 4u << 20;
    uint8_t *big = calloc(1, n);
    assert_int_equal(mm_quic_conn_send(sc, 0, big, n, false), 0);
    int64_t uni;
    assert_int_equal(mm_quic_conn_open_uni(sc, &uni), 0);
    assert_int_equal(mm_quic_conn_send(sc, uni, (const uint8_t *)"<notification/>", 15, false),
                     0);
    for (int i = 0; i < 1000 && (g_uni_rx < 15 || g_bulk_rx < n); i++)
        qt_run_for(f->base, 10);
    assert_int_equal(g_uni_rx, 15);
    assert_int_equal(g_bulk_rx, n);
    /* Only what the first send burst carried may precede it (a few packets). */
    if (g_bulk_at_uni > n / 16)
        fail_msg("notification arrived after %zu of %zu reply bytes", g_bulk_at_uni, n);
    free(big);
}

static void test_abrupt_loss_idle_timeout(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    s.idle_timeout_ms = 300;
    connect_pair(f, &s, &c);
    /* The client vanishes without a word. */
    mm_quic_endpoint_free(mm_quic_conn_endpoint(f->client));
    f->client = NULL;
    qt_run_until(f->base, &f->srec.closed, 5000);
    assert_int_equal(f->srec.closed, 1);
    assert_true(f->srec.close.idle);
    assert_int_equal(mm_quic_endpoint_conn_count(f->srv), 0);
}

static void test_keep_alive_keeps_idle_session(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    s.idle_timeout_ms = 300;
    c.keep_alive_ms = 100;
    connect_pair(f, &s, &c);
    qt_run_for(f->base, 1000);
    assert_int_equal(f->srec.closed, 0);
    assert_int_equal(f->crec.closed, 0);
}

static void test_revoked_client_closed(void **state)
{
    fixture *f = *state;
    qt_pki_revoke(&f->pki, NULL); /* an empty CRL to begin with */
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    s.crl_file = f->pki.crl;
    connect_pair(f, &s, &c);
    qt_run_for(f->base, 250);
    assert_int_equal(f->srec.closed, 0);
    /* The CA revokes the client: the next verification tick ends the session. */
    qt_pki_revoke(&f->pki, f->pki.client_crt);
    qt_run_until(f->base, &f->crec.closed, 3000);
    assert_int_equal(f->srec.peer_invalid, 1);
    assert_int_equal(f->srec.closed, 1);
    assert_int_equal(f->crec.closed, 1);
    assert_true(f->crec.close.app);
    /* A new handshake with the revoked certificate is refused too. */
    memset(&f->crec, 0, sizeof(f->crec));
    mm_quic_endpoint_free(mm_quic_conn_endpoint(f->client));
    f->client = NULL;
    assert_int_equal(mm_quic_connect(f->base, &c, "::1", mm_quic_endpoint_port(f->srv),
                                     &qt_callbacks, &f->crec, &f->client), 0);
    qt_run_until(f->base, &f->crec.closed, 3000);
    assert_int_equal(f->crec.closed, 1);
    assert_int_equal(f->srec.connected, 1);
}

int main(void)
{
    mm_log_set_level(MM_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_echo_on_stream0, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_second_bidi_refused_0x02, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_server_uni_stream_fin, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_large_transfer_then_graceful_close, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_notification_overtakes_bulk, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_abrupt_loss_idle_timeout, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_keeps_idle_session, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_revoked_client_closed, qt_setup, qt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
