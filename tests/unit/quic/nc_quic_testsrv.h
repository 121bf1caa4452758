/*
 * nc_quic_testsrv.h - a NETCONF-over-QUIC server (the real engine) on its own
 * thread, so blocking mm_nc_client calls in the test thread can talk to it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_NC_QUIC_TESTSRV_H
#define MM_NC_QUIC_TESTSRV_H

#include <pthread.h>
#include <stdatomic.h>

#include "mamori/mm_netconf_quic.h"
#include "mamori/mm_quic.h"
#include "nc_test.h"
#include "quic_testutil.h"

typedef struct ncq_testsrv {
    qt_pki pki;
    nct_server engine;
    mm_nc_quic_server *qs;
    mm_nc_quic_settings set;
    pthread_t thread;
    atomic_bool stop;
    atomic_size_t sessions;
} ncq_testsrv;

/* settings: NULL for the defaults (CA fingerprint -> common-name). */
void ncq_testsrv_start(ncq_testsrv *t, void (*tweak)(mm_nc_quic_settings *s));
void ncq_testsrv_stop(ncq_testsrv *t);
uint16_t ncq_testsrv_port(ncq_testsrv *t);
/* A client io with the PKI's client certificate (or cert/key given). */
int ncq_testsrv_client(ncq_testsrv *t, const char *cert, const char *key,
                       struct mm_nc_client_io *io);

#endif
