/*
 * session.c - one NETCONF session: hello exchange (RFC 6241 section 8.1),
 * framing switch (RFC 6242 section 4.1), input loop and teardown.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "nc_internal.h"

static enum mm_nc_framing out_framing(const mm_nc_session *s)
{
    return s->hello_done && s->base11 ? MM_NC_FRAMING_CHUNKED : MM_NC_FRAMING_EOM;
}

int nc_session_send(mm_nc_session *s, const char *xml, size_t len)
{
    /* Records that must be durable (changes, denials) go out before the reply.
     * Changes were refused already if theirs could not be (nc_ds_replace);
     * what is left here are denials, which the reply reports as failed. */
    int arc = mm_audit_flush_critical(s->srv->audit);
    if (arc < 0)
        mm_log_error("nc-audit", "session=%u error=\"%s\" result=flush-failed", s->id,
                     mm_strerror(arc));
    mm_buf out;
    mm_buf_init(&out, len + 64);
    int rc = mm_nc_frame(out_framing(s), xml, len, &out);
    if (rc == 0)
        rc = s->ops->send(s->io, out.data, out.len);
    mm_buf_free(&out);
    if (rc == 0)
        nc_backlog_note(s);
    if (rc < 0) {
        mm_log_warn("nc-send", "session=%u error=\"%s\"", s->id, mm_strerror(rc));
        nc_session_end(s, NC_END_DROPPED, 0);
    }
    return rc;
}

static int send_hello(mm_nc_session *s)
{
    mm_buf b;
    mm_buf_init(&b, 2u << 20);
    int rc = mm_buf_printf(&b, "<hello xmlns=\"%s\"><capabilities>", NC_NS_BASE);
    if (rc == 0 && !s->chunked_only)
        rc = mm_buf_append_str(&b, "<capability>" NC_BASE10 "</capability>");
    if (rc == 0)
        rc = mm_buf_append_str(&b, "<capability>" NC_BASE11 "</capability>");
    if (rc == 0)
        rc = mm_buf_append(&b, s->srv->hello_caps.data, s->srv->hello_caps.len);
    if (rc == 0)
        rc = mm_buf_printf(&b, "</capabilities><session-id>%u</session-id></hello>", s->id);
    if (rc == 0)
        rc = nc_session_send(s, (const char *)b.data, b.len);
    mm_buf_free(&b);
    return rc;
}

static void session_teardown(mm_nc_session *s, bool call_close);

static uint32_t next_session_id(mm_nc_server *srv)
{
    uint32_t id;
    do {
        id = srv->next_sid++;
        if (srv->next_sid == 0)
            srv->next_sid = 1;
    } while (id == 0 || nc_server_find_session(srv, id));
    return id;
}

mm_nc_session *mm_nc_session_new(mm_nc_server *srv, const mm_nc_session_info *info,
                                 const mm_nc_transport_ops *ops, void *io)
{
    if (!srv || !info || !ops || !ops->send || !ops->close)
        return NULL;
    mm_nc_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->srv = srv;
    s->ops = ops;
    s->io = io;
    s->id = next_session_id(srv);
    s->username = strdup(info->username ? info->username : "");
    s->transport = strdup(info->transport ? info->transport : "unknown");
    s->peer = strdup(info->peer ? info->peer : "");
    s->chunked_only = info->chunked_only;
    s->recovery = srv->recovery_user && info->username &&
                  strcmp(srv->recovery_user, info->username) == 0;
    s->login_time = time(NULL);
    mm_nc_framer_init(&s->framer, srv->max_message);
    s->next = srv->sessions;
    srv->sessions = s;
    s->busy = 1; /* a failed send must not free s under us */
    if (!s->username || !s->transport || !s->peer || send_hello(s) < 0 || s->doomed) {
        s->busy = 0;
        session_teardown(s, false);
        return NULL;
    }
    s->busy = 0;
    return s;
}

