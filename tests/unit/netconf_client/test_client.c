/*
 * NETCONF client against a tiny in-process fake server on a socketpair:
 * hello rules (session-id, base versions, framing switch), message-ids,
 * blocking RPCs, pipelining, notifications, timeouts, rpc-error parsing,
 * protocol violations and close-session. The fake is independent of the
 * engine: it only shares the RFC 6242 framing code.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "client_testutil.h"

#define NS "urn:ietf:params:xml:ns:netconf:base:1.0"
#define HELLO_11                                                                                   \
    "<hello xmlns=\"" NS "\"><capabilities>"                                                       \
    "<capability>urn:ietf:params:netconf:base:1.0</capability>"                                    \
    "<capability>\n  urn:ietf:params:netconf:base:1.1\n</capability>"                              \
    "<capability>urn:ietf:params:netconf:capability:candidate:1.0</capability>"                    \
    "<capability>urn:ietf:params:xml:ns:yang:ietf-netconf-acm?module=ietf-netconf-acm&amp;"        \
    "revision=2018-02-14</capability>"                                                             \
    "</capabilities><session-id>42</session-id></hello>"

/* ---------------------------------------------------------------- fake server */

typedef struct fake {
    int fd;
    const char *hello; /* server hello to send */
    bool chunked;      /* switch to chunked after the hellos */
    char client_hello[2048];
    int nrpc;
    bool got_close;
    bool saw_eom_rpc, saw_chunked_rpc;
    char last_ids[64][24]; /* message-ids seen, in order */
    pthread_t thread;
} fake;

static int fake_send(fake *f, const char *xml, bool chunked)
{
    mm_buf out;
    mm_buf_init(&out, 1 << 20);
    int rc =
        mm_nc_frame(chunked ? MM_NC_FRAMING_CHUNKED : MM_NC_FRAMING_EOM, xml, strlen(xml), &out);
    if (rc == 0 && write(f->fd, out.data, out.len) != (ssize_t)out.len)
        rc = MM_EIO;
    mm_buf_free(&out);
    return rc;
}

/* Next framed message; NULL on EOF or error. */
static char *fake_read(fake *f, mm_nc_framer *fr)
{
    for (;;) {
        const char *msg;
        size_t len;
        int rc = mm_nc_framer_next(fr, &msg, &len);
        if (rc == 1) {
            /* Decoded by a chunked framer: it was chunk-framed (the bytes may
             * have arrived in the same read as the hello). */
            if (fr->mode == MM_NC_FRAMING_CHUNKED)
                f->saw_chunked_rpc = true;
            return strndup(msg, len);
        }
        if (rc < 0)
            return NULL;
        uint8_t buf[4096];
        ssize_t n = read(f->fd, buf, sizeof(buf));
        if (n <= 0)
            return NULL;
        if (mm_nc_framer_push(fr, buf, (size_t)n) < 0)
            return NULL;
    }
}

static void message_id(const char *rpc, char *out, size_t len)
{
    const char *p = strstr(rpc, "message-id=\"");
    out[0] = '\0';
    if (p) {
        p += strlen("message-id=\"");
        snprintf(out, len, "%.*s", (int)strcspn(p, "\""), p);
    }
}

static void reply(fake *f, const char *id, const char *body)
{
    char buf[4096], attr[48] = "";
    if (*id)
        snprintf(attr, sizeof(attr), " message-id=\"%s\"", id);
    snprintf(buf, sizeof(buf),
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<rpc-reply xmlns=\"" NS "\"%s>%s</rpc-reply>",
             attr, body);
    fake_send(f, buf, f->chunked);
}

static void notify(fake *f, int i)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "<notification xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\">"
             "<eventTime>2025-12-31T00:00:0%dZ</eventTime><alarm xmlns=\"urn:t\"><n>%d</n>"
             "</alarm></notification>",
             i, i);
    fake_send(f, buf, f->chunked);
}

