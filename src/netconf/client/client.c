/*
 * client.c - NETCONF client over any connected, authenticated byte stream.
 *
 * Hello exchange (RFC 6241 section 8.1), message-ids and pipelining
 * (section 4.5: replies come back in request order), notifications
 * (RFC 5277) to a callback, close-session, and a parsed view of replies.
 * Messages are framed by framing.c (RFC 6242) and parsed by libyang as
 * opaque XML (no schema needed; DTDs are refused by the parser).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libyang/libyang.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"

#define CAP_BASE10 "urn:ietf:params:netconf:base:1.0"
#define CAP_BASE11 "urn:ietf:params:netconf:base:1.1"
#define RECV_CHUNK 16384
#define CLOSE_TIMEOUT_MS 5000
#define GATHER_MAX 65536 /* corked output is sent once it reaches this size */
#define GATHER_MSGS 16    /* ...or this many requests */

struct mm_nc_client {
    mm_nc_client_io io;
    mm_nc_framer fr;
    struct ly_ctx *ly; /* schema-less context for opaque parsing */
    uint32_t session_id;
    char **caps; /* NULL-terminated */
    uint64_t last_id;
    /* message-ids sent and not yet answered, oldest first */
    uint64_t *pending;
    size_t npending;
    /* replies received before anyone asked for them, oldest first */
    char **ready;
    size_t nready;
    mm_nc_notif_cb notif_cb;
    void *notif_arg;
    bool corked; /* requests are gathered in out until the client waits */
    mm_buf out;
    unsigned gathered; /* requests in out */
    int fatal; /* sticky: the session is unusable */
    char error[256];
};

/* ---------------------------------------------------------------- errors */

__attribute__((format(printf, 3, 4))) static int client_err(mm_nc_client *c, int rc,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof(c->error), fmt, ap);
    va_end(ap);
    return rc;
}

/* A failure after which the session cannot continue. */
__attribute__((format(printf, 3, 4))) static int client_fatal(mm_nc_client *c, int rc,
                                                              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof(c->error), fmt, ap);
    va_end(ap);
    c->fatal = rc;
    return rc;
}

const char *mm_nc_client_error(const mm_nc_client *c)
{
    return c ? c->error : "";
}

/* ---------------------------------------------------------------- time */

static int64_t deadline_of(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : mm_monotonic_ms() + timeout_ms;
}

/* ---------------------------------------------------------------- opaque XML */

static const struct lyd_node_opaq *opaq(const struct lyd_node *n)
{
    return n && !n->schema ? (const struct lyd_node_opaq *)n : NULL;
}

/*
 * The element's local name, whether libyang kept it opaque or matched it to
 * a schema node: the client's context holds a few modules with data nodes
 * (ietf-yang-schema-mount), and a peer chooses the root element.
 */
static const char *node_name(const struct lyd_node *n)
{
    if (!n)
        return "?";
    const struct lyd_node_opaq *o = opaq(n);
    return o ? o->name.name : n->schema->name;
}

static bool node_is(const struct lyd_node *n, const char *ns, const char *name)
{
    const struct lyd_node_opaq *o = opaq(n);
    return o && strcmp(o->name.name, name) == 0 && o->name.module_ns &&
           strcmp(o->name.module_ns, ns) == 0;
}

static const struct lyd_node *child_of(const struct lyd_node *n, const char *ns, const char *name)
{
    const struct lyd_node_opaq *o = opaq(n);
    for (const struct lyd_node *c = o ? o->child : NULL; c; c = c->next) {
        if (node_is(c, ns, name))
            return c;
    }
    return NULL;
}

static const char *attr_of(const struct lyd_node *n, const char *name)
{
    const struct lyd_node_opaq *o = opaq(n);
    for (const struct lyd_attr *a = o ? o->attr : NULL; a; a = a->next) {
        if (strcmp(a->name.name, name) == 0)
            return a->value;
    }
    return NULL;
}

