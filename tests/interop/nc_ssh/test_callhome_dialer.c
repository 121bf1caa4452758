/*
 * The call-home dialer (RFC 8071) against a real loopback listener, with
 * the transport replaced by this test (it takes the connected socket and
 * ends it when the test says): persistent redial after the session ends,
 * periodic waits for the next period, removal shuts the live connection
 * down (the listener sees end-of-file) and stops dialing, round robin to
 * the next endpoint after max-attempts. Waits are conditions polled in the
 * event loop, bounded by a deadline.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "netconfd_callhome.h"

struct adopted {
    int fd;
    char scope[80], transport[8];
    void (*closed)(void *);
    void *arg;
    unsigned count;
};

static int adopt(const char *transport, int fd, const char *scope, void (*closed)(void *),
                 void *carg, void *arg)
{
    struct adopted *a = arg;
    a->fd = fd;
    snprintf(a->scope, sizeof(a->scope), "%s", scope);
    snprintf(a->transport, sizeof(a->transport), "%s", transport);
    a->closed = closed;
    a->arg = carg;
    a->count++;
    return 0;
}

/* The transport ends the session: close, then tell the dialer. */
static void end_session(struct adopted *a)
{
    close(a->fd);
    a->fd = -1;
    void (*closed)(void *) = a->closed;
    a->closed = NULL;
    closed(a->arg);
}

static int listener(uint16_t *port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(in);
    assert_int_equal(bind(s, (struct sockaddr *)&in, sizeof(in)), 0);
    assert_int_equal(listen(s, 8), 0);
    getsockname(s, (struct sockaddr *)&in, &l);
    *port = ntohs(in.sin_port);
    return s;
}

/* A port nobody listens on (bound, never listened: connect is refused). */
static int dead_port(uint16_t *port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(in);
    assert_int_equal(bind(s, (struct sockaddr *)&in, sizeof(in)), 0);
    getsockname(s, (struct sockaddr *)&in, &l);
    *port = ntohs(in.sin_port);
    return s;
}

/* Run the loop until *count reaches want (or 10 s pass). */
static void run_until(struct event_base *base, const unsigned *count, unsigned want)
{
    for (int i = 0; i < 1000 && *count < want; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    assert_true(*count >= want);
}

static mm_netconfd_callhome_peer peer(const char *name, uint16_t port, bool periodic)
{
    mm_netconfd_callhome_peer p;
    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "%s", name);
    snprintf(p.ep[0].name, sizeof(p.ep[0].name), "e0");
    snprintf(p.ep[0].transport, sizeof(p.ep[0].transport), "tls");
    snprintf(p.ep[0].host, sizeof(p.ep[0].host), "127.0.0.1");
    p.ep[0].port = port;
    p.n_ep = 1;
    p.periodic = periodic;
    p.period_s = periodic ? 60 : 0;
    p.max_wait_s = 5;
    p.max_attempts = 3;
    return p;
}

static void test_persistent_then_removed(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    uint16_t port;
    int ls = listener(&port);
    struct adopted a = {.fd = -1};
    mm_netconfd_callhome *ch = NULL;
    assert_int_equal(mm_netconfd_callhome_new(base, 20, adopt, &a, &ch), 0);
    mm_netconfd_callhome_peer p = peer("nms", port, false);
    assert_int_equal(mm_netconfd_callhome_apply(ch, &p, 1), 0);
    run_until(base, &a.count, 1);
    assert_string_equal(a.scope, "nms");
    assert_string_equal(a.transport, "tls");
    assert_int_equal(mm_netconfd_callhome_connects(ch, "nms"), 1);
    assert_int_equal(mm_netconfd_callhome_next_ms(ch, "nms"), -1); /* connected */
    int peer1 = accept(ls, NULL, NULL);
    /* Session ends: dialed again. */
    end_session(&a);
    /* Scheduled after retry_ms (20 ms; libevent's cached clock may add a little),
     * not a period away. */
    int64_t next = mm_netconfd_callhome_next_ms(ch, "nms");
    assert_true(next >= 0 && next < 1000);
    run_until(base, &a.count, 2);
    int peer2 = accept(ls, NULL, NULL);
    assert_true(peer2 >= 0);
    /* The same configuration again: nothing changes, no new dial. */
    assert_int_equal(mm_netconfd_callhome_apply(ch, &p, 1), 0);
    assert_int_equal(a.count, 2);
    /* Removed while connected: the connection is shut down (the client sees
     * EOF), the transport ends it later, and no dial follows. */
    assert_int_equal(mm_netconfd_callhome_apply(ch, NULL, 0), 0);
    char c;
    assert_int_equal(recv(peer2, &c, 1, 0), 0);
    assert_int_equal(mm_netconfd_callhome_connects(ch, "nms"), 0); /* unknown now */
    end_session(&a); /* frees the removed peer (ASan checks) */
    assert_int_equal(mm_netconfd_callhome_next_ms(ch, "nms"), -1);
    mm_netconfd_callhome_free(ch);
    close(peer1);
    close(peer2);
    close(ls);
    event_base_free(base);
}

