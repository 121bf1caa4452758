/*
 * rpc.c - <rpc> parsing, checks and dispatch; <rpc-reply> assembly
 * (RFC 6241 section 4). Operations are parsed by libyang
 * (lyd_parse_op with LYD_TYPE_RPC_NETCONF, netconf-core.md section 9).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_internal.h"

/* The operation table: adding an operation is adding a row. */
static const struct {
    const char *module;
    const char *name;
    nc_op_fn fn;
} ops[] = {
    {"ietf-netconf", "get", nc_op_get},
    {"ietf-netconf", "get-config", nc_op_get_config},
    {"ietf-netconf", "edit-config", nc_op_edit_config},
    {"ietf-netconf", "copy-config", nc_op_copy_config},
    {"ietf-netconf", "delete-config", nc_op_delete_config},
    {"ietf-netconf", "lock", nc_op_lock},
    {"ietf-netconf", "unlock", nc_op_unlock},
    {"ietf-netconf-partial-lock", "partial-lock", nc_op_partial_lock},
    {"ietf-netconf-partial-lock", "partial-unlock", nc_op_partial_unlock},
    {"ietf-netconf", "close-session", nc_op_close_session},
    {"ietf-netconf", "kill-session", nc_op_kill_session},
    {"ietf-netconf", "commit", nc_op_commit},
    {"ietf-netconf", "discard-changes", nc_op_discard_changes},
    {"ietf-netconf", "cancel-commit", nc_op_cancel_commit},
    {"ietf-netconf", "validate", nc_op_validate},
    {"ietf-netconf-monitoring", "get-schema", nc_op_get_schema},
    {"ietf-netconf-nmda", "get-data", nc_op_get_data},
    {"ietf-netconf-nmda", "edit-data", nc_op_edit_data},
    {"notifications", "create-subscription", nc_op_create_subscription},
};

static nc_op_fn op_lookup(const struct lyd_node *op)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (!strcmp(op->schema->module->name, ops[i].module) &&
            !strcmp(op->schema->name, ops[i].name))
            return ops[i].fn;
    return NULL;
}

/* Copy every attribute of <rpc> (message-id and foreign ones) unmodified. */
static int copy_attrs(mm_buf *b, const struct lyd_node *env)
{
    if (!env || env->schema)
        return 0;
    unsigned i = 0;
    for (const struct lyd_attr *a = ((const struct lyd_node_opaq *)env)->attr; a; a = a->next) {
        const char *ns = a->name.module_ns;
        if (ns && *ns) {
            char pfx[64];
            snprintf(pfx, sizeof(pfx), "%s", a->name.prefix ? a->name.prefix : "");
            if (!pfx[0] || !strcmp(pfx, "xmlns") || !strcmp(pfx, "xml"))
                snprintf(pfx, sizeof(pfx), "a%u", i++);
            MM_GUARD(mm_buf_printf(b, " xmlns:%s=\"", pfx));
            MM_GUARD(nc_xml_escape(b, ns));
            MM_GUARD(mm_buf_printf(b, "\" %s:", pfx));
        } else {
            MM_GUARD(mm_buf_append_str(b, " "));
        }
        MM_GUARD(mm_buf_append_str(b, a->name.name));
        MM_GUARD(mm_buf_append(b, "=\"", 2));
        MM_GUARD(nc_xml_escape(b, a->value));
        MM_GUARD(mm_buf_append_str(b, "\""));
    }
    return 0;
}

static void send_reply(nc_rpc *rpc)
{
    mm_nc_session *s = rpc->s;
    mm_buf b;
    mm_buf_init(&b, rpc->body.len + rpc->errs.len + 65536);
    int rc = mm_buf_append_str(&b, "<rpc-reply xmlns=\"" NC_NS_BASE "\"");
    rc = rc ? rc : copy_attrs(&b, rpc->env);
    if (!rpc->env && rpc->msg_id && rpc->msg_id[0]) {
        rc = rc ? rc : mm_buf_append_str(&b, " message-id=\"");
        rc = rc ? rc : nc_xml_escape(&b, rpc->msg_id);
        rc = rc ? rc : mm_buf_append_str(&b, "\"");
    }
    rc = rc ? rc : mm_buf_append_str(&b, ">");
    if (rpc->nerr) {
        s->cnt.out_rpc_errors++;
        s->srv->stats.out_rpc_errors++;
        rc = rc ? rc : mm_buf_append(&b, rpc->errs.data, rpc->errs.len);
    } else if (rpc->body.len) {
        rc = rc ? rc : mm_buf_append(&b, rpc->body.data, rpc->body.len);
    } else {
        rc = rc ? rc : mm_buf_append_str(&b, "<ok/>");
    }
    rc = rc ? rc : mm_buf_append_str(&b, "</rpc-reply>");
    if (rc == 0)
        nc_session_send(s, (const char *)b.data, b.len);
    else
        nc_session_end(s, NC_END_OTHER, 0);
    mm_buf_free(&b);
}

