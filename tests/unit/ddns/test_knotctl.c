/*
 * Knot control socket client (knotctl.c): the answer reader on fixed byte
 * strings, and the request bytes as a fake server on a Unix socket sees them.
 * (tests/interop/ddns/knot_child.sh checks that a real knotd accepts it.)
 * SPDX-License-Identifier: Apache-2.0
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns_push.h"

static void test_reply_parse(void **state)
{
    (void)state;
    char err[64];
    static const uint8_t ok[] = {0x03};
    assert_int_equal(mm_ddns_knotctl_reply_parse(ok, sizeof(ok), err, sizeof(err)), 0);
    static const uint8_t fail[] = {0x01, 0x12, 0x00, 0x0c, 'n', 'o', ' ', 's', 'u', 'c', 'h',
                                   ' ', 'z', 'o', 'n', 'e', 0x03};
    assert_int_equal(mm_ddns_knotctl_reply_parse(fail, sizeof(fail), err, sizeof(err)), MM_EPROTO);
    assert_string_equal(err, "no such zone");
    /* the same answer cut anywhere before the block end is incomplete */
    for (size_t n = 0; n < sizeof(fail); n++)
        assert_int_equal(mm_ddns_knotctl_reply_parse(fail, n, err, sizeof(err)), MM_EAGAIN);
    static const uint8_t data_ok[] = {0x01, 0x16, 0x00, 0x02, 'x', '.', 0x03};
    assert_int_equal(mm_ddns_knotctl_reply_parse(data_ok, sizeof(data_ok), err, sizeof(err)), 0);
    static const uint8_t bad_type[] = {0x07};
    assert_int_equal(mm_ddns_knotctl_reply_parse(bad_type, 1, err, sizeof(err)), MM_EPROTO);
    static const uint8_t bad_item[] = {0x01, 0x30, 0x00, 0x00, 0x03};
    assert_int_equal(mm_ddns_knotctl_reply_parse(bad_item, sizeof(bad_item), err, sizeof(err)),
                     MM_EPROTO);
}

struct fake {
    int lfd;
    uint8_t got[256];
    size_t n;
    uint8_t answer[32];
    size_t an;
};

static void *serve(void *arg)
{
    struct fake *f = arg;
    int fd = accept(f->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    /* the request: one data unit and a block end */
    while (f->n < sizeof(f->got)) {
        ssize_t r = read(fd, f->got + f->n, sizeof(f->got) - f->n);
        if (r <= 0)
            break;
        f->n += (size_t)r;
        if (f->got[f->n - 1] == 0x03)
            break;
    }
    if (write(fd, f->answer, f->an) != (ssize_t)f->an)
        f->n = 0;
    uint8_t end = 0xff;
    if (read(fd, &end, 1) == 1 && end == 0x00)
        f->got[f->n++] = end; /* the client's end unit */
    close(fd);
    return NULL;
}

static int run_fake(struct fake *f, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->lfd, 1), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, serve, f), 0);
    int rc = mm_ddns_knotctl_zone_notify(path, "dyn.home.arpa");
    pthread_join(t, NULL);
    close(f->lfd);
    unlink(path);
    return rc;
}

static void test_request_bytes(void **state)
{
    (void)state;
    char path[100]; /* sun_path holds 108 */
    const char *tmp = getenv("TMPDIR");
    int w = snprintf(path, sizeof(path), "%s/mm-knotctl-%ld.sock", tmp && *tmp ? tmp : "/tmp",
                     (long)getpid());
    if (w < 0 || (size_t)w >= sizeof(path))
        snprintf(path, sizeof(path), "/tmp/mm-knotctl-%ld.sock", (long)getpid());
    struct fake f = {.answer = {0x03}, .an = 1};
    assert_int_equal(run_fake(&f, path), 0);
    static const uint8_t want[] = {0x01, 0x10, 0x00, 0x0b, 'z', 'o', 'n', 'e', '-', 'n', 'o', 't',
                                   'i', 'f', 'y', 0x16, 0x00, 0x0e, 'd', 'y', 'n', '.', 'h', 'o',
                                   'm', 'e', '.', 'a', 'r', 'p', 'a', '.', 0x03, 0x00};
    assert_int_equal(f.n, sizeof(want));
    assert_memory_equal(f.got, want, sizeof(want));
    /* an error answer is reported */
    struct fake g = {.answer = {0x01, 0x12, 0x00, 0x03, 'b', 'a', 'd', 0x03}, .an = 8};
    assert_int_equal(run_fake(&g, path), MM_EPROTO);
    /* nobody listening */
    assert_true(mm_ddns_knotctl_zone_notify(path, "dyn.home.arpa") < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_parse),
        cmocka_unit_test(test_request_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