/* Canned behaviour, selected by the operation's element name. */
static bool fake_serve_one(fake *f, const char *rpc)
{
    char id[24];
    message_id(rpc, id, sizeof(id));
    if (f->nrpc < 64)
        snprintf(f->last_ids[f->nrpc], sizeof(f->last_ids[0]), "%s", id);
    f->nrpc++;
    if (strstr(rpc, "<close-session/>")) {
        f->got_close = true;
        reply(f, id, "<ok/>");
        return false;
    }
    if (strstr(rpc, "<get/>")) {
        reply(f, id, "<data><top xmlns=\"urn:t\"><a>1</a><b>x &lt; y</b></top></data>");
    } else if (strstr(rpc, "<notify/>")) {
        notify(f, 1);
        notify(f, 2);
        reply(f, id, "<ok/>");
    } else if (strstr(rpc, "<slow/>")) {
        struct timespec ts = {0, 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
        reply(f, id, "<ok/>");
    } else if (strstr(rpc, "<fail/>")) {
        reply(f, id,
              "<rpc-error><error-type>application</error-type><error-tag>access-denied"
              "</error-tag><error-severity>error</error-severity>"
              "<error-path xmlns:t=\"urn:t\">/t:top/t:a</error-path>"
              "<error-message xml:lang=\"en\">access to /t:top denied</error-message>"
              "<error-info><bad-element>a</bad-element></error-info></rpc-error>"
              "<rpc-error><error-type>protocol</error-type><error-tag>lock-denied</error-tag>"
              "<error-severity>error</error-severity><error-info><session-id>7</session-id>"
              "</error-info></rpc-error>");
    } else if (strstr(rpc, "<misorder/>")) {
        reply(f, "999", "<ok/>");
    } else if (strstr(rpc, "<noid/>")) {
        reply(f, "", "<ok/>");
    } else if (strstr(rpc, "<garbage/>")) {
        const char *bad = "\n#abc\n";
        if (write(f->fd, bad, strlen(bad)) < 0)
            return false;
    } else if (strstr(rpc, "<hangup/>")) {
        return false;
    } else {
        reply(f, id, "<ok/>");
    }
    return true;
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    mm_nc_framer fr;
    mm_nc_framer_init(&fr, 0);
    /* Send our hello at once, like a real server, then read the client's. */
    fake_send(f, f->hello, false);
    char *hello = fake_read(f, &fr);
    if (hello) {
        snprintf(f->client_hello, sizeof(f->client_hello), "%s", hello);
        free(hello);
        if (f->chunked)
            mm_nc_framer_set_mode(&fr, MM_NC_FRAMING_CHUNKED);
        char *rpc;
        while ((rpc = fake_read(f, &fr))) {
            if (!f->chunked)
                f->saw_eom_rpc = true;
            bool more = fake_serve_one(f, rpc);
            free(rpc);
            if (!more)
                break;
        }
    }
    mm_nc_framer_free(&fr);
    shutdown(f->fd, SHUT_RDWR);
    return NULL;
}

typedef struct harness {
    fake f;
    mm_nc_fd_stream fds;
    mm_nc_client_io io;
    int cfd;
} harness;

static void start(harness *h, const char *hello, bool chunked)
{
    memset(h, 0, sizeof(*h));
    h->f.fd = ct_socketpair(&h->fds, &h->io, &h->cfd);
    h->f.hello = hello;
    h->f.chunked = chunked;
    assert_int_equal(pthread_create(&h->f.thread, NULL, fake_main, &h->f), 0);
}

static void finish(harness *h)
{
    ct_finish(h->cfd, h->f.thread, h->f.fd);
}

static mm_nc_client *connect_ok(harness *h)
{
    return ct_hello(&h->io, 2000);
}

/* ---------------------------------------------------------------- hello */

static void test_hello(void **state)
{
    (void)state;
    harness h;
    start(&h, HELLO_11, true);
    mm_nc_client *c = connect_ok(&h);
    assert_int_equal(mm_nc_client_session_id(c), 42);
    assert_int_equal(mm_nc_client_framing(c), MM_NC_FRAMING_CHUNKED);
    const char *const *caps = mm_nc_client_capabilities(c);
    assert_string_equal(caps[1], "urn:ietf:params:netconf:base:1.1"); /* trimmed */
    assert_string_equal(caps[3], "urn:ietf:params:xml:ns:yang:ietf-netconf-acm?module=ietf-"
                                 "netconf-acm&revision=2018-02-14"); /* &amp; decoded */
    assert_null(caps[4]);
    assert_true(mm_nc_client_has_capability(c, "urn:ietf:params:netconf:capability:candidate:1.0"));
    assert_true(mm_nc_client_has_capability(c, "urn:ietf:params:xml:ns:yang:ietf-netconf-acm"));
    assert_false(mm_nc_client_has_capability(c, "urn:ietf:params:netconf:capability:startup:1.0"));
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
    /* The client hello: both base versions, no session-id. */
    assert_non_null(strstr(h.f.client_hello, "urn:ietf:params:netconf:base:1.0"));
    assert_non_null(strstr(h.f.client_hello, "urn:ietf:params:netconf:base:1.1"));
    assert_null(strstr(h.f.client_hello, "session-id"));
    assert_true(h.f.got_close);
    assert_true(h.f.saw_chunked_rpc);
}

static void expect_hello_failure(const char *hello, const char *why_part)
{
    harness h;
    start(&h, hello, false);
    mm_nc_client *c = NULL;
    char why[256];
    int rc = mm_nc_client_new_ex(&h.io, 0, 2000, &c, why, sizeof(why));
    assert_true(rc < 0);
    assert_null(c);
    if (!strstr(why, why_part))
        fail_msg("reason \"%s\" lacks \"%s\"", why, why_part);
    finish(&h);
    /* terminated without close-session (or any rpc) */
    assert_int_equal(h.f.nrpc, 0);
}

static void test_hello_rejected(void **state)
{
    (void)state;
    expect_hello_failure("<hello xmlns=\"" NS "\"><capabilities><capability>"
                         "urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>",
                         "no <session-id>");
    expect_hello_failure("<hello xmlns=\"" NS "\"><capabilities><capability>"
                         "urn:ietf:params:netconf:base:1.1</capability></capabilities>"
                         "<session-id>0</session-id></hello>",
                         "invalid <session-id>");
    expect_hello_failure("<hello xmlns=\"" NS "\"><capabilities><capability>"
                         "urn:ietf:params:netconf:base:1.1</capability></capabilities>"
                         "<session-id>4294967296</session-id></hello>",
                         "invalid <session-id>");
    expect_hello_failure("<hello xmlns=\"" NS "\"><capabilities><capability>"
                         "urn:ietf:params:netconf:base:1.1</capability></capabilities>"
                         "<session-id>-1</session-id></hello>",
                         "invalid <session-id>");
    expect_hello_failure("<hello xmlns=\"" NS "\"><capabilities><capability>"
                         "urn:ietf:params:netconf:base:2.0</capability></capabilities>"
                         "<session-id>3</session-id></hello>",
                         "no common base version");
    expect_hello_failure("<hello xmlns=\"urn:wrong\"><session-id>3</session-id></hello>",
                         "expected <hello>");
    expect_hello_failure("<hello xmlns=\"" NS "\"><session-id>3</session-id></hel",
                         "malformed XML");
    expect_hello_failure("<!DOCTYPE hello [<!ENTITY e \"x\">]><hello xmlns=\"" NS "\"/>",
                         "malformed XML");
    /* A root the client's libyang context knows as a schema node (issue 10 #8:
     * the client read it as an opaque node and crashed). */
    expect_hello_failure("<schema-mounts xmlns=\"urn:ietf:params:xml:ns:yang:"
                         "ietf-yang-schema-mount\"/>",
                         "expected <hello>, got <schema-mounts>");
}

static void test_hello_timeout(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    mm_nc_fd_stream fds = {sv[1], sv[1]};
    mm_nc_client_io io;
    mm_nc_client_io_fd(&fds, &io);
    mm_nc_client *c = NULL;
    char why[256];
    assert_int_equal(mm_nc_client_new_ex(&io, 0, 100, &c, why, sizeof(why)), MM_ETIMEOUT);
    assert_non_null(strstr(why, "no server hello"));
    /* and a peer that closes at once */
    close(sv[0]);
    assert_int_equal(mm_nc_client_new_ex(&io, 0, 100, &c, why, sizeof(why)), MM_ECLOSED);
    close(sv[1]);
}

/* A base:1.0-only server: everything stays end-of-message framed. */
static void test_hello_base10(void **state)
{
    (void)state;
    harness h;
    start(&h,
          "<hello xmlns=\"" NS "\"><capabilities><capability>urn:ietf:params:netconf:base:1.0"
          "</capability></capabilities><session-id>7</session-id></hello>",
          false);
    mm_nc_client *c = connect_ok(&h);
    assert_int_equal(mm_nc_client_framing(c), MM_NC_FRAMING_EOM);
    char *r = NULL;
    assert_int_equal(mm_nc_client_rpc(c, "<get/>", &r, 2000), 0);
    assert_non_null(strstr(r, "<a>1</a>"));
    free(r);
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
    assert_true(h.f.saw_eom_rpc);
    assert_false(h.f.saw_chunked_rpc);
}

/* ---------------------------------------------------------------- rpc */

static void test_rpc_and_ids(void **state)
{
    (void)state;
    harness h;
    start(&h, HELLO_11, true);
    mm_nc_client *c = connect_ok(&h);
    for (int i = 0; i < 3; i++) {
        char *r = NULL;
        assert_int_equal(mm_nc_client_rpc(c, "<get/>", &r, 2000), 0);
        mm_nc_reply *p = NULL;
        assert_int_equal(mm_nc_reply_parse(r, strlen(r), &p, NULL, 0), 0);
        char want[16];
        snprintf(want, sizeof(want), "%d", i + 1);
        assert_string_equal(mm_nc_reply_message_id(p), want);
        assert_true(mm_nc_reply_has_data(p));
        assert_false(mm_nc_reply_ok(p));
        assert_non_null(strstr(mm_nc_reply_data(p), "<a>1</a>"));
        assert_non_null(strstr(mm_nc_reply_data(p), "x &lt; y"));
        mm_nc_reply_free(p);
        free(r);
    }
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
    assert_string_equal(h.f.last_ids[0], "1");
    assert_string_equal(h.f.last_ids[2], "3");
    assert_string_equal(h.f.last_ids[3], "4"); /* close-session */
}

static void test_pipelining(void **state)
{
    (void)state;
    harness h;
    start(&h, HELLO_11, true);
    mm_nc_client *c = connect_ok(&h);
    enum { N = 50 };
    uint64_t ids[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(mm_nc_client_send_rpc(c, i % 2 ? "<get/>" : "<edit/>", &ids[i]), 0);
    assert_int_equal(mm_nc_client_pending(c), N);
    /* a blocking rpc is refused while replies are outstanding */
    char *r = NULL;
    assert_int_equal(mm_nc_client_rpc(c, "<get/>", &r, 100), MM_ESTATE);
    for (int i = 0; i < N; i++) {
        assert_int_equal(mm_nc_client_recv_reply(c, &r, 2000), 0);
        char want[32];
        snprintf(want, sizeof(want), "message-id=\"%llu\"", (unsigned long long)ids[i]);
        assert_non_null(strstr(r, want));
        assert_non_null(strstr(r, i % 2 ? "<data>" : "<ok/>"));
        free(r);
    }
    assert_int_equal(mm_nc_client_pending(c), 0);
    assert_int_equal(mm_nc_client_recv_reply(c, &r, 100), MM_ESTATE);
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
    assert_int_equal(h.f.nrpc, N + 1);
}

/* A transport wrapper that counts the client's sends. */
typedef struct counting_io {
    mm_nc_client_io inner;
    int sends;
} counting_io;

static int counting_send(void *io, const uint8_t *data, size_t len)
{
    counting_io *ci = io;
    ci->sends++;
    return ci->inner.send(ci->inner.io, data, len);
}

static long counting_recv(void *io, uint8_t *buf, size_t cap, int timeout_ms)
{
    counting_io *ci = io;
    return ci->inner.recv(ci->inner.io, buf, cap, timeout_ms);
}

/* Corked requests leave in one send when the client waits, in order. */
static void test_cork(void **state)
{
    (void)state;
    harness h;
    start(&h, HELLO_11, true);
    counting_io ci = {.inner = h.io};
    mm_nc_client_io io = {.send = counting_send, .recv = counting_recv, .io = &ci};
    mm_nc_client *c = ct_hello(&io, 2000);
    assert_int_equal(ci.sends, 1); /* the hello */
    enum { N = 20 };
    mm_nc_client_cork(c, true);
    for (int i = 0; i < 15; i++)
        assert_int_equal(mm_nc_client_send_rpc(c, "<get/>", NULL), 0);
    assert_int_equal(ci.sends, 1); /* gathered, nothing sent yet */
    assert_int_equal(mm_nc_client_send_rpc(c, "<get/>", NULL), 0);
    assert_int_equal(ci.sends, 2); /* 16 requests go in one send */
    for (int i = 16; i < N; i++)
        assert_int_equal(mm_nc_client_send_rpc(c, "<get/>", NULL), 0);
    assert_int_equal(ci.sends, 2);
    char *r = NULL;
    for (int i = 0; i < N; i++) {
        assert_int_equal(mm_nc_client_recv_reply(c, &r, 2000), 0);
        char want[32];
        snprintf(want, sizeof(want), "message-id=\"%d\"", i + 1);
        assert_non_null(strstr(r, want));
        free(r);
    }
    assert_int_equal(ci.sends, 3); /* the other 4 in one send, made before waiting */
    /* An explicit flush sends at once; with nothing gathered it sends nothing. */
    assert_int_equal(mm_nc_client_send_rpc(c, "<get/>", NULL), 0);
    assert_int_equal(ci.sends, 3);
    assert_int_equal(mm_nc_client_flush(c), 0);
    assert_int_equal(mm_nc_client_flush(c), 0);
    assert_int_equal(ci.sends, 4);
    assert_int_equal(mm_nc_client_recv_reply(c, &r, 2000), 0);
    free(r);
    /* Uncorked: one send per request again. */
    mm_nc_client_cork(c, false);
    assert_int_equal(mm_nc_client_send_rpc(c, "<get/>", NULL), 0);
    assert_int_equal(mm_nc_client_send_rpc(c, "<get/>", NULL), 0);
    assert_int_equal(ci.sends, 6);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mm_nc_client_recv_reply(c, &r, 2000), 0);
        free(r);
    }
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
    assert_int_equal(h.f.nrpc, N + 3 + 1);
}