static bool has_message_id(const struct lyd_node *env)
{
    if (!env || env->schema)
        return false;
    for (const struct lyd_attr *a = ((const struct lyd_node_opaq *)env)->attr; a; a = a->next)
        if (!strcmp(a->name.name, "message-id"))
            return true;
    return false;
}

/*
 * Not well-formed: malformed-message under base:1.1, then end. Over QUIC
 * too: the draft (section 9) stops the session, and RFC 6241's
 * malformed-message tells the client why before it does (issue 10 #14).
 */
static void malformed(nc_rpc *rpc)
{
    mm_nc_session *s = rpc->s;
    s->cnt.in_bad_rpcs++;
    s->srv->stats.in_bad_rpcs++;
    if (s->base11) {
        nc_rpc_err(rpc, "rpc", "malformed-message", ly_errmsg(s->srv->ctx));
        lyd_free_all(rpc->env);
        rpc->env = NULL; /* no message-id to copy */
        send_reply(rpc);
    }
    nc_session_end(s, NC_END_OTHER, 0);
}

/* Name and namespace of the first element under <rpc>, from an opaque parse. */
static void op_identity(nc_rpc *rpc, const char *xml, char *name, size_t nlen)
{
    struct lyd_node *t = NULL;
    name[0] = '\0';
    if (lyd_parse_data_mem(rpc->s->srv->ctx, xml, LYD_XML, LYD_PARSE_OPAQ | LYD_PARSE_ONLY, 0,
                           &t) == LY_SUCCESS &&
        t && lyd_child(t)) {
        const struct lyd_node *c = lyd_child(t);
        snprintf(name, nlen, "%s", c->schema ? c->schema->name
                                             : ((const struct lyd_node_opaq *)c)->name.name);
    }
    lyd_free_all(t);
}

/* A well-formed <rpc> that libyang rejected against the schema. */
static void schema_error(nc_rpc *rpc, const char *xml)
{
    struct ly_ctx *ctx = rpc->s->srv->ctx;
    /* A copy: op_identity() parses again, which replaces libyang's message. */
    char msgbuf[512];
    const char *lymsg = ly_errmsg(ctx);
    snprintf(msgbuf, sizeof(msgbuf), "%s", lymsg ? lymsg : "");
    const char *msg = lymsg ? msgbuf : NULL;
    char name[128];
    rpc->s->cnt.in_bad_rpcs++;
    rpc->s->srv->stats.in_bad_rpcs++;
    if (msg && !strncmp(msg, "No module with namespace", 24)) {
        op_identity(rpc, xml, name, sizeof(name));
        char ns[256] = "";
        const char *a = strchr(msg, '"'), *z = a ? strchr(a + 1, '"') : NULL;
        if (z && (size_t)(z - a) < sizeof(ns))
            snprintf(ns, sizeof(ns), "%.*s", (int)(z - a - 1), a + 1);
        nc_err e = {.type = "protocol", .tag = "unknown-namespace", .message = msg,
                    .bad_elem = name, .bad_ns = ns};
        nc_rpc_error(rpc, &e);
        return;
    }
    if (msg && !strncmp(msg, "Unexpected child element", 24)) {
        nc_err e = {.type = "rpc", .tag = "unknown-element", .message = "exactly one operation "
                    "is allowed in <rpc>", .bad_elem = "rpc"};
        nc_rpc_error(rpc, &e);
        return;
    }
    nc_rpc_err_ly(rpc, "protocol", "invalid-value");
}

static bool is_second_hello(mm_nc_session *s, const char *xml)
{
    struct lyd_node *t = NULL;
    bool hello = lyd_parse_data_mem(s->srv->ctx, xml, LYD_XML, LYD_PARSE_OPAQ | LYD_PARSE_ONLY,
                                    0, &t) == LY_SUCCESS &&
                 t && !t->schema &&
                 !strcmp(((const struct lyd_node_opaq *)t)->name.name, "hello");
    lyd_free_all(t);
    return hello;
}

