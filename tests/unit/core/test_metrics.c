/*
 * test_metrics.c - metrics registry: families, labelled series, escaping,
 * the series bound, removal by label, the text exposition, and the HTTP
 * endpoint (loopback only) fetched over a real socket.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "mamori/mm_core.h"
#include "mamori/mm_metrics.h"

static void test_render(void **state)
{
    (void)state;
    mm_metrics *m = mm_metrics_new(0);
    assert_non_null(m);
    assert_int_equal(
        mm_metrics_family(m, "bmp_messages_total", MM_METRIC_COUNTER, "BMP messages\nreceived"), 0);
    assert_int_equal(mm_metrics_family(m, "bmp_messages_total", MM_METRIC_COUNTER, "again"), 0);
    assert_int_equal(mm_metrics_family(m, "bmp_messages_total", MM_METRIC_GAUGE, "x"), MM_EEXIST);
    assert_int_equal(mm_metrics_family(m, "9bad", MM_METRIC_GAUGE, "x"), MM_EINVAL);
    assert_int_equal(mm_metrics_family(m, "bmp_up", MM_METRIC_GAUGE, "up"), 0);
    mm_metric *a =
        mm_metrics_getv(m, "bmp_messages_total", "router", "r\"1\\", "type", "stats", NULL);
    mm_metric *b = mm_metrics_getv(m, "bmp_messages_total", "router", "r2", "type", "stats", NULL);
    assert_non_null(a);
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(
        a, mm_metrics_getv(m, "bmp_messages_total", "router", "r\"1\\", "type", "stats", NULL));
    assert_null(mm_metrics_getv(m, "nope", NULL));
    assert_null(mm_metrics_getv(m, "bmp_up", "bad-key", "v", NULL));
    mm_metric_add(a, 2);
    mm_metric_add(a, 3);
    mm_metric_add(a, -1); /* counters never go down */
    mm_metric_set(mm_metrics_getv(m, "bmp_up", NULL), 0.5);
    mm_buf out;
    mm_buf_init(&out, 1 << 20);
    assert_int_equal(mm_metrics_render(m, &out), 0);
    assert_string_equal(mm_buf_cstr(&out),
                        "# HELP bmp_messages_total BMP messages\\nreceived\n"
                        "# TYPE bmp_messages_total counter\n"
                        "bmp_messages_total{router=\"r\\\"1\\\\\",type=\"stats\"} 5\n"
                        "bmp_messages_total{router=\"r2\",type=\"stats\"} 0\n"
                        "# HELP bmp_up up\n"
                        "# TYPE bmp_up gauge\n"
                        "bmp_up 0.5\n");
    /* Removal by label: only exact key="value" pairs match. */
    mm_metrics_getv(m, "bmp_up", "router", "r22", NULL);
    assert_int_equal(mm_metrics_remove_label(m, "router", "r2"), 1);
    assert_int_equal(mm_metrics_series_count(m), 3);
    mm_buf_free(&out);
    mm_metrics_free(m);
}

static void test_bound(void **state)
{
    (void)state;
    mm_metrics *m = mm_metrics_new(10);
    assert_int_equal(mm_metrics_family(m, "g", MM_METRIC_GAUGE, "g"), 0);
    char v[16];
    int made = 0;
    for (int i = 0; i < 25; i++) {
        snprintf(v, sizeof(v), "%d", i);
        if (mm_metrics_getv(m, "g", "i", v, NULL))
            made++;
    }
    assert_int_equal(made, 10);
    assert_int_equal(mm_metrics_dropped(m), 15);
    mm_metrics_free(m);
}

struct fetch {
    uint16_t port;
    char reply[4096];
    size_t len;
};

/* A plain client: runs in a child so that the parent's loop can answer. */
static void test_http(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    mm_metrics *m = mm_metrics_new(0);
    mm_metrics_family(m, "up", MM_METRIC_GAUGE, "is up");
    mm_metric_set(mm_metrics_getv(m, "up", NULL), 1);
    mm_metrics_http *h;
    uint16_t port = 0;
    assert_int_equal(mm_metrics_http_start(m, base, "0.0.0.0", 0, &h, &port), MM_EPERM);
    assert_int_equal(mm_metrics_http_start(m, base, "127.0.0.1", 0, &h, &port), 0);
    assert_true(port != 0);
    int sv[2];
    assert_int_equal(pipe(sv), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
            _exit(1);
        const char req[] = "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n";
        if (write(fd, req, sizeof(req) - 1) < 0)
            _exit(1);
        char buf[4096];
        size_t n = 0;
        ssize_t r;
        while (n < sizeof(buf) && (r = read(fd, buf + n, sizeof(buf) - n)) > 0)
            n += (size_t)r;
        if (write(sv[1], buf, n) < 0)
            _exit(1);
        _exit(0);
    }
    close(sv[1]);
    /* Serve until the child has its answer (the pipe closes when it exits). */
    char reply[4096];
    size_t n = 0;
    for (int i = 0; i < 500 && n == 0; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        fd_set rf;
        FD_ZERO(&rf);
        FD_SET(sv[0], &rf);
        struct timeval tv = {0, 10000};
        if (select(sv[0] + 1, &rf, NULL, NULL, &tv) > 0) {
            ssize_t r;
            while ((r = read(sv[0], reply + n, sizeof(reply) - 1 - n)) > 0)
                n += (size_t)r;
        }
    }
    reply[n] = 0;
    assert_non_null(strstr(reply, "200 OK"));
    assert_non_null(strstr(reply, "text/plain; version=0.0.4"));
    assert_non_null(strstr(reply, "# TYPE up gauge\nup 1\n"));
    close(sv[0]);
    mm_metrics_http_stop(h);
    mm_metrics_free(m);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
