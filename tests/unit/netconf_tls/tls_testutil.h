/*
 * tls_testutil.h - support for the NETCONF-over-TLS tests: certificates
 * and CRLs made with OpenSSL for a mamori PKI, mamori-netconfd's logic on
 * an event loop in a thread of its own, and blocking clients.
 * No cmocka here: the daemon-level tests and the benchmark use it too.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_TLS_TESTUTIL_H
#define MAMORI_TLS_TESTUTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "mamori/mm_netconf.h"
#include "mamori/mm_netconf_tls.h"
#include "netconfd.h"

/* ------------------------------------------------------------ PKI */

/*
 * A client certificate signed by the CA of pki_dir: subject CN=cn (no CN
 * at all if cn is NULL), valid from a minute ago for valid_s seconds, with
 * a fresh P-256 key. Written as PEM to crt and key.
 */
int tu_issue(const char *pki_dir, const char *cn, long valid_s, const char *crt,
             const char *key);
/*
 * A CRL of the CA of pki_dir revoking the serials of the certificates in
 * revoked (PEM files, n of them), written atomically (temp file + rename).
 */
int tu_write_crl(const char *pki_dir, const char *const *revoked, size_t n, const char *out);
/* "04:AB:..." (SHA-256 tls-fingerprint) of the certificate in a PEM file. */
int tu_fingerprint(const char *crt, char *out, size_t len);
/* notAfter of the certificate in a PEM file, as time_t. */
long tu_not_after(const char *crt);

/* ------------------------------------------------------------ daemon */

typedef struct tu_daemon {
    char dir[256];      /* temp dir: pki/, state/, crl.pem */
    char pki[300], state[300], crl[300];
    struct event_base *base;
    mm_netconfd *d;
    pthread_t thread;
    bool running;
} tu_daemon;

/*
 * A fresh temp dir with a PKI (mm_pki_init) and an empty CRL, then
 * mamori-netconfd's logic (mm_netconfd_start) on 127.0.0.1, any free
 * port, with module_dir served (may be NULL), looping in its own thread.
 */
int tu_daemon_start(tu_daemon *t, const char *module_dir, uint32_t verify_ms);
void tu_daemon_stop(tu_daemon *t);
/* Port of endpoint i, read on the loop thread. */
uint16_t tu_daemon_port(tu_daemon *t, size_t i);
size_t tu_daemon_sessions(tu_daemon *t);
/* Run fn(arg) on the loop thread and wait for it. */
void tu_daemon_call(tu_daemon *t, void (*fn)(tu_daemon *t, void *arg), void *arg);

/* ------------------------------------------------------------ clients */

typedef struct tu_client {
    mm_nc_tls_stream *st;
    mm_nc_client *c;
    char why[256];
} tu_client;

/* TLS connect to 127.0.0.1:port trusting ca, as crt/key; no hello yet. */
int tu_tls_connect(uint16_t port, const char *ca, const char *crt, const char *key,
                   tu_client *out);
/* tu_tls_connect, then the hellos. */
int tu_connect(uint16_t port, const char *ca, const char *crt, const char *key,
               tu_client *out);
/* One RPC; the reply (malloc'd) or NULL on failure. */
char *tu_rpc(tu_client *cl, const char *op);
/* 1 if the reply is <ok/>, 0 if not, free the reply. */
int tu_rpc_ok(tu_client *cl, const char *op);
/* Wait up to timeout_ms for the server to end the session; ms waited, or -1. */
long tu_wait_closed(tu_client *cl, int timeout_ms);
void tu_client_close(tu_client *cl);

/* A free TCP port on 127.0.0.1 right now (bind port 0, close). */
uint16_t tu_free_port(void);
int64_t tu_now_ms(void);
/* rm -rf dir (files and subdirectories the tests make). */
void tu_rmtree(const char *dir);

#endif
