/*
 * Persistence: an acknowledged edit survives SIGKILL of the server
 * process (a real child running the engine over a socketpair).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "nc_test.h"

static const char *server_exe;

typedef struct child {
    pid_t pid;
    int fd;
    mm_nc_framer rx;
} child;

static void start(child *c, const char *dir)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    c->pid = fork();
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        dup2(sv[1], 0);
        dup2(sv[1], 1);
        close(sv[0]);
        close(sv[1]);
        execl(server_exe, server_exe, dir, (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    c->fd = sv[0];
    mm_nc_framer_init(&c->rx, 0);
}

/* Next message from the child (malloc'd). */
static char *next(child *c)
{
    const char *msg;
    size_t len;
    for (;;) {
        int rc = mm_nc_framer_next(&c->rx, &msg, &len);
        if (rc == 1)
            return strndup(msg, len);
        assert_int_equal(rc, 0);
        uint8_t buf[4096];
        ssize_t n = read(c->fd, buf, sizeof(buf));
        assert_true(n > 0);
        assert_int_equal(mm_nc_framer_push(&c->rx, buf, (size_t)n), 0);
    }
}

static void put(child *c, enum mm_nc_framing mode, const char *xml)
{
    mm_buf b;
    mm_buf_init(&b, 1u << 20);
    assert_int_equal(mm_nc_frame(mode, xml, strlen(xml), &b), 0);
    assert_int_equal(write(c->fd, b.data, b.len), (ssize_t)b.len);
    mm_buf_free(&b);
}

static void hello(child *c)
{
    free(next(c));
    put(c, MM_NC_FRAMING_EOM, "<hello " NCT_NS "><capabilities><capability>"
                              "urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>");
    mm_nc_framer_set_mode(&c->rx, MM_NC_FRAMING_CHUNKED);
}

static void stop(child *c, int sig)
{
    kill(c->pid, sig);
    waitpid(c->pid, NULL, 0);
    close(c->fd);
    mm_nc_framer_free(&c->rx);
}

static void test_sigkill_after_ack(void **state)
{
    (void)state;
    char dir[] = "/tmp/mm-nc-persist-XXXXXX";
    assert_non_null(mkdtemp(dir));
    child c;
    start(&c, dir);
    hello(&c);
    put(&c, MM_NC_FRAMING_CHUNKED,
        "<rpc " NCT_NS " message-id=\"1\"><edit-config><target><running/></target><config>"
        "<top " NCT_TNS "><name>durable</name></top></config></edit-config></rpc>");
    char *r = next(&c);
    assert_non_null(strstr(r, "<ok/>"));
    free(r);
    stop(&c, SIGKILL); /* no chance to flush anything after the <ok/> */
    start(&c, dir);
    hello(&c);
    put(&c, MM_NC_FRAMING_CHUNKED, "<rpc " NCT_NS " message-id=\"2\"><get-config><source>"
                                   "<running/></source></get-config></rpc>");
    r = next(&c);
    assert_non_null(strstr(r, "<name>durable</name>"));
    free(r);
    stop(&c, SIGKILL);
    char p[256];
    const char *files[] = {"running.xml", "startup.xml", "audit.log", "running.xml.tmp"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 77;
    server_exe = argv[1];
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_after_ack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
