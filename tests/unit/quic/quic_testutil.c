/*
 * quic_testutil.c - see quic_testutil.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mamori/mm_core.h"
#include "mamori/mm_pki.h"
#include "quic_testutil.h"

void qt_pki_make(qt_pki *p)
{
    snprintf(p->dir, sizeof(p->dir), "/tmp/mm-quic-test-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    char sub[80];
    snprintf(sub, sizeof(sub), "%s/pki", p->dir);
    assert_int_equal(mm_pki_init(sub, false), 0);
    snprintf(p->ca, sizeof(p->ca), "%s/pki/ca.crt", p->dir);
    snprintf(p->crl, sizeof(p->crl), "%s/crl.pem", p->dir);
    snprintf(p->server_crt, sizeof(p->server_crt), "%s/pki/server.crt", p->dir);
    snprintf(p->server_key, sizeof(p->server_key), "%s/pki/server.key", p->dir);
    snprintf(p->client_crt, sizeof(p->client_crt), "%s/pki/client.crt", p->dir);
    snprintf(p->client_key, sizeof(p->client_key), "%s/pki/client.key", p->dir);
}

void qt_pki_remove(qt_pki *p)
{
    char cmd[QT_PATH + 16];
    /* The directory comes from mkdtemp above: a fixed /tmp prefix. */
    if (strncmp(p->dir, "/tmp/mm-quic-test-", 18) == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
        assert_int_equal(system(cmd), 0);
    }
}

static void *pem_read(const char *path, bool key)
{
    void *o = key ? (void *)mm_pki_read_key_file(path) : (void *)mm_pki_read_cert_file(path);
    assert_non_null(o);
    return o;
}

void qt_pki_revoke(qt_pki *p, const char *cert_file)
{
    char ca_key[QT_PATH + 16];
    snprintf(ca_key, sizeof(ca_key), "%s/pki/ca.key", p->dir);
    X509 *ca = pem_read(p->ca, false);
    EVP_PKEY *key = pem_read(ca_key, true);
    X509 *victim = cert_file != NULL ? pem_read(cert_file, false) : NULL;
    X509_CRL *crl = X509_CRL_new();
    assert_non_null(crl);
    assert_int_equal(X509_CRL_set_version(crl, X509_CRL_VERSION_2), 1);
    assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)), 1);
    ASN1_TIME *now = ASN1_TIME_set(NULL, time(NULL) - 60);
    ASN1_TIME *next = ASN1_TIME_set(NULL, time(NULL) + 86400);
    X509_CRL_set1_lastUpdate(crl, now);
    X509_CRL_set1_nextUpdate(crl, next);
    if (victim != NULL) {
        X509_REVOKED *r = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(victim));
        X509_REVOKED_set_revocationDate(r, now);
        X509_CRL_add0_revoked(crl, r);
        X509_CRL_sort(crl);
    }
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    char tmp[QT_PATH + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", p->crl);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509_CRL(f, crl), 1);
    fclose(f);
    assert_int_equal(rename(tmp, p->crl), 0);
    ASN1_TIME_free(now);
    ASN1_TIME_free(next);
    X509_CRL_free(crl);
    X509_free(victim);
    X509_free(ca);
    EVP_PKEY_free(key);
}

mm_quic_config qt_server_config(const qt_pki *p)
{
    mm_quic_config c = {
        .ca_file = p->ca,
        .cert_file = p->server_crt,
        .key_file = p->server_key,
        .idle_timeout_ms = 30000,
        .max_streams_bidi = 1,
        .max_streams_uni = 0,
        .verify_interval_ms = 100,
    };
    return c;
}

mm_quic_config qt_client_config(const qt_pki *p)
{
    mm_quic_config c = {
        .ca_file = p->ca,
        .cert_file = p->client_crt,
        .key_file = p->client_key,
        .idle_timeout_ms = 30000,
        .max_streams_bidi = 0,
        .max_streams_uni = 4,
    };
    return c;
}

/* ---------------------------------------------------------------- recorder */

static int on_connected(mm_quic_conn *c, void *arg)
{
    qt_rec *r = arg;
    r->connected++;
    r->conn = c;
    return 0;
}

static int on_stream_open(mm_quic_conn *c, int64_t sid, void *arg)
{
    qt_rec *r = arg;
    r->opened++;
    r->last_opened = sid;
    if (r->refuse_extra && r->opened > 1) {
        mm_quic_conn_stream_shutdown(c, sid, MM_QUIC_NC_CLOSE_STREAM_ERROR);
        return -1;
    }
    return 0;
}

static int on_stream_data(mm_quic_conn *c, int64_t sid, const uint8_t *data, size_t len,
                          bool fin, void *arg)
{
    qt_rec *r = arg;
    if (r->refuse_extra && sid != 0)
        return 0;
    r->data_sid = sid;
    size_t room = sizeof(r->data) - r->datalen;
    size_t n = len < room ? len : room;
    memcpy(r->data + r->datalen, data, n);
    r->datalen += n;
    r->total += len;
    r->fin = r->fin || fin;
    if (r->echo && len > 0)
        mm_quic_conn_send(c, sid, data, len, false);
    return 0;
}

static void on_stream_reset(mm_quic_conn *c, int64_t sid, uint64_t code, void *arg)
{
    (void)c;
    qt_rec *r = arg;
    r->resets++;
    r->last_reset_sid = sid;
    r->last_reset_code = code;
}

static void on_peer_invalid(mm_quic_conn *c, const char *why, void *arg)
{
    (void)c;
    (void)why;
    ((qt_rec *)arg)->peer_invalid++;
}

static void on_closed(mm_quic_conn *c, const mm_quic_close_info *info, void *arg)
{
    qt_rec *r = arg;
    r->closed++;
    r->close = *info;
    snprintf(r->close_reason, sizeof(r->close_reason), "%s", info->reason);
    r->close.reason = r->close_reason;
    if (r->conn == c)
        r->conn = NULL;
}

const mm_quic_callbacks qt_callbacks = {
    .on_connected = on_connected,
    .on_stream_open = on_stream_open,
    .on_stream_data = on_stream_data,
    .on_stream_reset = on_stream_reset,
    .on_peer_invalid = on_peer_invalid,
    .on_closed = on_closed,
};

/* ---------------------------------------------------------------- fixture */

static int fixture_setup(void **state, bool two_pkis)
{
    qt_fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    qt_pki_make(&f->pki);
    if (two_pkis)
        qt_pki_make(&f->other);
    f->base = event_base_new();
    *state = f;
    return 0;
}

int qt_setup(void **state)
{
    return fixture_setup(state, false);
}

int qt_setup_two_pkis(void **state)
{
    return fixture_setup(state, true);
}

int qt_teardown(void **state)
{
    qt_fixture *f = *state;
    if (f->client != NULL)
        mm_quic_endpoint_free(mm_quic_conn_endpoint(f->client));
    mm_quic_endpoint_free(f->srv);
    event_base_free(f->base);
    qt_pki_remove(&f->pki);
    if (f->other.dir[0] != '\0')
        qt_pki_remove(&f->other);
    free(f);
    return 0;
}

/* ---------------------------------------------------------------- loop */

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

int qt_run_until(struct event_base *base, const int *flag, int timeout_ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct event *ev = event_new(base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, 10000};
    event_add(ev, &tv);
    while (*flag == 0) {
        event_base_loop(base, EVLOOP_ONCE);
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (ms > timeout_ms)
            break;
    }
    event_free(ev);
    return *flag;
}

void qt_run_for(struct event_base *base, int ms)
{
    int never = 0;
    qt_run_until(base, &never, ms);
}
