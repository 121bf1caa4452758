/*
 * bad_input.c - malformed NETCONF over TLS against a running
 * mamori-netconfd, while a well-behaved session stays open and must keep
 * answering after every attack:
 *   - garbage instead of a <hello>;
 *   - a bad chunk header after base:1.1 was negotiated (RFC 6242 4.2);
 *   - a chunk larger than the daemon's --max-message;
 *   - an <rpc> without message-id (RFC 6241 4.1: rpc-error
 *     missing-attribute, and the session goes on).
 *
 * usage: bad_input PORT CA CERT KEY MAX_MESSAGE      exit 0 pass, 1 fail
 * SPDX-License-Identifier: Apache-2.0
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "interop_check.h"

#define HELLO11                                                                                 \
    "<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities><capability>"      \
    "urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>]]>]]>"

static mm_nc_tls_client_config cfg;

typedef struct raw {
    mm_nc_tls_stream *st;
    mm_nc_client_io io;
    char in[65536];
    size_t len;
} raw;

static int raw_open(raw *r)
{
    char why[256];
    memset(r, 0, sizeof(*r));
    if (mm_nc_tls_connect(&cfg, &r->st, why, sizeof(why)) < 0) {
        printf("connect: %s\n", why);
        return -1;
    }
    mm_nc_tls_stream_io(r->st, &r->io);
    return 0;
}

static int raw_send(raw *r, const char *s)
{
    return r->io.send(r->io.io, (const uint8_t *)s, strlen(s));
}

/* Read until needle shows up (1), EOF/error (0) or 5 s pass (-1). */
static int raw_until(raw *r, const char *needle)
{
    for (;;) {
        r->in[r->len] = '\0';
        if (needle && strstr(r->in, needle))
            return 1;
        if (r->len + 1 >= sizeof(r->in))
            r->len = 0;
        long n = r->io.recv(r->io.io, (uint8_t *)r->in + r->len, sizeof(r->in) - 1 - r->len, 5000);
        if (n == MM_ETIMEOUT)
            return -1;
        if (n <= 0)
            return 0;
        r->len += (size_t)n;
    }
}

static void raw_close(raw *r) { mm_nc_tls_stream_close(r->st); }

/* The server must end the session: EOF within 5 s, whatever it says first. */
static int closed_by_server(raw *r) { return raw_until(r, NULL) == 0; }

static void healthy_still_answers(mm_nc_client *good, const char *after)
{
    char *reply = NULL;
    int rc = mm_nc_client_rpc(good, "<get-config><source><running/></source></get-config>",
                              &reply, 5000);
    check(rc == 0 && reply && strstr(reply, "<data"), "other session answers after %s", after);
    free(reply);
}

static void attack_garbage(mm_nc_client *good)
{
    raw r;
    if (raw_open(&r) < 0) {
        check(0, "garbage: connect");
        return;
    }
    raw_until(&r, "]]>]]>");
    raw_send(&r, "GET / HTTP/1.1\r\nHost: x\r\n\r\n\x01\x02\xff garbage <<<>>> ]]>]]>");
    check(closed_by_server(&r), "garbage instead of <hello>: session closed");
    raw_close(&r);
    healthy_still_answers(good, "garbage");
}

/* hello exchange, then the given bytes in chunked framing. */
static void attack_chunked(mm_nc_client *good, const char *what, const char *bytes)
{
    raw r;
    if (raw_open(&r) < 0) {
        check(0, "%s: connect", what);
        return;
    }
    check(raw_until(&r, "]]>]]>") == 1 && strstr(r.in, "base:1.1"), "%s: server hello", what);
    raw_send(&r, HELLO11);
    raw_send(&r, bytes);
    check(closed_by_server(&r), "%s: session closed", what);
    raw_close(&r);
    healthy_still_answers(good, what);
}

/*
 * The daemon's --max-message is the limit, exactly: a message of max bytes
 * is answered, a chunk header announcing max + 1 ends the session (a default
 * limit in place of the configured one would fail one of the two).
 */
