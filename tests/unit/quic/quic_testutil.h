/*
 * quic_testutil.h - shared pieces of the QUIC tests: a throw-away PKI, an
 * event loop that runs until a condition holds, and a recorder of callbacks.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_QUIC_TESTUTIL_H
#define MM_QUIC_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "mamori/mm_quic.h"

#define QT_PATH 512

typedef struct qt_pki {
    char dir[64];
    char ca[QT_PATH], crl[QT_PATH];
    char server_crt[QT_PATH], server_key[QT_PATH];
    char client_crt[QT_PATH], client_key[QT_PATH];
} qt_pki;

/* A fresh PKI in a temporary directory (mm_pki_init). */
void qt_pki_make(qt_pki *p);
void qt_pki_remove(qt_pki *p);
/* Write p->crl: a CRL signed by p's CA revoking the certificate in cert_file
 * (NULL: an empty CRL). */
void qt_pki_revoke(qt_pki *p, const char *cert_file);

/* Server/client configurations over a PKI (NETCONF stream limits). */
mm_quic_config qt_server_config(const qt_pki *p);
mm_quic_config qt_client_config(const qt_pki *p);

/* Everything the callbacks saw. */
typedef struct qt_rec {
    int connected, closed, opened, resets;
    int64_t last_opened, last_reset_sid;
    uint64_t last_reset_code;
    mm_quic_close_info close;
    char close_reason[64];
    uint8_t data[65536];
    size_t datalen; /* bytes kept in data */
    size_t total;   /* bytes received */
    int64_t data_sid;
    bool fin;
    int peer_invalid;
    bool refuse_extra; /* server: refuse every peer stream but the first (0x02) */
    bool echo;         /* server: echo stream data back */
    mm_quic_conn *conn;
} qt_rec;

extern const mm_quic_callbacks qt_callbacks;

/* The fixture of the handshake and stream tests: a PKI (and, from
 * qt_setup_two_pkis, a second unrelated one), an event base, a server and a
 * client with their recorders. */
typedef struct qt_fixture {
    qt_pki pki, other;
    struct event_base *base;
    mm_quic_endpoint *srv;
    qt_rec srec, crec;
    mm_quic_conn *client;
} qt_fixture;

/* cmocka setup/teardown for a qt_fixture in *state. */
int qt_setup(void **state);
int qt_setup_two_pkis(void **state);
int qt_teardown(void **state);

/* Run base until *flag becomes nonzero or timeout_ms passes; returns *flag. */
int qt_run_until(struct event_base *base, const int *flag, int timeout_ms);
/* Run base for ms milliseconds. */
void qt_run_for(struct event_base *base, int ms);

#endif
