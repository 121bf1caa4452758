/*
 * rpc_error.c - <rpc-error> elements (RFC 6241 section 4.3, appendix A).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "nc_internal.h"

int nc_xml_escape(mm_buf *b, const char *s)
{
    for (; s && *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '&': rep = "&amp;"; break;
        case '"': rep = "&quot;"; break;
        default: break;
        }
        MM_GUARD(rep ? mm_buf_append_str(b, rep) : mm_buf_append(b, s, 1));
    }
    return 0;
}

static int elem(mm_buf *b, const char *name, const char *value)
{
    if (!value)
        return 0;
    MM_GUARD(mm_buf_printf(b, "<%s>", name));
    MM_GUARD(nc_xml_escape(b, value));
    return mm_buf_printf(b, "</%s>", name);
}

/*
 * <elem xmlns:mod="ns"...>/mod:a/mod:b[k='v']</elem>: the instance
 * identifier of node n with module names as XML prefixes, each declared on
 * the element (error-path, locked-node), after attrs if not NULL.
 */
int nc_path_xml(mm_buf *b, const char *elem_name, const char *attrs,
                const struct lyd_node *node)
{
    char *path = lyd_path(node, LYD_PATH_STD, NULL, 0);
    MM_ENSURE(path, MM_ENOMEM);
    int rc = mm_buf_printf(b, "<%s%s%s", elem_name, attrs ? " " : "", attrs ? attrs : "");
    const struct lys_module *seen[16];
    size_t nseen = 0;
    for (const struct lyd_node *n = node; n && rc == 0; n = lyd_parent(n)) {
        if (!n->schema)
            continue;
        const struct lys_module *m = n->schema->module;
        bool dup = false;
        for (size_t i = 0; i < nseen; i++)
            dup = dup || seen[i] == m;
        if (dup || nseen == 16)
            continue;
        seen[nseen++] = m;
        rc = mm_buf_printf(b, " xmlns:%s=\"", m->name);
        rc = rc ? rc : nc_xml_escape(b, m->ns);
        rc = rc ? rc : mm_buf_append_str(b, "\"");
    }
    rc = rc ? rc : mm_buf_append_str(b, ">");
    rc = rc ? rc : nc_xml_escape(b, path);
    rc = rc ? rc : mm_buf_printf(b, "</%s>", elem_name);
    free(path);
    return rc;
}

static int error_path(mm_buf *b, const nc_err *e)
{
    if (!e->path_node)
        return elem(b, "error-path", e->path);
    return nc_path_xml(b, "error-path", NULL, e->path_node);
}

static int error_info(mm_buf *b, const nc_err *e)
{
    if (!e->bad_attr && !e->bad_elem && !e->bad_ns && !e->has_session_id)
        return 0;
    MM_GUARD(mm_buf_append_str(b, "<error-info>"));
    MM_GUARD(elem(b, "bad-attribute", e->bad_attr));
    MM_GUARD(elem(b, "bad-element", e->bad_elem));
    MM_GUARD(elem(b, "bad-namespace", e->bad_ns));
    if (e->has_session_id)
        MM_GUARD(mm_buf_printf(b, "<session-id>%u</session-id>", e->session_id));
    return mm_buf_append_str(b, "</error-info>");
}

int nc_error_xml(const nc_err *e, mm_buf *b)
{
    MM_GUARD(mm_buf_append_str(b, "<rpc-error>"));
    MM_GUARD(elem(b, "error-type", e->type));
    MM_GUARD(elem(b, "error-tag", e->tag));
    MM_GUARD(elem(b, "error-severity", "error"));
    MM_GUARD(elem(b, "error-app-tag", e->app_tag));
    MM_GUARD(error_path(b, e));
    if (e->message) {
        MM_GUARD(mm_buf_append_str(b, "<error-message xml:lang=\"en\">"));
        MM_GUARD(nc_xml_escape(b, e->message));
        MM_GUARD(mm_buf_append_str(b, "</error-message>"));
    }
    MM_GUARD(error_info(b, e));
    return mm_buf_append_str(b, "</rpc-error>");
}

void nc_rpc_error(nc_rpc *rpc, const nc_err *e)
{
    rpc->nerr++;
    if (nc_error_xml(e, &rpc->errs) < 0)
        mm_log_warn("nc-error", "session=%u tag=%s result=dropped", rpc->s->id, e->tag);
}

void nc_rpc_err(nc_rpc *rpc, const char *type, const char *tag, const char *msg)
{
    nc_err e = {.type = type, .tag = tag, .message = msg};
    nc_rpc_error(rpc, &e);
}

/* The text between the first pair of double quotes of msg, into out. */
static const char *quoted(const char *msg, char *out, size_t len)
{
    const char *a = msg ? strchr(msg, '"') : NULL;
    const char *z = a ? strchr(a + 1, '"') : NULL;
    if (!z || (size_t)(z - a) > len)
        return NULL;
    memcpy(out, a + 1, (size_t)(z - a - 1));
    out[z - a - 1] = '\0';
    return out;
}

void nc_rpc_err_ly(nc_rpc *rpc, const char *type, const char *fallback_tag)
{
    struct ly_ctx *ctx = rpc->s->srv->ctx;
    const char *msg = ly_errmsg(ctx);
    const char *path = ly_errpath(ctx);
    char name[128], where[512];
    nc_err e = {.type = type, .tag = fallback_tag, .message = msg ? msg : "invalid data"};
    if (path && path[0] == '/')
        e.path = path;
    else if (path && !strncmp(path, "Data location", 13))
        e.path = quoted(path, where, sizeof(where));
    if (msg && strstr(msg, "Mandatory")) {
        e.tag = "missing-element";
        e.bad_elem = quoted(msg, name, sizeof(name));
    } else if (msg && strstr(msg, "not found")) {
        e.tag = "unknown-element";
        e.bad_elem = quoted(msg, name, sizeof(name));
    } else if (msg && strstr(msg, "No module with namespace")) {
        e.tag = "unknown-namespace";
        e.bad_ns = quoted(msg, name, sizeof(name));
    } else if (msg && (strstr(msg, "Duplicate instance") || strstr(msg, "already exists"))) {
        e.tag = "data-exists";
    }
    nc_rpc_error(rpc, &e);
}
