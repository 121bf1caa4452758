/*
 * op_commit.c - commit, discard-changes, cancel-commit and confirmed
 * commit 1.1 (RFC 6241 sections 8.3, 8.4): the rollback runs from a timer
 * on the server's event_base, or when the issuing session ends.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include <sys/time.h>

#include <event2/event.h>

#include "nc_internal.h"

#define CONFIRM_TIMEOUT_DEFAULT 600

static const char *param(const struct lyd_node *op, const char *name)
{
    struct lyd_node *n = NULL;
    if (lyd_find_path(op, name, 0, &n) != LY_SUCCESS || !n)
        return NULL;
    return lyd_get_value(n);
}

static void confirm_clear(nc_confirm *c)
{
    if (c->timer)
        event_del(c->timer);
    lyd_free_all(c->backup);
    c->backup = NULL;
    free(c->persist);
    c->persist = NULL;
    c->pending = false;
    c->owner = 0;
}

void nc_confirm_free(mm_nc_server *srv)
{
    confirm_clear(&srv->confirm);
    if (srv->confirm.timer)
        event_free(srv->confirm.timer);
    srv->confirm.timer = NULL;
}

static void reset_candidate(mm_nc_server *srv)
{
    struct lyd_node *copy = NULL;
    if (lyd_dup_siblings(srv->ds[NC_DS_RUNNING].tree, NULL, NC_DUP, &copy))
        return;
    lyd_free_all(srv->ds[NC_DS_CANDIDATE].tree);
    srv->ds[NC_DS_CANDIDATE].tree = copy;
    srv->ds[NC_DS_CANDIDATE].modified = false;
}

/* Restore running as it was before the confirmed commit. */
static void rollback(mm_nc_server *srv, mm_nc_session *s, const char *event)
{
    nc_confirm *c = &srv->confirm;
    struct lyd_node *backup = c->backup;
    c->backup = NULL;
    confirm_clear(c);
    mm_log_info("nc-confirmed-commit", "event=%s action=rollback", event);
    nc_observe(srv, MM_NC_EV_ROLLBACK, event, "ok", s ? s->transport : NULL, 0);
    if (nc_ds_set(srv, s, NC_DS_RUNNING, backup) < 0)
        mm_log_error("nc-confirmed-commit", "event=%s error=\"rollback not stored\"", event);
    reset_candidate(srv);
    nc_notif_confirmed_commit(srv, s, event, 0);
}

static void confirm_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mm_nc_server *srv = arg;
    if (srv->confirm.pending)
        rollback(srv, NULL, "timeout");
}

void nc_confirm_session_end(mm_nc_server *srv, uint32_t sid)
{
    nc_confirm *c = &srv->confirm;
    if (c->pending && !c->persist && c->owner == sid)
        rollback(srv, nc_server_find_session(srv, sid), "cancel");
}

/* May this session confirm, extend or cancel the pending commit? */
static bool may_touch_pending(nc_rpc *rpc, const char *persist_id)
{
    nc_confirm *c = &rpc->s->srv->confirm;
    if (!c->pending) {
        if (!persist_id)
            return true;
        nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "persist-id",
                    .message = "no confirmed commit with this persist-id is pending"};
        nc_rpc_error(rpc, &e);
        return false;
    }
    if (c->persist) {
        if (persist_id && !strcmp(persist_id, c->persist))
            return true;
        nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "persist-id",
                    .message = "persist-id does not match the pending confirmed commit"};
        nc_rpc_error(rpc, &e);
        return false;
    }
    if (c->owner == rpc->s->id && !persist_id)
        return true;
    nc_rpc_err(rpc, "protocol", "in-use", "a confirmed commit of another session is pending");
    return false;
}

/*
 * (Re)arm the rollback timer to fire in seconds. When re-arming a pending
 * one, *prev gets the time it had left (to put back if the commit fails).
 */
static int arm_timer(mm_nc_server *srv, uint32_t seconds, struct timeval *prev, bool *had_prev)
{
    nc_confirm *c = &srv->confirm;
    *had_prev = false;
    if (!c->timer && !nc_fault(srv, "confirm-timer"))
        c->timer = event_new(srv->base, -1, 0, confirm_timeout, srv);
    MM_ENSURE(c->timer, MM_ENOMEM);
    struct timeval now, until;
    if (c->pending && event_pending(c->timer, EV_TIMEOUT, &until) && event_base_gettimeofday_cached(
                                                                         srv->base, &now) == 0) {
        *had_prev = true;
        timersub(&until, &now, prev);
        if (prev->tv_sec < 0)
            prev->tv_sec = prev->tv_usec = 0;
    }
    struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
    if (nc_fault(srv, "confirm-timer") || event_add(c->timer, &tv) != 0)
        return MM_ESYS;
    return 0;
}

