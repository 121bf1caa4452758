/*
 * ds_write.c - changing a datastore: lock checks, NACM write checks on the
 * diff of before/after, validation, persistence before acknowledgement.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "nc_internal.h"

int nc_ds_set(mm_nc_server *srv, mm_nc_session *s, enum nc_ds ds, struct lyd_node *tree)
{
    nc_datastore *d = &srv->ds[ds];
    struct lyd_node *old = d->tree, *diff = NULL;
    bool diff_ok = lyd_diff_siblings(old, tree, 0, &diff) == LY_SUCCESS;
    if (!diff_ok)
        diff = NULL;
    d->tree = tree;
    int rc = nc_ds_persist(srv, ds);
    if (rc < 0) {
        d->tree = old; /* not durable: not acknowledged, not applied */
        lyd_free_all(tree);
        lyd_free_all(diff);
        return rc;
    }
    lyd_free_all(old);
    /* Only a real change makes the candidate dirty (a lock then needs a commit
     * or discard first); an edit that changed nothing, e.g. a remove of an
     * absent node, does not. Unknown (no diff): assume changed. */
    if (ds == NC_DS_CANDIDATE && (diff || !diff_ok))
        d->modified = true;
    if (diff && ds != NC_DS_CANDIDATE)
        nc_notif_config_change(srv, s, ds, diff);
    lyd_free_all(diff);
    if (ds == NC_DS_RUNNING) {
        srv->content_id++;
        nc_server_running_changed(srv);
    }
    return 0;
}

int nc_ds_replace(nc_rpc *rpc, enum nc_ds ds, struct lyd_node *tree)
{
    mm_nc_server *srv = rpc->s->srv;
    char path[256] = "", msg[256] = "";
    if (ds == NC_DS_RUNNING && srv->check_cb &&
        srv->check_cb(tree, path, sizeof(path), msg, sizeof(msg), srv->check_arg) < 0) {
        /* The server refuses a running it could not work with (issue 10 #5). */
        nc_err e = {.type = "application", .tag = "operation-failed", .path = path,
                    .message = msg};
        nc_rpc_error(rpc, &e);
        lyd_free_all(tree);
        return MM_EPERM;
    }
    /* The audit records of the change are durable before it is applied, or
     * it is not applied (mamori's audit rule; issue 10 item 9). */
    if (nc_audit_commit(srv) < 0) {
        lyd_free_all(tree);
        nc_rpc_err(rpc, "application", "operation-failed",
                   "the audit record of this change could not be written");
        return MM_EIO;
    }
    int rc = nc_ds_set(srv, rpc->s, ds, tree);
    if (rc < 0)
        nc_rpc_err(rpc, "application", "operation-failed", "the datastore could not be stored");
    return rc;
}

const char *nc_diff_op(const struct lyd_node *n, const char *inherited)
{
    for (const struct lyd_meta *m = n->meta; m; m = m->next)
        if (!strcmp(m->name, "operation") && !strcmp(m->annotation->module->name, "yang"))
            return lyd_get_meta_value(m);
    return inherited;
}

static enum mm_nacm_op nacm_op(const char *op)
{
    if (!strcmp(op, "create"))
        return MM_NACM_CREATE;
    if (!strcmp(op, "delete"))
        return MM_NACM_DELETE;
    if (!strcmp(op, "replace"))
        return MM_NACM_UPDATE;
    return 0;
}

/* Check one diff subtree; the first denied node is returned. */
static const struct lyd_node *check_subtree(const mm_nacm_req *req, const struct lyd_node *n,
                                            const char *inherited)
{
    const char *op = nc_diff_op(n, inherited);
    enum mm_nacm_op a = nacm_op(op);
    if (a && !mm_nacm_write_allowed(req, n, a))
        return n;
    for (const struct lyd_node *c = lyd_child_no_keys(n); c; c = c->next) {
        const struct lyd_node *bad = check_subtree(req, c, op);
        if (bad)
            return bad;
    }
    return NULL;
}

bool nc_ds_write_check(nc_rpc *rpc, enum nc_ds ds, const struct lyd_node *before,
                       const struct lyd_node *after)
{
    struct lyd_node *diff = NULL;
    if (lyd_diff_siblings(before, after, 0, &diff) != LY_SUCCESS) {
        nc_rpc_err(rpc, "application", "operation-failed", "cannot compute the change set");
        return false;
    }
    mm_nacm_req req = nc_nacm_req(rpc->s);
    const struct lyd_node *bad = NULL;
    for (const struct lyd_node *n = diff; n && !bad; n = n->next)
        bad = check_subtree(&req, n, "none");
    if (bad) {
        nc_err e = {.type = "application", .tag = "access-denied", .path_node = bad,
                    .message = "write access denied by NACM"};
        nc_rpc_error(rpc, &e);
    }
    /* One change set for both checks: NACM, then other sessions' partial locks. */
    bool ok = bad == NULL && (ds != NC_DS_RUNNING || nc_plock_diff_ok(rpc, diff));
    lyd_free_all(diff);
    return ok;
}

bool nc_ds_writable_by(nc_rpc *rpc, enum nc_ds ds)
{
    uint32_t holder = rpc->s->srv->ds[ds].lock_sid;
    if (holder == 0 || holder == rpc->s->id)
        return true;
    char msg[96];
    snprintf(msg, sizeof(msg), "the %s datastore is locked by session %u", nc_ds_name(ds),
             holder);
    nc_err e = {.type = "protocol", .tag = "in-use", .message = msg, .session_id = holder,
                .has_session_id = true};
    nc_rpc_error(rpc, &e);
    return false;
}

void nc_ds_release_locks_one(mm_nc_server *srv, enum nc_ds ds)
{
    nc_datastore *d = &srv->ds[ds];
    d->lock_sid = 0;
    if (ds != NC_DS_CANDIDATE || !d->modified)
        return;
    /* Releasing a candidate lock discards the holder's uncommitted changes. */
    struct lyd_node *copy = NULL;
    if (lyd_dup_siblings(srv->ds[NC_DS_RUNNING].tree, NULL, NC_DUP, &copy) ==
        LY_SUCCESS) {
        lyd_free_all(d->tree);
        d->tree = copy;
        d->modified = false;
    }
}

void nc_ds_release_locks(mm_nc_server *srv, uint32_t sid)
{
    for (int i = 0; i < NC_DS_COUNT; i++)
        if (srv->ds[i].lock_sid == sid)
            nc_ds_release_locks_one(srv, (enum nc_ds)i);
}

int nc_ds_validate(nc_rpc *rpc, struct lyd_node **tree)
{
    if (lyd_validate_all(tree, rpc->s->srv->ctx, LYD_VALIDATE_NO_STATE, NULL) == LY_SUCCESS)
        return 0;
    nc_rpc_err_ly(rpc, "application", "invalid-value");
    return MM_EINVAL;
}
