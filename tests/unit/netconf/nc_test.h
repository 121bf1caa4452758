/*
 * nc_test.h - drive NETCONF server sessions through their byte interface:
 * a test transport captures what the engine sends, and a tiny client
 * frames input and deframes output with the engine's own framer.
 * No cmocka here: the fuzz harness uses it too.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_NC_TEST_H
#define MAMORI_NC_TEST_H

#include <stdbool.h>

#include "mamori/mm_buf.h"
#include "mamori/mm_netconf.h"

typedef struct nct_server {
    mm_nc_server *srv;
    struct event_base *base;
    char dir[256];
} nct_server;

typedef struct nct_conn {
    nct_server *t;
    mm_nc_session *s; /* NULL once the engine closed or lost it */
    mm_buf out;       /* bytes the engine sent, not yet deframed */
    mm_nc_framer rx;
    bool base11;      /* the client advertises base:1.1 */
    bool closed;
    unsigned msgid;
    bool use_chan;    /* offer notif_open (QUIC-like) */
    int chan_opened, chan_closed;
    mm_buf chan_out;  /* bytes sent on the notification channel */
    char *hello;      /* the server hello */
    size_t cap;       /* backlog transport: out is the queue, this its cap */
    bool aborted;     /* ...ended with its queue dropped (ops->abort) */
} nct_conn;

/* A server on a fresh state dir (or dir, if given, to restart on old state). */
int nct_server_start(nct_server *t, const char *dir, const char *recovery_user);
/* The same with the message bounds (and test hooks) of over, where set. */
int nct_server_start_with(nct_server *t, const char *dir, const char *recovery_user,
                          const mm_nc_server_config *over);
void nct_server_stop(nct_server *t, bool remove_dir);

/* Open a session as user and exchange hellos (client hello from caps, or the default). */
int nct_open(nct_server *t, nct_conn *c, const char *user, bool base11);
int nct_open_ex(nct_server *t, nct_conn *c, const char *user, bool chunked_only, bool use_chan);
/* A base:1.1 session whose transport reports out (what the client has not
 * read yet) as its queue, with cap as the cap (mm_nc_transport_ops.queued). */
int nct_open_backlog(nct_server *t, nct_conn *c, const char *user, size_t cap);
/* Send the client hello (xml) and switch framing like a client would. */
int nct_hello(nct_conn *c, const char *hello_xml);
/* Raw bytes to the engine; 0 or negative when the session ended. */
int nct_input(nct_conn *c, const void *data, size_t len);
/* One message framed in the session's current framing. */
int nct_send(nct_conn *c, const char *xml);
/* Next message the engine sent (malloc'd), NULL if none. */
char *nct_recv(nct_conn *c);
/* <rpc message-id=N xmlns=base>op</rpc>; returns the reply (malloc'd). */
char *nct_rpc(nct_conn *c, const char *op);
/* End the session as a lost transport (if still open), free buffers. */
void nct_drop(nct_conn *c);
/* Count occurrences of needle in hay. */
int nct_count(const char *hay, const char *needle);

/* In nc_test_cmocka.c (cmocka tests only): nct_rpc(c, op), failing the test
 * unless the reply contains want; the caller frees the reply. */
char *nct_expect(nct_conn *c, const char *op, const char *want);
/* nct_expect(c, op, "<ok/>"), the reply freed. */
void nct_ok(nct_conn *c, const char *op);

#define NCT_NS "xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\""
#define NCT_TNS "xmlns=\"urn:mamori:test:nc\""

#endif
