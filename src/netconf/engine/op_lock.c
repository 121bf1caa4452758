/*
 * op_lock.c - lock and unlock (RFC 6241 sections 7.5, 7.6).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>

#include "nc_internal.h"

static bool lock_target(nc_rpc *rpc, enum nc_ds *ds)
{
    int rc = nc_ds_parse_target(rpc->op, "target", ds);
    if (rc == 0 && *ds < NC_DS_COUNT)
        return true;
    nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "target",
                .message = "unsupported datastore"};
    nc_rpc_error(rpc, &e);
    return false;
}

void nc_lock_denied(nc_rpc *rpc, uint32_t holder, const char *msg)
{
    nc_err e = {.type = "protocol", .tag = "lock-denied", .message = msg, .session_id = holder,
                .has_session_id = true};
    nc_rpc_error(rpc, &e);
}

int nc_op_lock(nc_rpc *rpc)
{
    enum nc_ds ds;
    if (!lock_target(rpc, &ds))
        return 0;
    nc_datastore *d = &rpc->s->srv->ds[ds];
    if (d->lock_sid) {
        nc_lock_denied(rpc, d->lock_sid, "the datastore is already locked");
        return 0;
    }
    uint32_t partial = 0;
    if (ds == NC_DS_RUNNING && nc_plock_held_by_other(rpc->s->srv, rpc->s->id, &partial)) {
        /* RFC 5717 2.5: no global lock while another session holds a partial one. */
        nc_lock_denied(rpc, partial, "parts of running are locked by another session");
        return 0;
    }
    if (ds == NC_DS_CANDIDATE && d->modified) {
        /* RFC 6241 7.5: candidate modified and neither committed nor discarded. */
        nc_lock_denied(rpc, 0, "the candidate has uncommitted changes");
        return 0;
    }
    d->lock_sid = rpc->s->id;
    d->lock_time = time(NULL);
    return 0;
}

int nc_op_unlock(nc_rpc *rpc)
{
    enum nc_ds ds;
    if (!lock_target(rpc, &ds))
        return 0;
    nc_datastore *d = &rpc->s->srv->ds[ds];
    if (d->lock_sid != rpc->s->id) {
        nc_err e = {.type = "protocol", .tag = "operation-failed",
                    .message = d->lock_sid ? "the lock is held by another session"
                                           : "the datastore is not locked",
                    .session_id = d->lock_sid, .has_session_id = d->lock_sid != 0};
        nc_rpc_error(rpc, &e);
        return 0;
    }
    /* Unlocking discards the candidate's uncommitted changes, as at session end. */
    nc_ds_release_locks_one(rpc->s->srv, ds);
    return 0;
}
