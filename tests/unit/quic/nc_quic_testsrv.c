/*
 * nc_quic_testsrv.c - see nc_quic_testsrv.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_tls.h"
#include "nc_quic_testsrv.h"

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ncq_testsrv *t = arg;
    if (t->qs != NULL)
        atomic_store(&t->sessions, mm_nc_quic_server_session_count(t->qs));
    if (atomic_load(&t->stop))
        event_base_loopbreak(t->engine.base);
}

static void *run(void *arg)
{
    ncq_testsrv *t = arg;
    struct event *ev = event_new(t->engine.base, -1, EV_PERSIST, tick, t);
    struct timeval tv = {0, 20000};
    event_add(ev, &tv);
    event_base_dispatch(t->engine.base);
    event_free(ev);
    return NULL;
}

static void ca_fingerprint(const char *ca_file, mm_nc_quic_ctn *e)
{
    X509 *ca = mm_pki_read_cert_file(ca_file);
    assert_non_null(ca);
    assert_int_equal(mm_ctn_fingerprint_of(ca, MM_CTN_SHA256, e->fingerprint,
                                           sizeof(e->fingerprint), &e->fingerprint_len), 0);
    X509_free(ca);
}

void ncq_testsrv_start(ncq_testsrv *t, void (*tweak)(mm_nc_quic_settings *s))
{
    memset(t, 0, sizeof(*t));
    qt_pki_make(&t->pki);
    /* The PKI's first client (CN admin) is the NACM recovery user here. */
    assert_int_equal(nct_server_start(&t->engine, NULL, MM_PKI_DEFAULT_CLIENT), 0);
    mm_nc_quic_settings *s = &t->set;
    snprintf(s->ca_file, sizeof(s->ca_file), "%s", t->pki.ca);
    snprintf(s->cert_file, sizeof(s->cert_file), "%s", t->pki.server_crt);
    snprintf(s->key_file, sizeof(s->key_file), "%s", t->pki.server_key);
    s->n_endpoints = 1;
    snprintf(s->endpoints[0].name, sizeof(s->endpoints[0].name), "test");
    snprintf(s->endpoints[0].address, sizeof(s->endpoints[0].address), "127.0.0.1");
    s->endpoints[0].port = 0;
    s->n_ctn = 1;
    s->ctn[0].id = 1;
    s->ctn[0].map_type = MM_CTN_COMMON_NAME;
    ca_fingerprint(t->pki.ca, &s->ctn[0]);
    s->idle_timeout_ms = 30000;
    s->verify_interval_ms = 100;
    s->refuse_extra_streams = true;
    if (tweak != NULL)
        tweak(s);
    assert_int_equal(mm_nc_quic_server_new(t->engine.srv, t->engine.base, s, &t->qs), 0);
    assert_int_equal(pthread_create(&t->thread, NULL, run, t), 0);
}

void ncq_testsrv_stop(ncq_testsrv *t)
{
    atomic_store(&t->stop, true);
    pthread_join(t->thread, NULL);
    mm_nc_quic_server_free(t->qs);
    nct_server_stop(&t->engine, true);
    qt_pki_remove(&t->pki);
}

uint16_t ncq_testsrv_port(ncq_testsrv *t)
{
    return mm_nc_quic_server_port(t->qs, 0);
}

int ncq_testsrv_client(ncq_testsrv *t, const char *cert, const char *key,
                       struct mm_nc_client_io *io)
{
    mm_quic_config c = qt_client_config(&t->pki);
    if (cert != NULL) {
        c.cert_file = cert;
        c.key_file = key;
    }
    return mm_nc_quic_client_io("127.0.0.1", ncq_testsrv_port(t), &c, 5000, io);
}