typedef struct notes {
    int count;
    char last[512];
} notes;

static void on_notif(const char *xml, size_t len, void *arg)
{
    notes *n = arg;
    n->count++;
    snprintf(n->last, sizeof(n->last), "%.*s", (int)len, xml);
}

static void test_notifications(void **state)
{
    (void)state;
    harness h;
    start(&h, HELLO_11, true);
    mm_nc_client *c = connect_ok(&h);
    notes n = {0};
    mm_nc_client_on_notification(c, on_notif, &n);
    /* notifications arriving before the reply go to the callback */
    char *r = NULL;
    assert_int_equal(mm_nc_client_rpc(c, "<notify/>", &r, 2000), 0);
    assert_non_null(strstr(r, "<ok/>"));
    free(r);
    assert_int_equal(n.count, 2);
    assert_non_null(strstr(n.last, "<n>2</n>"));
    /* poll: nothing arrives within the timeout */
    assert_int_equal(mm_nc_client_poll(c, 50), 0);
    /* poll collects notifications while a pipelined reply is also queued */
    uint64_t id;
    assert_int_equal(mm_nc_client_send_rpc(c, "<notify/>", &id), 0);
    assert_int_equal(mm_nc_client_poll(c, 2000), 1);
    while (n.count < 4)
        assert_true(mm_nc_client_poll(c, 2000) >= 0);
    assert_int_equal(mm_nc_client_recv_reply(c, &r, 2000), 0);
    free(r);
    assert_int_equal(n.count, 4);
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
}