/* Parse one message; the root must be a single element. */
static int parse_xml(struct ly_ctx *ly, const char *xml, struct lyd_node **tree, char *why,
                     size_t why_len)
{
    *tree = NULL;
    LY_ERR e = lyd_parse_data_mem(ly, xml, LYD_XML, LYD_PARSE_OPAQ | LYD_PARSE_ONLY, 0, tree);
    if (e != LY_SUCCESS || !*tree || (*tree)->next) {
        if (why)
            snprintf(why, why_len, "malformed XML: %s",
                     e != LY_SUCCESS ? ly_errmsg(ly) : "not exactly one root element");
        lyd_free_all(*tree);
        *tree = NULL;
        return MM_EMALFORMED;
    }
    return 0;
}

static int ly_quiet_ctx(struct ly_ctx **ly)
{
    return ly_ctx_new(NULL, LY_CTX_NO_YANGLIBRARY | LY_CTX_DISABLE_SEARCHDIR_CWD, ly) == LY_SUCCESS
               ? 0
               : MM_ENOMEM;
}

/* ---------------------------------------------------------------- I/O */

/* Hand everything gathered to the transport in one send. */
static int flush_out(mm_nc_client *c)
{
    if (c->out.len == 0)
        return 0;
    int rc = c->io.send(c->io.io, c->out.data, c->out.len);
    mm_buf_reset(&c->out);
    c->gathered = 0;
    if (rc < 0)
        return client_fatal(c, rc, "send: %s", mm_strerror(rc));
    return 0;
}

static int send_framed(mm_nc_client *c, enum mm_nc_framing mode, const char *msg, size_t len)
{
    size_t mark = c->out.len;
    int rc = mm_nc_frame(mode, msg, len, &c->out);
    if (rc < 0) {
        c->out.len = mark; /* drop a partly framed message */
        return client_err(c, rc, "cannot frame the request: %s", mm_strerror(rc));
    }
    if (!c->corked || c->out.len >= GATHER_MAX || ++c->gathered >= GATHER_MSGS)
        return flush_out(c);
    return 0;
}

/*
 * Next complete message, reading from the stream as needed. 1 with
 * msg and len (valid until the next call), MM_ETIMEOUT, or a fatal error.
 */
static int read_message(mm_nc_client *c, int64_t deadline, const char **msg, size_t *len)
{
    uint8_t buf[RECV_CHUNK];
    for (;;) {
        int rc = mm_nc_framer_next(&c->fr, msg, len);
        if (rc == 1)
            return 1;
        if (rc < 0)
            return client_fatal(c, rc, "framing error: %s", mm_strerror(rc));
        /* About to wait for the server: what we gathered must go first. */
        MM_GUARD(flush_out(c));
        size_t room = mm_nc_framer_room(&c->fr);
        if (room == 0)
            return client_fatal(c, MM_ELIMIT, "message exceeds the maximum size");
        long n = c->io.recv(c->io.io, buf, room < sizeof(buf) ? room : sizeof(buf),
                            mm_deadline_left_ms(deadline));
        if (n == MM_ETIMEOUT)
            return client_err(c, MM_ETIMEOUT, "timed out waiting for the server");
        if (n == 0)
            return client_fatal(c, MM_ECLOSED, "the server closed the connection");
        if (n < 0)
            return client_fatal(c, (int)n, "receive: %s", mm_strerror((int)n));
        rc = mm_nc_framer_push(&c->fr, buf, (size_t)n);
        if (rc < 0)
            return client_fatal(c, rc, "framing error: %s", mm_strerror(rc));
    }
}

/* ---------------------------------------------------------------- queues */

static int pending_push(mm_nc_client *c, uint64_t id)
{
    uint64_t *grown = realloc(c->pending, (c->npending + 1) * sizeof(*grown));
    if (!grown)
        return MM_ENOMEM;
    c->pending = grown;
    c->pending[c->npending++] = id;
    return 0;
}

static void pending_pop(mm_nc_client *c)
{
    memmove(c->pending, c->pending + 1, (c->npending - 1) * sizeof(*c->pending));
    c->npending--;
}