static void dispatch(nc_rpc *rpc)
{
    mm_nc_session *s = rpc->s;
    if (lyd_validate_op(rpc->op, s->srv->ds[NC_DS_RUNNING].tree, LYD_TYPE_RPC_YANG, NULL)) {
        nc_rpc_err_ly(rpc, "protocol", "invalid-value");
        return;
    }
    mm_nacm_req req = nc_nacm_req(s);
    bool allowed = mm_nacm_rpc_allowed(&req, rpc->op);
    if (s->srv->audit_err) {
        nc_rpc_err(rpc, "application", "operation-failed",
                   "the audit record of this request could not be written");
        return;
    }
    if (!allowed) {
        nc_rpc_err(rpc, "protocol", "access-denied", "access denied by NACM");
        return;
    }
    nc_op_fn fn = op_lookup(rpc->op);
    if (!fn) {
        nc_err e = {.type = "protocol", .tag = "operation-not-supported",
                    .bad_elem = rpc->op->schema->name};
        nc_rpc_error(rpc, &e);
        return;
    }
    fn(rpc);
}

static void rpc_run(nc_rpc *rpc, const char *xml, size_t len)
{
    mm_nc_session *s = rpc->s;
    struct ly_in *in = NULL;
    if (strlen(xml) != len || ly_in_new_memory(xml, &in) != LY_SUCCESS) {
        malformed(rpc);
        return;
    }
    LY_ERR lrc = lyd_parse_op(s->srv->ctx, NULL, in, LYD_XML, LYD_TYPE_RPC_NETCONF, &rpc->env,
                              &rpc->op);
    ly_in_free(in, 0);
    if (lrc == LY_ENOT && is_second_hello(s, xml)) {
        mm_log_info("nc-hello", "session=%u result=second-hello", s->id);
        nc_session_end(s, NC_END_OTHER, 0);
        return;
    }
    if (lrc != LY_SUCCESS && (!rpc->env || lrc == LY_ENOT ||
                              (ly_vecode(s->srv->ctx) == LYVE_SYNTAX &&
                               strncmp(ly_errmsg(s->srv->ctx), "Unexpected child", 16)) ||
                              ly_vecode(s->srv->ctx) == LYVE_SYNTAX_XML)) {
        malformed(rpc);
        return;
    }
    if (!has_message_id(rpc->env)) {
        nc_err e = {.type = "rpc", .tag = "missing-attribute", .bad_attr = "message-id",
                    .bad_elem = "rpc"};
        s->cnt.in_bad_rpcs++;
        s->srv->stats.in_bad_rpcs++;
        nc_rpc_error(rpc, &e);
    } else if (lrc != LY_SUCCESS) {
        schema_error(rpc, xml);
    } else {
        dispatch(rpc);
    }
    send_reply(rpc);
}

void nc_rpc_refuse(mm_nc_session *s, const nc_msg_scan *sc)
{
    nc_rpc rpc = {.s = s, .msg_id = sc->message_id};
    mm_buf_init(&rpc.body, 0);
    mm_buf_init(&rpc.errs, 1u << 16);
    s->cnt.in_rpcs++;
    s->srv->stats.in_rpcs++;
    s->cnt.in_bad_rpcs++;
    s->srv->stats.in_bad_rpcs++;
    char msg[160];
    snprintf(msg, sizeof(msg), "the message exceeds the server's bound on %s (%u %s at most)",
             sc->limit,
             !strcmp(sc->limit, "elements")     ? s->srv->limits.elements
             : !strcmp(sc->limit, "attributes") ? s->srv->limits.attributes
                                                : s->srv->limits.depth,
             !strcmp(sc->limit, "attributes") ? "per element" : "per message");
    nc_err e = {.type = "rpc", .tag = "too-big", .message = msg};
    nc_rpc_error(&rpc, &e);
    send_reply(&rpc);
    mm_buf_free(&rpc.body);
    mm_buf_free(&rpc.errs);
}

int nc_rpc_process(mm_nc_session *s, const char *xml, size_t len)
{
    nc_rpc rpc = {.s = s, .xml = xml};
    s->srv->audit_err = 0;
    mm_buf_init(&rpc.body, s->srv->max_message);
    mm_buf_init(&rpc.errs, 1u << 20);
    s->cnt.in_rpcs++;
    s->srv->stats.in_rpcs++;
    rpc_run(&rpc, xml, len);
    nc_observe(s->srv, MM_NC_EV_RPC,
               rpc.op && rpc.op->schema ? rpc.op->schema->name : "-",
               rpc.errs.len ? "error" : "ok", s->transport, 0);
    lyd_free_all(rpc.env);
    lyd_free_all(rpc.op);
    lyd_free_all(rpc.raw);
    mm_buf_free(&rpc.body);
    mm_buf_free(&rpc.errs);
    if (s->doomed)
        return MM_ECLOSED;
    if (rpc.after_sub)
        nc_notif_after_reply(s);
    if (rpc.close_after)
        nc_session_end(s, NC_END_CLOSED, 0);
    return 0;
}
