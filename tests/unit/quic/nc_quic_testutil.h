/*
 * nc_quic_testutil.h - helpers shared by the NETCONF-over-QUIC tests
 * (test_netconf.c, test_netconf_suite.c): the cmocka fixture around an
 * ncq_testsrv, client sessions, RPCs, and waiting for the server's sessions.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_NC_QUIC_TESTUTIL_H
#define MM_NC_QUIC_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "mamori/mm_netconf.h"
#include "nc_quic_testsrv.h"

/* The timeout (ms) of every client call in these tests. */
#define NCQ_T 5000

/* cmocka setup/teardown: an ncq_testsrv with the default settings in *state. */
int ncq_setup(void **state);
int ncq_teardown(void **state);

/* A client io with the certificate of user name, issued by t's PKI when it
 * does not exist yet. */
int ncq_client_as(ncq_testsrv *t, const char *name, mm_nc_client_io *io);

/* Free *c (when set, then NULL) and io, without <close-session/>. */
void ncq_client_free(mm_nc_client **c, mm_nc_client_io *io);

/* The reply to op (fails the test on an error); the caller frees it. */
char *ncq_rpc(mm_nc_client *c, const char *op);
/* The reply to op, failing the test when it lacks needle; the caller frees it. */
char *ncq_expect(mm_nc_client *c, const char *op, const char *needle);

/* Wait for t's session count to become n; keep's connection (when not NULL)
 * stays alive meanwhile (its private loop only runs inside a client call). */
bool ncq_wait_sessions(ncq_testsrv *t, size_t n, mm_nc_client *keep);

#endif