/* Is n an element of the base namespace named name? */
static bool base_elem(const struct lyd_node *n, const char *name)
{
    if (n->schema)
        return false;
    const struct lyd_node_opaq *o = (const struct lyd_node_opaq *)n;
    return !strcmp(o->name.name, name) && o->name.module_ns &&
           !strcmp(o->name.module_ns, NC_NS_BASE);
}

/* Check the client hello; false ends the session (RFC 6241 section 8.1). */
static bool hello_check(mm_nc_session *s, const struct lyd_node *hello)
{
    if (!hello || hello->next || !base_elem(hello, "hello"))
        return false;
    bool caps = false;
    bool b10 = false, b11 = false;
    for (const struct lyd_node *c = lyd_child(hello); c; c = c->next) {
        if (base_elem(c, "session-id"))
            return false; /* a client must not send one */
        if (!base_elem(c, "capabilities"))
            continue;
        caps = true;
        for (const struct lyd_node *cap = lyd_child(c); cap; cap = cap->next) {
            const char *v = cap->schema ? "" : ((const struct lyd_node_opaq *)cap)->value;
            b10 = b10 || !strcmp(v, NC_BASE10);
            b11 = b11 || !strcmp(v, NC_BASE11);
        }
    }
    if (!caps || (!b10 && !b11) || (s->chunked_only && !b11))
        return false;
    s->base11 = b11;
    return true;
}

static void handle_hello(mm_nc_session *s, const char *msg, size_t len)
{
    struct lyd_node *tree = NULL;
    bool ok = strlen(msg) == len &&
              lyd_parse_data_mem(s->srv->ctx, msg, LYD_XML, LYD_PARSE_OPAQ | LYD_PARSE_ONLY, 0,
                                 &tree) == LY_SUCCESS &&
              hello_check(s, tree);
    lyd_free_all(tree);
    if (!ok) {
        s->srv->in_bad_hellos++;
        mm_log_info("nc-hello", "session=%u result=bad-hello", s->id);
        nc_session_end(s, NC_END_BAD_HELLO, 0);
        return;
    }
    s->hello_done = true;
    s->srv->in_sessions++;
    if (s->base11)
        mm_nc_framer_set_mode(&s->framer, MM_NC_FRAMING_CHUNKED);
    mm_log_info("nc-session-start", "session=%u user=%s transport=%s framing=%s", s->id,
                s->username, s->transport, s->base11 ? "chunked" : "eom");
    nc_notif_session_start(s);
}

static void handle_message(mm_nc_session *s, const char *msg, size_t len)
{
    /* Bound the work before libyang parses anything (issue 10 item 3). */
    nc_msg_scan sc;
    if (nc_msg_scan_run(msg, len, &s->srv->limits, &sc) < 0) {
        mm_log_info("nc-limit", "session=%u limit=%s elements=%u attributes=%u depth=%u",
                    s->id, sc.limit, sc.elements, sc.max_attrs, sc.max_depth);
        if (!s->hello_done) {
            s->srv->in_bad_hellos++;
            nc_session_end(s, NC_END_BAD_HELLO, 0);
        } else {
            nc_rpc_refuse(s, &sc);
        }
        return;
    }
    if (!s->hello_done)
        handle_hello(s, msg, len);
    else
        nc_rpc_process(s, msg, len);
}

