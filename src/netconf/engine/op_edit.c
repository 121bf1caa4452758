/*
 * op_edit.c - edit-config, copy-config, delete-config, validate
 * (RFC 6241 sections 7.2-7.4, 8.6) and NMDA edit-data (RFC 8526 3.1.2).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "nc_internal.h"

static const char *param(const struct lyd_node *op, const char *name, const char *dflt)
{
    struct lyd_node *n = NULL;
    if (lyd_find_path(op, name, 0, &n) != LY_SUCCESS || !n)
        return dflt;
    return lyd_get_value(n);
}

static struct lyd_node *child(const struct lyd_node *op, const char *path)
{
    struct lyd_node *n = NULL;
    return lyd_find_path(op, path, 0, &n) == LY_SUCCESS ? n : NULL;
}

static enum nc_edit_op default_op(const struct lyd_node *op)
{
    const char *v = param(op, "default-operation", "merge");
    return !strcmp(v, "replace") ? NC_OP_REPLACE : !strcmp(v, "none") ? NC_OP_NONE : NC_OP_MERGE;
}

static int dup_tree(nc_rpc *rpc, const struct lyd_node *t, struct lyd_node **out)
{
    *out = NULL;
    if (lyd_dup_siblings(t, NULL, NC_DUP, out) == LY_SUCCESS)
        return 0;
    nc_rpc_err(rpc, "application", "operation-failed", "out of memory");
    return MM_ENOMEM;
}

/* Commit work as the new content of ds after the checks every write needs. */
static int store(nc_rpc *rpc, enum nc_ds ds, struct lyd_node *work, bool validate)
{
    mm_nc_server *srv = rpc->s->srv;
    if ((validate && nc_ds_validate(rpc, &work) < 0) ||
        !nc_ds_write_check(rpc, ds, srv->ds[ds].tree, work)) {
        lyd_free_all(work);
        return MM_EINVAL;
    }
    return nc_ds_replace(rpc, ds, work);
}

typedef struct edit_req {
    enum nc_ds ds;
    enum nc_edit_op dflt;
    const char *test;  /* test-then-set | set | test-only */
    const char *error; /* stop-on-error | continue-on-error | rollback-on-error */
    const struct lyd_node *content;
} edit_req;

static int edit_run(nc_rpc *rpc, const edit_req *r)
{
    mm_nc_server *srv = rpc->s->srv;
    if (!nc_ds_writable_by(rpc, r->ds))
        return MM_EPERM;
    struct lyd_node *edit = NULL, *work = NULL;
    MM_GUARD(nc_edit_parse(rpc, r->content, &edit, true));
    int rc = dup_tree(rpc, srv->ds[r->ds].tree, &work);
    nc_edit e = {.rpc = rpc, .dflt = r->dflt,
                 .continue_on_error = !strcmp(r->error, "continue-on-error")};
    if (rc == 0)
        rc = nc_edit_apply(&e, edit, &work);
    lyd_free_all(edit);
    bool all_failed = e.errors > 0 && !e.continue_on_error;
    if (rc < 0 || all_failed || !strcmp(r->test, "test-only")) {
        if (rc == 0 && !all_failed && nc_ds_validate(rpc, &work) == 0)
            nc_ds_write_check(rpc, r->ds, srv->ds[r->ds].tree, work);
        lyd_free_all(work);
        return rc;
    }
    bool validate = r->ds != NC_DS_CANDIDATE || strcmp(r->test, "set") != 0;
    return store(rpc, r->ds, work, validate);
}

static bool target_ok(nc_rpc *rpc, enum nc_ds *ds)
{
    int rc = nc_ds_parse_target(rpc->op, "target", ds);
    if (rc == 0 && *ds < NC_DS_COUNT)
        return true;
    nc_err e = {.type = "protocol", .tag = rc == MM_EUNSUPPORTED ? "operation-not-supported"
                                                                  : "invalid-value",
                .message = "unsupported datastore", .bad_elem = "target"};
    nc_rpc_error(rpc, &e);
    return false;
}

