/*
 * The NETCONF client against the real engine (mm_nc_server/mm_nc_session)
 * over a socketpair: the engine runs in its own thread and is fed bytes
 * from one end; the client uses the other end through mm_nc_client_io_fd.
 * Hello and framing, get/get-config/edit-config/lock/commit, pipelining,
 * rpc-error parsing, NACM denial for a non-recovery user, close-session.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "client_testutil.h"
#include "nc_test.h"

#define TNS "urn:mamori:test:nc"

typedef struct engine {
    nct_server t;
    const char *user;
    int fd;
    bool closed;
    pthread_t thread;
} engine;

static int eng_send(void *io, const uint8_t *data, size_t len)
{
    engine *e = io;
    while (len > 0) {
        ssize_t n = send(e->fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return MM_ECLOSED;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static void eng_close(void *io, int app_error)
{
    engine *e = io;
    e->closed = true;
    shutdown(e->fd, SHUT_WR);
}

static const mm_nc_transport_ops eng_ops = {.send = eng_send, .close = eng_close};

static void *engine_main(void *arg)
{
    engine *e = arg;
    mm_nc_session_info info = {.username = e->user, .transport = "test", .peer = "socketpair"};
    mm_nc_session *s = mm_nc_session_new(e->t.srv, &info, &eng_ops, e);
    uint8_t buf[8192];
    while (s && !e->closed) {
        ssize_t n = read(e->fd, buf, sizeof(buf));
        if (n <= 0) {
            mm_nc_session_lost(s);
            break;
        }
        if (mm_nc_session_input(s, buf, (size_t)n) < 0)
            break; /* ended: the engine freed it */
    }
    return NULL;
}

typedef struct harness {
    engine e;
    int cfd;
    mm_nc_fd_stream fds;
    mm_nc_client_io io;
} harness;

static void start(harness *h, const char *user)
{
    memset(h, 0, sizeof(*h));
    assert_int_equal(nct_server_start(&h->e.t, NULL, "root"), 0);
    h->e.fd = ct_socketpair(&h->fds, &h->io, &h->cfd);
    h->e.user = user;
    assert_int_equal(pthread_create(&h->e.thread, NULL, engine_main, &h->e), 0);
}

static void finish(harness *h)
{
    ct_finish(h->cfd, h->e.thread, h->e.fd);
    nct_server_stop(&h->e.t, true);
}

static mm_nc_client *hello(harness *h)
{
    return ct_hello(&h->io, 5000);
}

/* Send op, parse the reply; the caller frees it. */
static mm_nc_reply *call(mm_nc_client *c, const char *op)
{
    char *xml = NULL;
    int rc = mm_nc_client_rpc(c, op, &xml, 5000);
    if (rc < 0)
        fail_msg("%s: %s", op, mm_nc_client_error(c));
    mm_nc_reply *r = NULL;
    char why[128];
    if (mm_nc_reply_parse(xml, strlen(xml), &r, why, sizeof(why)) < 0)
        fail_msg("reply: %s: %s", why, xml);
    free(xml);
    return r;
}

static void expect_ok(mm_nc_client *c, const char *op)
{
    mm_nc_reply *r = call(c, op);
    if (!mm_nc_reply_ok(r))
        fail_msg("%s: %s", op,
                 mm_nc_reply_error_count(r) ? mm_nc_reply_error_at(r, 0)->tag : "no <ok/>");
    mm_nc_reply_free(r);
}

static void test_engine_hello(void **state)
{
    (void)state;
    harness h;
    start(&h, "root");
    mm_nc_client *c = hello(&h);
    assert_true(mm_nc_client_session_id(c) >= 1);
    assert_int_equal(mm_nc_client_framing(c), MM_NC_FRAMING_CHUNKED);
    assert_true(mm_nc_client_has_capability(c, "urn:ietf:params:netconf:base:1.1"));
    assert_true(mm_nc_client_has_capability(c, "urn:ietf:params:netconf:capability:candidate:1.0"));
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
}