static void test_timeout(void **state)
{
    (void)state;
    harness h;
    start(&h, HELLO_11, true);
    mm_nc_client *c = connect_ok(&h);
    char *r = NULL;
    assert_int_equal(mm_nc_client_rpc(c, "<slow/>", &r, 50), MM_ETIMEOUT);
    assert_non_null(strstr(mm_nc_client_error(c), "timed out"));
    /* not fatal: the late reply arrives later, and the session goes on */
    assert_int_equal(mm_nc_client_recv_reply(c, &r, 2000), 0);
    assert_non_null(strstr(r, "message-id=\"1\""));
    free(r);
    assert_int_equal(mm_nc_client_rpc(c, "<get/>", &r, 2000), 0);
    free(r);
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
}

static void test_rpc_error(void **state)
{
    (void)state;
    harness h;
    start(&h, HELLO_11, true);
    mm_nc_client *c = connect_ok(&h);
    char *r = NULL;
    assert_int_equal(mm_nc_client_rpc(c, "<fail/>", &r, 2000), 0);
    mm_nc_reply *p = NULL;
    assert_int_equal(mm_nc_reply_parse(r, strlen(r), &p, NULL, 0), 0);
    assert_false(mm_nc_reply_ok(p));
    assert_false(mm_nc_reply_has_data(p));
    assert_int_equal(mm_nc_reply_error_count(p), 2);
    const mm_nc_reply_error *e = mm_nc_reply_error_at(p, 0);
    assert_string_equal(e->type, "application");
    assert_string_equal(e->tag, "access-denied");
    assert_string_equal(e->severity, "error");
    assert_string_equal(e->path, "/t:top/t:a");
    assert_string_equal(e->message, "access to /t:top denied");
    assert_null(e->app_tag);
    assert_non_null(strstr(e->info, ">a</bad-element>"));
    e = mm_nc_reply_error_at(p, 1);
    assert_string_equal(e->tag, "lock-denied");
    assert_non_null(strstr(e->info, ">7</session-id>"));
    assert_null(e->message);
    assert_null(mm_nc_reply_error_at(p, 2));
    mm_nc_reply_free(p);
    free(r);
    /* not a reply at all */
    char why[128];
    const char *hello = "<hello xmlns=\"" NS "\"/>";
    assert_int_equal(mm_nc_reply_parse(hello, strlen(hello), &p, why, sizeof(why)), MM_EMALFORMED);
    assert_int_equal(mm_nc_reply_parse("<a", 2, &p, why, sizeof(why)), MM_EMALFORMED);
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
}