static void test_periodic_waits(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    uint16_t port;
    int ls = listener(&port);
    struct adopted a = {.fd = -1};
    mm_netconfd_callhome *ch = NULL;
    assert_int_equal(mm_netconfd_callhome_new(base, 20, adopt, &a, &ch), 0);
    mm_netconfd_callhome_peer p = peer("every-minute", port, true);
    assert_int_equal(mm_netconfd_callhome_apply(ch, &p, 1), 0);
    run_until(base, &a.count, 1);
    end_session(&a);
    /* Next call at the next period start, not at once. */
    /* Within one period (60 s) and not at once. The reading goes through
     * libevent's cached monotonic clock and its offset to the wall clock: it
     * can exceed the period by a millisecond or two (60001 seen in 4 of 40
     * runs), so the bound carries one second of slack. */
    int64_t ms = mm_netconfd_callhome_next_ms(ch, "every-minute");
    assert_true(ms > 1000 && ms < 61000);
    mm_netconfd_callhome_free(ch); /* with a pending timer */
    close(ls);
    event_base_free(base);
}

static void test_periodic_anchor(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    uint16_t port;
    int ls = listener(&port);
    struct adopted a = {.fd = -1};
    mm_netconfd_callhome *ch = NULL;
    assert_int_equal(mm_netconfd_callhome_new(base, 20, adopt, &a, &ch), 0);
    /* Anchored 10 s ago, every minute: the first call is ~50 s away, not now. */
    mm_netconfd_callhome_peer p = peer("anchored", port, true);
    p.anchor = (int64_t)time(NULL) - 10;
    assert_int_equal(mm_netconfd_callhome_apply(ch, &p, 1), 0);
    int64_t ms = mm_netconfd_callhome_next_ms(ch, "anchored");
    assert_true(ms > 1000 && ms <= 60000);
    assert_int_equal(a.count, 0);
    mm_netconfd_callhome_free(ch);
    close(ls);
    event_base_free(base);
}

static void test_round_robin(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    uint16_t live, dead;
    int ls = listener(&live), ds = dead_port(&dead);
    struct adopted a = {.fd = -1};
    mm_netconfd_callhome *ch = NULL;
    assert_int_equal(mm_netconfd_callhome_new(base, 10, adopt, &a, &ch), 0);
    mm_netconfd_callhome_peer p = peer("rr", dead, false);
    p.ep[1] = p.ep[0];
    snprintf(p.ep[1].name, sizeof(p.ep[1].name), "e1");
    p.ep[1].port = live;
    p.n_ep = 2;
    p.max_attempts = 2;
    assert_int_equal(mm_netconfd_callhome_apply(ch, &p, 1), 0);
    run_until(base, &a.count, 1);
    struct sockaddr_in in;
    socklen_t l = sizeof(in);
    assert_int_equal(getpeername(a.fd, (struct sockaddr *)&in, &l), 0);
    assert_int_equal(ntohs(in.sin_port), live);
    end_session(&a);
    mm_netconfd_callhome_free(ch);
    close(ls);
    close(ds);
    event_base_free(base);
}

int main(void)
{
    mm_log_set_level(MM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_persistent_then_removed),
        cmocka_unit_test(test_periodic_waits),
        cmocka_unit_test(test_periodic_anchor),
        cmocka_unit_test(test_round_robin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