static void test_engine_edit_commit(void **state)
{
    (void)state;
    harness h;
    start(&h, "root");
    mm_nc_client *c = hello(&h);
    expect_ok(c, "<lock><target><candidate/></target></lock>");
    expect_ok(c, "<edit-config><target><candidate/></target><config>"
                 "<top xmlns=\"" TNS "\"><name>r1</name><item><id>a</id><value>7</value></item>"
                 "</top></config></edit-config>");
    expect_ok(c, "<commit/>");
    expect_ok(c, "<unlock><target><candidate/></target></unlock>");
    mm_nc_reply *r = call(c, "<get-config><source><running/></source><filter type=\"subtree\">"
                             "<top xmlns=\"" TNS "\"/></filter></get-config>");
    assert_true(mm_nc_reply_has_data(r));
    assert_non_null(strstr(mm_nc_reply_data(r), "<name>r1</name>"));
    assert_non_null(strstr(mm_nc_reply_data(r), "<value>7</value>"));
    mm_nc_reply_free(r);
    r = call(c, "<get/>");
    assert_true(mm_nc_reply_has_data(r));
    mm_nc_reply_free(r);
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
}

static void test_engine_pipelining(void **state)
{
    (void)state;
    harness h;
    start(&h, "root");
    mm_nc_client *c = hello(&h);
    enum { N = 20 };
    uint64_t ids[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(mm_nc_client_send_rpc(c,
                                               "<get-config><source><running/></source>"
                                               "</get-config>",
                                               &ids[i]),
                         0);
    for (int i = 0; i < N; i++) {
        char *xml = NULL;
        assert_int_equal(mm_nc_client_recv_reply(c, &xml, 5000), 0);
        char want[40];
        snprintf(want, sizeof(want), "message-id=\"%llu\"", (unsigned long long)ids[i]);
        assert_non_null(strstr(xml, want));
        free(xml);
    }
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
}

static void test_engine_rpc_error(void **state)
{
    (void)state;
    harness h;
    start(&h, "root");
    mm_nc_client *c = hello(&h);
    mm_nc_reply *r = call(c, "<edit-config><target><candidate/></target><config>"
                             "<strict xmlns=\"" TNS "\"><k>x</k><nope>1</nope></strict>"
                             "</config></edit-config>");
    assert_false(mm_nc_reply_ok(r));
    assert_true(mm_nc_reply_error_count(r) >= 1);
    const mm_nc_reply_error *e = mm_nc_reply_error_at(r, 0);
    assert_non_null(e->tag);
    assert_non_null(e->type);
    mm_nc_reply_free(r);
    /* an unknown operation */
    r = call(c, "<frobnicate xmlns=\"urn:nowhere\"/>");
    assert_false(mm_nc_reply_ok(r));
    assert_true(mm_nc_reply_error_count(r) >= 1);
    mm_nc_reply_free(r);
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
}

/* NACM in the engine: write-default deny holds for a user without rules. */
static void test_engine_nacm_denies(void **state)
{
    (void)state;
    harness h;
    start(&h, "bob");
    mm_nc_client *c = hello(&h);
    mm_nc_reply *r = call(c, "<edit-config><target><running/></target><config>"
                             "<top xmlns=\"" TNS "\"><name>evil</name></top></config>"
                             "</edit-config>");
    assert_false(mm_nc_reply_ok(r));
    assert_true(mm_nc_reply_error_count(r) >= 1);
    assert_string_equal(mm_nc_reply_error_at(r, 0)->tag, "access-denied");
    mm_nc_reply_free(r);
    /* /nacm is default-deny-all: invisible to bob */
    r = call(c, "<get-config><source><running/></source></get-config>");
    assert_true(mm_nc_reply_has_data(r));
    assert_null(strstr(mm_nc_reply_data(r), "<nacm"));
    mm_nc_reply_free(r);
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    mm_log_set_level(MM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_hello),       cmocka_unit_test(test_engine_edit_commit),
        cmocka_unit_test(test_engine_pipelining),  cmocka_unit_test(test_engine_rpc_error),
        cmocka_unit_test(test_engine_nacm_denies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