static void session_free(mm_nc_session *s)
{
    mm_nc_server *srv = s->srv;
    for (mm_nc_session **pp = &srv->sessions; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    mm_nc_framer_free(&s->framer);
    nc_backlog_free(s);
    free(s->username);
    free(s->transport);
    free(s->peer);
    free(s);
}

/* Release everything the session holds; close the transport unless it is lost. */
static void session_teardown(mm_nc_session *s, bool call_close)
{
    mm_nc_server *srv = s->srv;
    nc_notif_sub_end(s, false);
    nc_ds_release_locks(srv, s->id);
    nc_plock_release_session(srv, s->id);
    nc_confirm_session_end(srv, s->id);
    if (s->hello_done)
        nc_notif_session_end(s);
    if (s->end_reason == NC_END_DROPPED)
        srv->dropped_sessions++;
    mm_log_info("nc-session-end", "session=%u user=%s reason=%d", s->id, s->username,
                (int)s->end_reason);
    /* 0: the client asked for the end (close-session); 1: the server ended a
     * session it did not initiate (kill-session, verification, malformed
     * input): NETCONF over QUIC's CLOSE SESSION_ERROR (issue 10 #14). */
    int code = s->end_reason == NC_END_CLOSED ? 0 : 1;
    if (call_close && s->abort_output && s->ops->abort)
        s->ops->abort(s->io, code); /* a peer that does not read: drop its backlog */
    else if (call_close)
        s->ops->close(s->io, code);
    session_free(s);
}

void nc_session_end(mm_nc_session *s, enum nc_end_reason why, uint32_t killed_by)
{
    if (!s->doomed) {
        s->end_reason = why;
        s->killed_by = killed_by;
    }
    s->doomed = true;
    if (s->busy == 0)
        session_teardown(s, !s->lost);
}

void nc_session_hold(mm_nc_session *s) { s->busy++; }

bool nc_session_release(mm_nc_session *s)
{
    if (--s->busy > 0 || !s->doomed)
        return true;
    session_teardown(s, !s->lost);
    return false;
}

static int session_input(mm_nc_session *s, const uint8_t *data, size_t len);

int mm_nc_session_input(mm_nc_session *s, const uint8_t *data, size_t len)
{
    /* One audit write for the whole burst of pipelined RPCs (see mm_audit.h). */
    mm_audit *audit = s->srv->audit;
    mm_audit_batch_begin(audit);
    int rc = session_input(s, data, len);
    int arc = mm_audit_batch_end(audit);
    if (arc < 0) /* read and permitted-RPC records, answered already: keep serving */
        mm_log_error("nc-audit", "error=\"%s\" result=batch-write-failed", mm_strerror(arc));
    return rc;
}

static int session_input(mm_nc_session *s, const uint8_t *data, size_t len)
{
    s->busy++;
    while (!s->doomed) {
        size_t n = mm_nc_framer_room(&s->framer);
        n = n < len ? n : len;
        if (mm_nc_framer_push(&s->framer, data, n) < 0)
            break;
        data += n;
        len -= n;
        const char *msg;
        size_t mlen;
        int rc = 0;
        while (!s->doomed && (rc = mm_nc_framer_next(&s->framer, &msg, &mlen)) == 1)
            handle_message(s, msg, mlen);
        if (!s->doomed && rc < 0) {
            mm_log_info("nc-framing", "session=%u error=\"%s\"", s->id, mm_strerror(rc));
            nc_session_end(s, NC_END_DROPPED, 0);
        }
        if (len == 0)
            break;
    }
    s->busy--;
    if (!s->doomed)
        return 0;
    if (s->busy == 0)
        session_teardown(s, !s->lost);
    return MM_ECLOSED;
}

void mm_nc_session_lost(mm_nc_session *s)
{
    if (!s)
        return;
    if (!s->doomed)
        s->end_reason = NC_END_DROPPED;
    s->doomed = true;
    s->lost = true;
    if (s->busy == 0)
        session_teardown(s, false);
}

void mm_nc_session_terminate(mm_nc_session *s, const char *reason)
{
    if (!s)
        return;
    mm_log_info("nc-terminate", "session=%u reason=\"%s\"", s->id, reason ? reason : "");
    nc_session_end(s, NC_END_OTHER, 0);
}

uint32_t mm_nc_session_id(const mm_nc_session *s) { return s->id; }
const char *mm_nc_session_username(const mm_nc_session *s) { return s->username; }