/* A reply without message-id (e.g. missing-attribute) answers the oldest request. */
static void test_reply_without_id(void **state)
{
    (void)state;
    harness h;
    start(&h, HELLO_11, true);
    mm_nc_client *c = connect_ok(&h);
    char *r = NULL;
    assert_int_equal(mm_nc_client_rpc(c, "<noid/>", &r, 2000), 0);
    free(r);
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
}

/* Protocol violations end the session; every later call reports it. */
static void test_protocol_violations(void **state)
{
    (void)state;
    const char *ops[] = {"<misorder/>", "<garbage/>", "<hangup/>"};
    const int want[] = {MM_EPROTO, MM_EMALFORMED, MM_ECLOSED};
    for (size_t i = 0; i < 3; i++) {
        harness h;
        start(&h, HELLO_11, true);
        mm_nc_client *c = connect_ok(&h);
        char *r = NULL;
        assert_int_equal(mm_nc_client_rpc(c, ops[i], &r, 2000), want[i]);
        assert_true(strlen(mm_nc_client_error(c)) > 0);
        assert_int_equal(mm_nc_client_rpc(c, "<get/>", &r, 2000), want[i]);
        assert_int_equal(mm_nc_client_close(c), want[i]); /* no close-session sent */
        finish(&h);
        assert_false(h.f.got_close);
    }
}