static void attack_chunk_limit(mm_nc_client *good, size_t max)
{
    static const char head[] = "<rpc message-id=\"9\" xmlns=\"urn:ietf:params:xml:ns:netconf:"
                               "base:1.0\"><get-config><source><running/></source></get-config><!--";
    static const char tail[] = "--></rpc>";
    raw r;
    if (raw_open(&r) < 0) {
        check(0, "chunk of --max-message: connect");
        return;
    }
    raw_until(&r, "]]>]]>");
    raw_send(&r, HELLO11);
    char *msg = malloc(max + 64);
    if (!msg || max < sizeof(head) + sizeof(tail)) {
        check(0, "chunk of --max-message: setup");
        free(msg);
        raw_close(&r);
        return;
    }
    int n = snprintf(msg, 64, "\n#%zu\n", max);
    memcpy(msg + n, head, sizeof(head) - 1);
    size_t pad = max - (sizeof(head) - 1) - (sizeof(tail) - 1);
    memset(msg + n + sizeof(head) - 1, 'x', pad);
    memcpy(msg + n + sizeof(head) - 1 + pad, tail, sizeof(tail) - 1);
    memcpy(msg + n + max, "\n##\n", 5);
    msg[n + max + 5] = '\0';
    r.len = 0;
    raw_send(&r, msg);
    free(msg);
    check(raw_until(&r, "message-id=\"9\"") == 1, "a message of exactly --max-message (%zu) "
          "is answered", max);
    raw_close(&r);
    char over[64];
    snprintf(over, sizeof(over), "\n#%zu\n<rpc", max + 1);
    attack_chunked(good, "chunk of --max-message + 1", over);
}

static void attack_missing_message_id(mm_nc_client *good)
{
    raw r;
    if (raw_open(&r) < 0) {
        check(0, "missing message-id: connect");
        return;
    }
    raw_until(&r, "]]>]]>");
    raw_send(&r, HELLO11);
    const char *rpc = "<rpc xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><get/></rpc>";
    char framed[256];
    snprintf(framed, sizeof(framed), "\n#%zu\n%s\n##\n", strlen(rpc), rpc);
    r.len = 0;
    raw_send(&r, framed);
    check(raw_until(&r, "missing-attribute") == 1, "rpc without message-id: missing-attribute");
    check(strstr(r.in, "message-id") != NULL, "rpc-error names message-id");
    /* The same session goes on. */
    const char *ok = "<rpc message-id=\"7\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">"
                     "<get-config><source><running/></source></get-config></rpc>";
    snprintf(framed, sizeof(framed), "\n#%zu\n%s\n##\n", strlen(ok), ok);
    r.len = 0;
    raw_send(&r, framed);
    check(raw_until(&r, "message-id=\"7\"") == 1, "same session answers the next rpc");
    raw_close(&r);
    healthy_still_answers(good, "missing message-id");
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s PORT CA CERT KEY MAX_MESSAGE\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    cfg = (mm_nc_tls_client_config){.host = "127.0.0.1",
                                    .port = (uint16_t)strtoul(argv[1], NULL, 10),
                                    .ca_file = argv[2], .cert_file = argv[3],
                                    .key_file = argv[4], .timeout_ms = 5000};
    mm_nc_tls_stream *st = NULL;
    mm_nc_client *good = NULL;
    char why[256];
    mm_nc_client_io io;
    int rc = mm_nc_tls_connect(&cfg, &st, why, sizeof(why));
    if (rc == 0) {
        mm_nc_tls_stream_io(st, &io);
        rc = mm_nc_client_new_ex(&io, 0, 5000, &good, why, sizeof(why));
    }
    check(rc == 0, "well-behaved session opens%s%s", rc ? ": " : "", rc ? why : "");
    if (rc < 0)
        return 1;
    attack_garbage(good);
    attack_chunked(good, "bad chunk header", "\n#abc\nxyz");
    attack_chunked(good, "chunk size zero", "\n#0\n");
    attack_chunked(good, "chunk size over 32 bits", "\n#4294967296\n<rpc");
    attack_chunk_limit(good, strtoul(argv[5], NULL, 10));
    attack_missing_message_id(good);
    mm_nc_client_close(good);
    mm_nc_tls_stream_close(st);
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
