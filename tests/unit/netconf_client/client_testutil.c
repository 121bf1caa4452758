/*
 * client_testutil.c - see client_testutil.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_testutil.h"

int ct_socketpair(mm_nc_fd_stream *fds, mm_nc_client_io *io, int *cfd)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *cfd = sv[1];
    fds->rfd = fds->wfd = sv[1];
    mm_nc_client_io_fd(fds, io);
    return sv[0];
}

void ct_finish(int cfd, pthread_t server, int sfd)
{
    shutdown(cfd, SHUT_RDWR);
    pthread_join(server, NULL);
    close(cfd);
    close(sfd);
}

mm_nc_client *ct_hello(const mm_nc_client_io *io, int timeout_ms)
{
    mm_nc_client *c = NULL;
    char why[256];
    if (mm_nc_client_new_ex(io, 0, timeout_ms, &c, why, sizeof(why)) < 0)
        fail_msg("hello failed: %s", why);
    return c;
}
