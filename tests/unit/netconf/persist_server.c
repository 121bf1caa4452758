/*
 * persist_server.c - the engine over stdin/stdout for the persistence
 * test: one session, state in argv[1], modules from $MM_NC_TEST_YANG.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"

static struct event_base *base;

static int io_send(void *io, const uint8_t *data, size_t len)
{
    (void)io;
    return mm_write_all(STDOUT_FILENO, data, len);
}

static void io_close(void *io, int app_error)
{
    (void)io;
    (void)app_error;
    event_base_loopbreak(base);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    mm_nc_session **s = arg;
    uint8_t buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
        mm_nc_session_lost(*s);
        *s = NULL;
        event_base_loopbreak(base);
        return;
    }
    if (mm_nc_session_input(*s, buf, (size_t)n) < 0)
        *s = NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    mm_log_set_level(MM_LOG_WARN);
    base = event_base_new();
    mm_nc_server_config cfg = {.module_dir = getenv("MM_NC_TEST_YANG"), .state_dir = argv[1],
                               .recovery_user = "admin"};
    mm_nc_server *srv = NULL;
    if (mm_nc_server_new(&cfg, base, &srv) < 0)
        return 1;
    static const mm_nc_transport_ops ops = {.send = io_send, .close = io_close};
    mm_nc_session_info info = {.username = "admin", .transport = "test", .peer = ""};
    mm_nc_session *s = mm_nc_session_new(srv, &info, &ops, NULL);
    struct event *ev = event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST, on_read, &s);
    event_add(ev, NULL);
    event_base_dispatch(base);
    event_free(ev);
    mm_nc_server_free(srv);
    event_base_free(base);
    return 0;
}