static int ready_push(mm_nc_client *c, char *reply)
{
    char **grown = realloc(c->ready, (c->nready + 1) * sizeof(*grown));
    if (!grown)
        return MM_ENOMEM;
    c->ready = grown;
    c->ready[c->nready++] = reply;
    return 0;
}

static char *ready_pop(mm_nc_client *c)
{
    if (c->nready == 0)
        return NULL;
    char *r = c->ready[0];
    memmove(c->ready, c->ready + 1, (c->nready - 1) * sizeof(*c->ready));
    c->nready--;
    return r;
}

size_t mm_nc_client_pending(const mm_nc_client *c)
{
    return c->npending + c->nready;
}

/* ---------------------------------------------------------------- dispatch */

/* An <rpc-reply>: it answers the oldest outstanding request (section 4.5). */
static int dispatch_reply(mm_nc_client *c, const struct lyd_node *root, const char *msg, size_t len)
{
    if (c->npending == 0)
        return client_fatal(c, MM_EPROTO, "unsolicited <rpc-reply>");
    const char *id = attr_of(root, "message-id");
    char want[24];
    snprintf(want, sizeof(want), "%" PRIu64, c->pending[0]);
    /* A reply without message-id answers an <rpc> the server could not read. */
    if (id && strcmp(id, want) != 0)
        return client_fatal(c, MM_EPROTO, "reply message-id %s, expected %s (out of order)", id,
                            want);
    char *copy = strndup(msg, len);
    if (!copy || ready_push(c, copy) < 0) {
        free(copy);
        return client_fatal(c, MM_ENOMEM, "out of memory");
    }
    pending_pop(c);
    return 1;
}

/* Route one message: 1 for a reply, 2 for a notification, <0 fatal. */
static int dispatch(mm_nc_client *c, const char *msg, size_t len)
{
    struct lyd_node *root = NULL;
    char why[200];
    if (parse_xml(c->ly, msg, &root, why, sizeof(why)) < 0)
        return client_fatal(c, MM_EPROTO, "server sent %s", why);
    int rc;
    if (node_is(root, MM_NC_NS_BASE, "rpc-reply")) {
        rc = dispatch_reply(c, root, msg, len);
    } else if (node_is(root, MM_NC_NS_NOTIF, "notification")) {
        if (c->notif_cb)
            c->notif_cb(msg, len, c->notif_arg);
        rc = 2;
    } else {
        rc = client_fatal(c, MM_EPROTO, "unexpected <%s> from the server", node_name(root));
    }
    lyd_free_all(root);
    return rc;
}

/* Read and dispatch one message. */
static int pump(mm_nc_client *c, int64_t deadline)
{
    const char *msg;
    size_t len;
    int rc = read_message(c, deadline, &msg, &len);
    if (rc < 0)
        return rc;
    return dispatch(c, msg, len);
}

/* ---------------------------------------------------------------- hello */