/* A message over the client's maximum is a fatal framing error. */
static void test_max_message(void **state)
{
    (void)state;
    harness h;
    start(&h, HELLO_11, true);
    mm_nc_client *c = NULL;
    char why[256];
    assert_int_equal(mm_nc_client_new_ex(&h.io, 64, 2000, &c, why, sizeof(why)), MM_ELIMIT);
    finish(&h);
    start(&h, HELLO_11, true);
    assert_int_equal(mm_nc_client_new_ex(&h.io, 4096, 2000, &c, why, sizeof(why)), 0);
    char *r = NULL;
    assert_int_equal(mm_nc_client_send_rpc(c, "<get/>", NULL), 0);
    assert_int_equal(mm_nc_client_recv_reply(c, &r, 2000), 0);
    free(r);
    assert_int_equal(mm_nc_client_send_rpc(c, "", NULL), MM_EINVAL);
    assert_int_equal(mm_nc_client_close(c), 0);
    finish(&h);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    mm_log_set_level(MM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_hello_rejected),
        cmocka_unit_test(test_hello_timeout),
        cmocka_unit_test(test_hello_base10),
        cmocka_unit_test(test_rpc_and_ids),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_cork),
        cmocka_unit_test(test_notifications),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_rpc_error),
        cmocka_unit_test(test_reply_without_id),
        cmocka_unit_test(test_protocol_violations),
        cmocka_unit_test(test_max_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