int nc_op_edit_config(nc_rpc *rpc)
{
    edit_req r = {.dflt = default_op(rpc->op),
                  .test = param(rpc->op, "test-option", "test-then-set"),
                  .error = param(rpc->op, "error-option", "stop-on-error"),
                  .content = child(rpc->op, "config")};
    if (!target_ok(rpc, &r.ds))
        return 0;
    if (!r.content) {
        nc_err e = {.type = "protocol", .tag = "operation-not-supported", .bad_elem = "url"};
        nc_rpc_error(rpc, &e);
        return 0;
    }
    edit_run(rpc, &r);
    return 0;
}

int nc_op_edit_data(nc_rpc *rpc)
{
    edit_req r = {.dflt = default_op(rpc->op), .test = "test-then-set", .error = "stop-on-error",
                  .content = child(rpc->op, "config")};
    int rc = nc_ds_from_identity(param(rpc->op, "datastore", ""), &r.ds);
    if (rc < 0 || r.ds >= NC_DS_COUNT) {
        nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "datastore",
                    .message = "the datastore is not writable"};
        nc_rpc_error(rpc, &e);
        return 0;
    }
    if (!r.content) {
        nc_err e = {.type = "protocol", .tag = "operation-not-supported", .bad_elem = "url"};
        nc_rpc_error(rpc, &e);
        return 0;
    }
    edit_run(rpc, &r);
    return 0;
}

/* A source that is a datastore or inline <config>; a validated copy in *out. */
static int source_tree(nc_rpc *rpc, struct lyd_node **out, enum nc_ds *src)
{
    *src = NC_DS_COUNT;
    struct lyd_node *cfg = child(rpc->op, "source/config");
    if (cfg) {
        MM_GUARD(nc_edit_parse(rpc, cfg, out, true));
        return nc_ds_validate(rpc, out);
    }
    int rc = nc_ds_parse_target(rpc->op, "source", src);
    if (rc < 0 || *src >= NC_DS_COUNT) {
        nc_err e = {.type = "protocol", .tag = "operation-not-supported", .bad_elem = "source",
                    .message = "unsupported source"};
        nc_rpc_error(rpc, &e);
        return MM_EUNSUPPORTED;
    }
    return dup_tree(rpc, rpc->s->srv->ds[*src].tree, out);
}

int nc_op_copy_config(nc_rpc *rpc)
{
    enum nc_ds dst = NC_DS_COUNT, src;
    if (!target_ok(rpc, &dst))
        return 0;
    struct lyd_node *work = NULL;
    if (source_tree(rpc, &work, &src) < 0)
        return 0;
    if (src == dst) {
        lyd_free_all(work);
        nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "target",
                    .message = "source and target are the same datastore"};
        nc_rpc_error(rpc, &e);
        return 0;
    }
    if (!nc_ds_writable_by(rpc, dst)) {
        lyd_free_all(work);
        return 0;
    }
    store(rpc, dst, work, false);
    return 0;
}

int nc_op_delete_config(nc_rpc *rpc)
{
    enum nc_ds ds = NC_DS_COUNT;
    if (!target_ok(rpc, &ds))
        return 0;
    if (ds != NC_DS_STARTUP) {
        nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "target",
                    .message = "only startup can be deleted"};
        nc_rpc_error(rpc, &e);
        return 0;
    }
    if (nc_ds_writable_by(rpc, ds))
        store(rpc, ds, NULL, true);
    return 0;
}

int nc_op_validate(nc_rpc *rpc)
{
    struct lyd_node *work = NULL;
    enum nc_ds src;
    if (source_tree(rpc, &work, &src) == 0 && src < NC_DS_COUNT)
        nc_ds_validate(rpc, &work);
    lyd_free_all(work);
    return 0;
}