static const char client_hello[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                                   "<hello xmlns=\"" MM_NC_NS_BASE "\"><capabilities>"
                                   "<capability>" CAP_BASE10 "</capability>"
                                   "<capability>" CAP_BASE11 "</capability>"
                                   "</capabilities></hello>";

/* Capability text without the surrounding white space XML allows. */
static char *trimmed_dup(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    return strndup(s, n);
}

static int hello_caps(mm_nc_client *c, const struct lyd_node *hello)
{
    const struct lyd_node *caps = child_of(hello, MM_NC_NS_BASE, "capabilities");
    size_t n = 0;
    for (const struct lyd_node *k = caps ? opaq(caps)->child : NULL; k; k = k->next)
        n++;
    c->caps = calloc(n + 1, sizeof(*c->caps));
    if (!c->caps)
        return client_fatal(c, MM_ENOMEM, "out of memory");
    n = 0;
    for (const struct lyd_node *k = caps ? opaq(caps)->child : NULL; k; k = k->next) {
        if (!node_is(k, MM_NC_NS_BASE, "capability"))
            continue;
        if (!(c->caps[n++] = trimmed_dup(opaq(k)->value)))
            return client_fatal(c, MM_ENOMEM, "out of memory");
    }
    return 0;
}

/* session-id: uint32 in 1..4294967295, decimal digits only. */
static int hello_session_id(mm_nc_client *c, const struct lyd_node *hello)
{
    const struct lyd_node *sid = child_of(hello, MM_NC_NS_BASE, "session-id");
    if (!sid)
        return client_fatal(c, MM_EPROTO, "server hello has no <session-id>");
    const char *v = opaq(sid)->value;
    char *end = NULL;
    errno = 0;
    unsigned long long id = strtoull(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || *end || errno || id == 0 || id > UINT32_MAX)
        return client_fatal(c, MM_EPROTO, "server hello has an invalid <session-id> \"%s\"", v);
    c->session_id = (uint32_t)id;
    return 0;
}

static int hello_process(mm_nc_client *c, const char *msg)
{
    struct lyd_node *root = NULL;
    char why[200];
    if (parse_xml(c->ly, msg, &root, why, sizeof(why)) < 0)
        return client_fatal(c, MM_EPROTO, "server hello: %s", why);
    int rc = 0;
    if (!node_is(root, MM_NC_NS_BASE, "hello"))
        rc = client_fatal(c, MM_EPROTO, "expected <hello>, got <%s>", node_name(root));
    if (rc == 0)
        rc = hello_caps(c, root);
    if (rc == 0)
        rc = hello_session_id(c, root);
    lyd_free_all(root);
    MM_GUARD(rc);
    bool b11 = mm_nc_client_has_capability(c, CAP_BASE11);
    if (!b11 && !mm_nc_client_has_capability(c, CAP_BASE10))
        return client_fatal(c, MM_EPROTO,
                            "no common base version (server has neither "
                            "base:1.0 nor base:1.1)");
    /* Highest common version wins; bytes already buffered decode in the new mode. */
    if (b11)
        mm_nc_framer_set_mode(&c->fr, MM_NC_FRAMING_CHUNKED);
    return 0;
}

int mm_nc_client_new_ex(const mm_nc_client_io *io, size_t max_message, int hello_timeout_ms,
                        mm_nc_client **out, char *why, size_t why_len)
{
    *out = NULL;
    if (why && why_len)
        why[0] = '\0';
    MM_ENSURE(io && io->send && io->recv, MM_EINVAL);
    mm_nc_client *c = calloc(1, sizeof(*c));
    MM_ENSURE(c, MM_ENOMEM);
    c->io = *io;
    mm_nc_framer_init(&c->fr, max_message);
    /* The framer applies the default when max_message is 0. */
    mm_buf_init(&c->out, c->fr.max_message + 64 + GATHER_MAX);
    int rc = ly_quiet_ctx(&c->ly);
    if (rc < 0)
        client_fatal(c, rc, "cannot create a libyang context");
    /* Both peers send <hello> at once, independently (section 8.1). */
    if (rc == 0)
        rc = send_framed(c, MM_NC_FRAMING_EOM, client_hello, strlen(client_hello));
    const char *msg = NULL;
    size_t len = 0;
    if (rc == 0) {
        rc = read_message(c, deadline_of(hello_timeout_ms), &msg, &len);
        if (rc == MM_ETIMEOUT)
            client_fatal(c, rc, "no server hello within %d ms", hello_timeout_ms);
    }
    if (rc >= 0)
        rc = hello_process(c, msg);
    if (rc < 0) {
        if (why && why_len)
            snprintf(why, why_len, "%s", c->error);
        mm_nc_client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int mm_nc_client_new(const mm_nc_client_io *io, size_t max_message, mm_nc_client **out)
{
    char why[256];
    int rc =
        mm_nc_client_new_ex(io, max_message, MM_NC_CLIENT_HELLO_TIMEOUT_MS, out, why, sizeof(why));
    if (rc < 0)
        mm_log_error("nc_client_hello", "error=\"%s\"", why);
    return rc;
}

void mm_nc_client_free(mm_nc_client *c)
{
    if (!c)
        return;
    mm_nc_framer_free(&c->fr);
    mm_buf_free(&c->out);
    for (char **p = c->caps; p && *p; p++)
        free(*p);
    free(c->caps);
    for (size_t i = 0; i < c->nready; i++)
        free(c->ready[i]);
    free(c->ready);
    free(c->pending);
    if (c->ly)
        ly_ctx_destroy(c->ly);
    free(c);
}

uint32_t mm_nc_client_session_id(const mm_nc_client *c)
{
    return c->session_id;
}

const char *const *mm_nc_client_capabilities(const mm_nc_client *c)
{
    return (const char *const *)c->caps;
}

enum mm_nc_framing mm_nc_client_framing(const mm_nc_client *c)
{
    return c->fr.mode;
}

bool mm_nc_client_has_capability(const mm_nc_client *c, const char *uri)
{
    size_t n = strcspn(uri, "?");
    for (char **p = c->caps; p && *p; p++) {
        if (strncmp(*p, uri, n) == 0 && ((*p)[n] == '\0' || (*p)[n] == '?'))
            return true;
    }
    return false;
}

void mm_nc_client_on_notification(mm_nc_client *c, mm_nc_notif_cb cb, void *arg)
{
    c->notif_cb = cb;
    c->notif_arg = arg;
}

/* ---------------------------------------------------------------- rpc */

int mm_nc_client_send_rpc(mm_nc_client *c, const char *op, uint64_t *message_id)
{
    if (c->fatal)
        return c->fatal;
    MM_ENSURE(op && *op, client_err(c, MM_EINVAL, "empty operation"));
    uint64_t id = c->last_id + 1;
    mm_buf msg;
    mm_buf_init(&msg, c->fr.max_message);
    int rc = mm_buf_printf(&msg, "<rpc xmlns=\"%s\" message-id=\"%" PRIu64 "\">%s</rpc>",
                           MM_NC_NS_BASE, id, op);
    if (rc == 0)
        rc = pending_push(c, id);
    if (rc == 0) {
        rc = send_framed(c, c->fr.mode, (const char *)msg.data, msg.len);
        if (rc < 0)
            c->npending--;
    } else {
        client_err(c, rc, "cannot build the request: %s", mm_strerror(rc));
    }
    mm_buf_free(&msg);
    MM_GUARD(rc);
    c->last_id = id;
    if (message_id)
        *message_id = id;
    return 0;
}

void mm_nc_client_cork(mm_nc_client *c, bool on)
{
    c->corked = on;
}

int mm_nc_client_flush(mm_nc_client *c)
{
    if (c->fatal)
        return c->fatal;
    return flush_out(c);
}

int mm_nc_client_recv_reply(mm_nc_client *c, char **reply, int timeout_ms)
{
    *reply = NULL;
    int64_t deadline = deadline_of(timeout_ms);
    while (c->nready == 0) {
        if (c->fatal)
            return c->fatal;
        if (c->npending == 0)
            return client_err(c, MM_ESTATE, "no request is waiting for a reply");
        int rc = pump(c, deadline);
        if (rc < 0)
            return rc;
    }
    *reply = ready_pop(c);
    return 0;
}

int mm_nc_client_rpc(mm_nc_client *c, const char *op, char **reply, int timeout_ms)
{
    *reply = NULL;
    if (c->fatal)
        return c->fatal;
    if (mm_nc_client_pending(c))
        return client_err(c, MM_ESTATE, "pipelined replies are outstanding");
    MM_GUARD(mm_nc_client_send_rpc(c, op, NULL));
    return mm_nc_client_recv_reply(c, reply, timeout_ms);
}

int mm_nc_client_poll(mm_nc_client *c, int timeout_ms)
{
    int64_t deadline = deadline_of(timeout_ms);
    int delivered = 0;
    for (;;) {
        if (c->fatal)
            return c->fatal;
        /* After one notification, only drain what is already buffered. */
        int rc = pump(c, delivered ? mm_monotonic_ms() : deadline);
        if (rc == MM_ETIMEOUT)
            return delivered ? 1 : 0;
        if (rc < 0)
            return rc;
        if (rc == 2)
            delivered = 1;
    }
}

int mm_nc_client_close(mm_nc_client *c)
{
    if (!c)
        return 0;
    int rc = c->fatal;
    if (rc == 0) {
        char *reply = NULL;
        /* Earlier replies are still owed: collect and drop them first. */
        while (rc == 0 && mm_nc_client_pending(c)) {
            rc = mm_nc_client_recv_reply(c, &reply, CLOSE_TIMEOUT_MS);
            free(reply);
        }
        if (rc == 0)
            rc = mm_nc_client_rpc(c, "<close-session/>", &reply, CLOSE_TIMEOUT_MS);
        mm_nc_reply *r = NULL;
        if (rc == 0 && mm_nc_reply_parse(reply, strlen(reply), &r, NULL, 0) == 0 &&
            !mm_nc_reply_ok(r))
            rc = client_err(c, MM_EPROTO, "close-session was refused");
        mm_nc_reply_free(r);
        free(reply);
    }
    mm_nc_client_free(c);
    return rc;
}

/* ---------------------------------------------------------------- fd stream */

static int fd_send(void *io, const uint8_t *data, size_t len)
{
    const mm_nc_fd_stream *s = io;
    while (len > 0) {
        ssize_t n = send(s->wfd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(s->wfd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 || errno == EPIPE || errno == ECONNRESET ? MM_ECLOSED : MM_EIO;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static long fd_recv(void *io, uint8_t *buf, size_t cap, int timeout_ms)
{
    const mm_nc_fd_stream *s = io;
    struct pollfd p = {.fd = s->rfd, .events = POLLIN};
    int64_t deadline = deadline_of(timeout_ms);
    for (;;) {
        int r = poll(&p, 1, mm_deadline_left_ms(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return MM_EIO;
        if (r == 0)
            return MM_ETIMEOUT;
        ssize_t n = read(s->rfd, buf, cap);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return errno == ECONNRESET ? 0 : MM_EIO;
        return (long)n;
    }
}

void mm_nc_client_io_fd(mm_nc_fd_stream *fds, mm_nc_client_io *io)
{
    io->send = fd_send;
    io->recv = fd_recv;
    io->io = fds;
}

/* ---------------------------------------------------------------- replies */

struct mm_nc_reply {
    struct ly_ctx *ly;
    struct lyd_node *tree;
    mm_nc_reply_error *errors;
    size_t nerrors;
    bool ok, has_data;
    char *data;
    char **strings; /* printed error-info, owned */
    size_t nstrings;
};

static const char *leaf_text(const struct lyd_node *parent, const char *name)
{
    const struct lyd_node *n = child_of(parent, MM_NC_NS_BASE, name);
    return n ? opaq(n)->value : NULL;
}

/* Children of n printed as XML (indented), owned by r. */
static const char *children_xml(mm_nc_reply *r, const struct lyd_node *n)
{
    const struct lyd_node *first = opaq(n)->child;
    char *s = NULL;
    if (first && lyd_print_mem(&s, first, LYD_XML, LYD_PRINT_WITHSIBLINGS) != LY_SUCCESS)
        return NULL;
    if (!s)
        s = strdup("");
    return mm_strv_push(&r->strings, &r->nstrings, s) == 0 ? s : NULL;
}

static int add_error(mm_nc_reply *r, const struct lyd_node *c)
{
    mm_nc_reply_error *grown = realloc(r->errors, (r->nerrors + 1) * sizeof(*grown));
    if (!grown)
        return MM_ENOMEM;
    r->errors = grown;
    mm_nc_reply_error *e = &r->errors[r->nerrors++];
    e->type = leaf_text(c, "error-type");
    e->tag = leaf_text(c, "error-tag");
    e->severity = leaf_text(c, "error-severity");
    e->app_tag = leaf_text(c, "error-app-tag");
    e->path = leaf_text(c, "error-path");
    e->message = leaf_text(c, "error-message");
    const struct lyd_node *info = child_of(c, MM_NC_NS_BASE, "error-info");
    e->info = info ? children_xml(r, info) : NULL;
    return 0;
}

/*
 * The reply's data: the content of <data> in any namespace (base <get>,
 * get-schema's YANG text in ietf-netconf-monitoring's <data>, NMDA get-data's
 * <data>), and any other element of an operation's output (e.g.
 * partial-lock's <lock-id>) as XML.
 */
static int add_data(mm_nc_reply *r, mm_buf *data, const struct lyd_node *c)
{
    const struct lyd_node_opaq *o = opaq(c);
    const char *text = NULL;
    char *printed = NULL;
    if (!strcmp(o->name.name, "data")) {
        text = o->child ? children_xml(r, c) : o->value;
    } else {
        if (lyd_print_mem(&printed, c, LYD_XML, 0) != LY_SUCCESS)
            return MM_ENOMEM;
        text = printed;
    }
    int rc = text ? mm_buf_append_str(data, text) : MM_ENOMEM;
    free(printed);
    r->has_data = true;
    return rc;
}

static int reply_collect(mm_nc_reply *r)
{
    mm_buf data;
    mm_buf_init(&data, SIZE_MAX / 2);
    int rc = 0;
    for (const struct lyd_node *c = opaq(r->tree)->child; c && rc == 0; c = c->next) {
        if (node_is(c, MM_NC_NS_BASE, "ok"))
            r->ok = true;
        else if (node_is(c, MM_NC_NS_BASE, "rpc-error"))
            rc = add_error(r, c);
        else if (opaq(c))
            rc = add_data(r, &data, c);
    }
    if (rc == 0 && r->has_data) {
        char *s = strdup(mm_buf_cstr(&data));
        rc = s && mm_strv_push(&r->strings, &r->nstrings, s) == 0 ? 0 : MM_ENOMEM;
        if (rc == 0)
            r->data = s;
        else
            free(s);
    }
    mm_buf_free(&data);
    return rc;
}

int mm_nc_reply_parse(const char *xml, size_t len, mm_nc_reply **out, char *why, size_t why_len)
{
    *out = NULL;
    mm_nc_reply *r = calloc(1, sizeof(*r));
    MM_ENSURE(r, MM_ENOMEM);
    char *text = strndup(xml, len);
    int rc = text ? ly_quiet_ctx(&r->ly) : MM_ENOMEM;
    if (rc == 0)
        rc = parse_xml(r->ly, text, &r->tree, why, why_len);
    free(text);
    if (rc == 0 && !node_is(r->tree, MM_NC_NS_BASE, "rpc-reply")) {
        if (why)
            snprintf(why, why_len, "not an <rpc-reply>");
        rc = MM_EMALFORMED;
    }
    if (rc == 0)
        rc = reply_collect(r);
    if (rc < 0) {
        mm_nc_reply_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void mm_nc_reply_free(mm_nc_reply *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nstrings; i++)
        free(r->strings[i]);
    free(r->strings);
    free(r->errors);
    lyd_free_all(r->tree);
    if (r->ly)
        ly_ctx_destroy(r->ly);
    free(r);
}

const char *mm_nc_reply_message_id(const mm_nc_reply *r)
{
    return attr_of(r->tree, "message-id");
}
bool mm_nc_reply_ok(const mm_nc_reply *r)
{
    return r->ok && r->nerrors == 0;
}
size_t mm_nc_reply_error_count(const mm_nc_reply *r)
{
    return r->nerrors;
}

const mm_nc_reply_error *mm_nc_reply_error_at(const mm_nc_reply *r, size_t i)
{
    return i < r->nerrors ? &r->errors[i] : NULL;
}

bool mm_nc_reply_has_data(const mm_nc_reply *r)
{
    return r->has_data;
}
const char *mm_nc_reply_data(const mm_nc_reply *r)
{
    return r->data ? r->data : "";
}
