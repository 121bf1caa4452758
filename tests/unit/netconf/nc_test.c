/* Test transport and client for the NETCONF engine. SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mamori/mm_core.h"
#include "nc_test.h"

#define HELLO_11 "<hello " NCT_NS "><capabilities>" \
    "<capability>urn:ietf:params:netconf:base:1.0</capability>" \
    "<capability>urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>"
#define HELLO_10 "<hello " NCT_NS "><capabilities>" \
    "<capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>"

static int t_send(void *io, const uint8_t *data, size_t len)
{
    nct_conn *c = io;
    return mm_buf_append(&c->out, data, len);
}

static void t_close(void *io, int app_error)
{
    (void)app_error;
    nct_conn *c = io;
    c->closed = true;
    c->s = NULL;
}

static void *t_notif_open(void *io)
{
    nct_conn *c = io;
    c->chan_opened++;
    return &c->chan_out;
}

static int t_notif_send(void *io, void *chan, const uint8_t *data, size_t len)
{
    (void)io;
    return mm_buf_append(chan, data, len);
}

static void t_notif_close(void *io, void *chan)
{
    (void)chan;
    nct_conn *c = io;
    c->chan_closed++;
}

static size_t t_queued(void *io, size_t *cap)
{
    nct_conn *c = io;
    *cap = c->cap;
    return c->out.len;
}

static void t_abort(void *io, int app_error)
{
    nct_conn *c = io;
    mm_buf_reset(&c->out);
    c->aborted = true;
    t_close(io, app_error);
}

static const mm_nc_transport_ops plain_ops = {.send = t_send, .close = t_close};
static const mm_nc_transport_ops backlog_ops = {.send = t_send, .close = t_close,
                                                .queued = t_queued, .abort = t_abort};
static const mm_nc_transport_ops chan_ops = {.send = t_send, .close = t_close,
                                             .notif_open = t_notif_open,
                                             .notif_send = t_notif_send,
                                             .notif_close = t_notif_close};

int nct_server_start(nct_server *t, const char *dir, const char *recovery_user)
{
    return nct_server_start_with(t, dir, recovery_user, NULL);
}

int nct_server_start_with(nct_server *t, const char *dir, const char *recovery_user,
                          const mm_nc_server_config *over)
{
    memset(t, 0, sizeof(*t));
    if (dir) {
        snprintf(t->dir, sizeof(t->dir), "%s", dir);
    } else {
        snprintf(t->dir, sizeof(t->dir), "/tmp/mm-nc-test-XXXXXX");
        if (!mkdtemp(t->dir))
            return MM_EIO;
    }
    t->base = event_base_new();
    const char *yang = getenv("MM_NC_TEST_YANG");
    mm_nc_server_config cfg = {.module_dir = yang, .state_dir = t->dir,
                               .recovery_user = recovery_user, .replay_log_max = 64,
                               .max_message = 1u << 20};
    if (over) {
        cfg.max_elements = over->max_elements;
        cfg.max_attributes = over->max_attributes;
        cfg.max_depth = over->max_depth;
        cfg.fault = over->fault;
        cfg.fault_arg = over->fault_arg;
        cfg.notif_grace_ms = over->notif_grace_ms;
    }
    return mm_nc_server_new(&cfg, t->base, &t->srv);
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

void nct_server_stop(nct_server *t, bool remove_dir)
{
    mm_nc_server_free(t->srv);
    if (t->base)
        event_base_free(t->base);
    if (remove_dir)
        rm_dir(t->dir);
    t->srv = NULL;
    t->base = NULL;
}

static int open_with(nct_server *t, nct_conn *c, const char *user, bool chunked_only,
                     const mm_nc_transport_ops *ops)
{
    mm_buf_init(&c->out, 64u << 20);
    mm_buf_init(&c->chan_out, 64u << 20);
    mm_nc_framer_init(&c->rx, 8u << 20);
    mm_nc_session_info info = {.username = user, .transport = "test", .peer = "127.0.0.1",
                               .chunked_only = chunked_only};
    c->s = mm_nc_session_new(t->srv, &info, ops, c);
    if (!c->s)
        return MM_EINVAL;
    c->hello = nct_recv(c);
    return c->hello && strstr(c->hello, "<session-id>") ? 0 : MM_EPROTO;
}

int nct_open_backlog(nct_server *t, nct_conn *c, const char *user, size_t cap)
{
    memset(c, 0, sizeof(*c));
    c->t = t;
    c->cap = cap;
    MM_GUARD(open_with(t, c, user, false, &backlog_ops));
    return nct_hello(c, HELLO_11);
}

int nct_open_ex(nct_server *t, nct_conn *c, const char *user, bool chunked_only, bool use_chan)
{
    memset(c, 0, sizeof(*c));
    c->t = t;
    c->use_chan = use_chan;
    mm_buf_init(&c->out, 64u << 20);
    mm_buf_init(&c->chan_out, 64u << 20);
    mm_nc_framer_init(&c->rx, 8u << 20);
    mm_nc_session_info info = {.username = user, .transport = "test", .peer = "127.0.0.1",
                               .chunked_only = chunked_only};
    c->s = mm_nc_session_new(t->srv, &info, use_chan ? &chan_ops : &plain_ops, c);
    if (!c->s)
        return MM_EINVAL;
    c->hello = nct_recv(c);
    return c->hello && strstr(c->hello, "<session-id>") ? 0 : MM_EPROTO;
}

int nct_open(nct_server *t, nct_conn *c, const char *user, bool base11)
{
    MM_GUARD(nct_open_ex(t, c, user, false, false));
    return nct_hello(c, base11 ? HELLO_11 : HELLO_10);
}

int nct_hello(nct_conn *c, const char *hello_xml)
{
    c->base11 = strstr(hello_xml, "base:1.1") != NULL;
    mm_buf b;
    mm_buf_init(&b, strlen(hello_xml) + 16);
    mm_nc_frame(MM_NC_FRAMING_EOM, hello_xml, strlen(hello_xml), &b);
    int rc = nct_input(c, b.data, b.len);
    mm_buf_free(&b);
    if (rc == 0 && c->base11)
        mm_nc_framer_set_mode(&c->rx, MM_NC_FRAMING_CHUNKED);
    return rc;
}

int nct_input(nct_conn *c, const void *data, size_t len)
{
    if (!c->s)
        return MM_ECLOSED;
    return mm_nc_session_input(c->s, data, len);
}

int nct_send(nct_conn *c, const char *xml)
{
    mm_buf b;
    mm_buf_init(&b, strlen(xml) + 64);
    int rc = mm_nc_frame(c->base11 ? MM_NC_FRAMING_CHUNKED : MM_NC_FRAMING_EOM, xml, strlen(xml),
                         &b);
    if (rc == 0)
        rc = nct_input(c, b.data, b.len);
    mm_buf_free(&b);
    return rc;
}

char *nct_recv(nct_conn *c)
{
    if (c->out.len) {
        if (mm_nc_framer_push(&c->rx, c->out.data, c->out.len) < 0)
            return NULL;
        mm_buf_reset(&c->out);
    }
    const char *msg;
    size_t len;
    if (mm_nc_framer_next(&c->rx, &msg, &len) != 1)
        return NULL;
    return strndup(msg, len);
}

char *nct_rpc(nct_conn *c, const char *op)
{
    size_t n = strlen(op) + 128;
    char *xml = malloc(n);
    if (!xml)
        return NULL;
    snprintf(xml, n, "<rpc " NCT_NS " message-id=\"%u\">%s</rpc>", ++c->msgid, op);
    nct_send(c, xml);
    free(xml);
    return nct_recv(c);
}

void nct_drop(nct_conn *c)
{
    if (c->s)
        mm_nc_session_lost(c->s);
    c->s = NULL;
    free(c->hello);
    c->hello = NULL;
    mm_buf_free(&c->out);
    mm_buf_free(&c->chan_out);
    mm_nc_framer_free(&c->rx);
}

int nct_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}