/* Copy candidate to running after validation and NACM. */
static int apply_candidate(nc_rpc *rpc)
{
    mm_nc_server *srv = rpc->s->srv;
    if (!nc_ds_writable_by(rpc, NC_DS_RUNNING) || !nc_ds_writable_by(rpc, NC_DS_CANDIDATE))
        return MM_EPERM;
    struct lyd_node *work = NULL;
    if (lyd_dup_siblings(srv->ds[NC_DS_CANDIDATE].tree, NULL, NC_DUP, &work)) {
        nc_rpc_err(rpc, "application", "operation-failed", "out of memory");
        return MM_ENOMEM;
    }
    if (nc_ds_validate(rpc, &work) < 0 ||
        !nc_ds_write_check(rpc, NC_DS_RUNNING, srv->ds[NC_DS_RUNNING].tree, work)) {
        lyd_free_all(work);
        return MM_EINVAL;
    }
    MM_GUARD(nc_ds_replace(rpc, NC_DS_RUNNING, work));
    srv->ds[NC_DS_CANDIDATE].modified = false;
    return 0;
}

/*
 * Everything that can fail (the persist token, the rollback timer) is
 * prepared before running changes: a confirmed commit that could not roll
 * back must not be acknowledged (issue 10 item 11).
 */
static void confirmed_commit(nc_rpc *rpc, uint32_t timeout, const char *persist)
{
    mm_nc_server *srv = rpc->s->srv;
    nc_confirm *c = &srv->confirm;
    bool extend = c->pending;
    char *token = NULL;
    if (persist && (nc_fault(srv, "confirm-persist") || !(token = strdup(persist)))) {
        nc_rpc_err(rpc, "application", "operation-failed",
                   "out of memory: the persist token cannot be kept");
        return;
    }
    struct lyd_node *backup = NULL;
    if (!extend && lyd_dup_siblings(srv->ds[NC_DS_RUNNING].tree, NULL, NC_DUP, &backup)) {
        free(token);
        nc_rpc_err(rpc, "application", "operation-failed", "out of memory");
        return;
    }
    struct timeval prev;
    bool had_prev = false;
    if (arm_timer(srv, timeout, &prev, &had_prev) < 0) {
        mm_log_error("nc-confirmed-commit", "error=\"the rollback timer cannot be armed\"");
        free(token);
        lyd_free_all(backup);
        nc_rpc_err(rpc, "application", "operation-failed",
                   "the confirmed commit's rollback timer cannot be armed");
        return;
    }
    if (apply_candidate(rpc) < 0) {
        /* Nothing changed: the pending commit (if any) keeps the time it had. */
        if (!had_prev)
            event_del(c->timer);
        else if (event_add(c->timer, &prev) != 0) /* the old deadline: roll back now */
            rollback(srv, rpc->s, "timeout");
        free(token);
        lyd_free_all(backup);
        return;
    }
    if (!extend)
        c->backup = backup;
    c->pending = true;
    c->owner = rpc->s->id;
    if (token) {
        free(c->persist);
        c->persist = token;
    }
    nc_notif_confirmed_commit(srv, rpc->s, extend ? "extend" : "start", timeout);
}

int nc_op_commit(nc_rpc *rpc)
{
    const char *persist_id = param(rpc->op, "persist-id");
    if (!may_touch_pending(rpc, persist_id))
        return 0;
    struct lyd_node *confirmed = NULL;
    lyd_find_path(rpc->op, "confirmed", 0, &confirmed);
    if (confirmed) {
        const char *t = param(rpc->op, "confirm-timeout");
        uint32_t timeout = t ? (uint32_t)strtoul(t, NULL, 10) : CONFIRM_TIMEOUT_DEFAULT;
        confirmed_commit(rpc, timeout, param(rpc->op, "persist"));
        return 0;
    }
    bool was_pending = rpc->s->srv->confirm.pending;
    if (apply_candidate(rpc) < 0 || !was_pending)
        return 0;
    confirm_clear(&rpc->s->srv->confirm);
    nc_notif_confirmed_commit(rpc->s->srv, rpc->s, "complete", 0);
    return 0;
}

int nc_op_cancel_commit(nc_rpc *rpc)
{
    if (!rpc->s->srv->confirm.pending) {
        nc_rpc_err(rpc, "protocol", "operation-failed", "no confirmed commit is pending");
        return 0;
    }
    if (may_touch_pending(rpc, param(rpc->op, "persist-id")))
        rollback(rpc->s->srv, rpc->s, "cancel");
    return 0;
}

int nc_op_discard_changes(nc_rpc *rpc)
{
    if (nc_ds_writable_by(rpc, NC_DS_CANDIDATE))
        reset_candidate(rpc->s->srv);
    return 0;
}
