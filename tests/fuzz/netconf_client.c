/*
 * libFuzzer harness: everything the NETCONF client parses from a server.
 *
 * The input is the server's byte stream, as it arrives on the transport: a
 * <hello> (end-of-message framing), then replies and notifications in the
 * framing the hello negotiates. The client reads the hello, sends four
 * pipelined <rpc>s, collects every reply it gets (each one also through
 * mm_nc_reply_parse and its accessors, as `mamori nc` does), delivers
 * notifications to a callback, and closes. The input is handed to the
 * client in pieces whose size comes from the input's first byte, so
 * messages split across reads are covered too.
 *
 * MM_FUZZ_TRACE=1 prints, per input, how far it got (hello accepted,
 * replies, notifications): the corpus note in tests/fuzz/corpus/
 * netconf_client/README shows every seed reaching the reply parser.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libyang/libyang.h>

#include "mamori/mm_netconf.h"

typedef struct feed {
    const uint8_t *p;
    size_t len, piece;
} feed;

static int feed_send(void *io, const uint8_t *data, size_t len)
{
    (void)io;
    (void)data;
    (void)len;
    return 0; /* the client's requests go nowhere */
}

static long feed_recv(void *io, uint8_t *buf, size_t cap, int timeout_ms)
{
    (void)timeout_ms;
    feed *f = io;
    if (f->len == 0)
        return 0; /* EOF: the server closed */
    size_t n = f->len < f->piece ? f->len : f->piece;
    if (n > cap)
        n = cap;
    memcpy(buf, f->p, n);
    f->p += n;
    f->len -= n;
    return (long)n;
}

static void on_notif(const char *xml, size_t len, void *arg)
{
    (void)xml;
    (void)len;
    (*(int *)arg)++;
}

/* What `mamori nc` reads from a reply. */
static size_t use_reply(const char *xml)
{
    mm_nc_reply *r = NULL;
    char why[128];
    if (mm_nc_reply_parse(xml, strlen(xml), &r, why, sizeof(why)) < 0)
        return 0;
    size_t sum = strlen(mm_nc_reply_data(r)) + mm_nc_reply_ok(r) + mm_nc_reply_has_data(r);
    const char *id = mm_nc_reply_message_id(r);
    sum += id ? strlen(id) : 0;
    for (size_t i = 0; i < mm_nc_reply_error_count(r); i++) {
        const mm_nc_reply_error *e = mm_nc_reply_error_at(r, i);
        const char *f[] = {e->type, e->tag, e->severity, e->app_tag, e->path, e->message, e->info};
        for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
            sum += f[k] ? strlen(f[k]) : 0;
    }
    mm_nc_reply_free(r);
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        ly_log_options(0); /* libyang's messages are not findings */
        quiet = true;
    }
    if (size < 1)
        return 0;
    feed f = {.p = data + 1, .len = size - 1, .piece = (size_t)(data[0] % 64) * 97 + 1};
    mm_nc_client_io io = {.send = feed_send, .recv = feed_recv, .io = &f};
    mm_nc_client *c = NULL;
    char why[256];
    int notifs = 0, replies = 0;
    volatile size_t sink = 0;
    bool hello = mm_nc_client_new_ex(&io, 1u << 20, 0, &c, why, sizeof(why)) == 0;
    if (hello) {
        mm_nc_client_on_notification(c, on_notif, &notifs);
        for (const char *const *cap = mm_nc_client_capabilities(c); *cap; cap++)
            sink += strlen(*cap);
        static const char *const ops[] = {"<get/>", "<get-config><source><running/></source>"
                                                    "</get-config>",
                                          "<lock><target><candidate/></target></lock>",
                                          "<create-subscription xmlns=\"urn:ietf:params:xml:ns:"
                                          "netconf:notification:1.0\"/>"};
        mm_nc_client_cork(c, true);
        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
            mm_nc_client_send_rpc(c, ops[i], NULL);
        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
            char *reply = NULL;
            if (mm_nc_client_recv_reply(c, &reply, 0) < 0)
                break;
            replies++;
            sink += use_reply(reply);
            free(reply);
        }
        while (mm_nc_client_poll(c, 0) > 0)
            ;
        mm_nc_client_free(c);
    }
    if (getenv("MM_FUZZ_TRACE"))
        fprintf(stderr, "netconf_client: hello=%s replies=%d notifications=%d%s%s\n",
                hello ? "ok" : "refused", replies, notifs, hello ? "" : " why=", hello ? "" : why);
    (void)sink;
    return 0;
}
