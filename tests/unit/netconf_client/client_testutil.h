/*
 * client_testutil.h - helpers shared by the NETCONF client tests that run a
 * server thread on one end of a socketpair and the client on the other
 * (test_client.c against a fake server, test_client_engine.c against the
 * real engine).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_CLIENT_TESTUTIL_H
#define MM_CLIENT_TESTUTIL_H

#include <pthread.h>

#include "mamori/mm_netconf.h"

/* A socketpair: *cfd is the client end, wrapped by fds and io; returns the
 * server end. */
int ct_socketpair(mm_nc_fd_stream *fds, mm_nc_client_io *io, int *cfd);

/* Shut the client end, join the server thread, close both ends. */
void ct_finish(int cfd, pthread_t server, int sfd);

/* A client after the hello exchange over io (fails the test otherwise). */
mm_nc_client *ct_hello(const mm_nc_client_io *io, int timeout_ms);

#endif
