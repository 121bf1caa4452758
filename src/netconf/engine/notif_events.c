/*
 * notif_events.c - <create-subscription> (RFC 5277 section 2.1) and the
 * base event notifications of RFC 6470 (ietf-netconf-notifications).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "nc_internal.h"

static struct lyd_node *find(const struct lyd_node *op, const char *path)
{
    struct lyd_node *n = NULL;
    return lyd_find_path(op, path, 0, &n) == LY_SUCCESS ? n : NULL;
}

static int sub_times(nc_rpc *rpc, nc_sub *sub)
{
    struct lyd_node *start = find(rpc->op, "startTime"), *stop = find(rpc->op, "stopTime");
    nc_err e = {.type = "protocol"};
    if (stop && !start) {
        e.tag = "missing-element";
        e.bad_elem = "startTime";
        e.message = "stopTime requires startTime";
    } else if (start && nc_time_parse(lyd_get_value(start), &sub->start_us) == 0 &&
               sub->start_us > nc_now_us()) {
        e.tag = "bad-element";
        e.bad_elem = "startTime";
        e.message = "startTime is in the future";
    } else if (stop && nc_time_parse(lyd_get_value(stop), &sub->stop_us) == 0 &&
               sub->stop_us < sub->start_us) {
        e.tag = "bad-element";
        e.bad_elem = "stopTime";
        e.message = "stopTime is earlier than startTime";
    }
    if (e.tag) {
        nc_rpc_error(rpc, &e);
        return MM_EINVAL;
    }
    sub->has_start = start != NULL;
    sub->has_stop = stop != NULL;
    return 0;
}

static int sub_filter(nc_rpc *rpc, nc_sub *sub)
{
    struct lyd_node *f = find(rpc->op, "filter");
    if (!f)
        return 0;
    const char *type = NULL, *select = NULL;
    for (const struct lyd_meta *m = f->meta; m; m = m->next) {
        type = !strcmp(m->name, "type") ? lyd_get_meta_value(m) : type;
        select = !strcmp(m->name, "select") ? lyd_get_meta_value(m) : select;
    }
    if (type && !strcmp(type, "xpath")) {
        sub->xpath = strdup(select ? select : "/..");
        return sub->xpath ? 0 : MM_ENOMEM;
    }
    const struct lyd_node_any *any = (const struct lyd_node_any *)f;
    sub->has_filter = true;
    if (any->value_type != LYD_ANYDATA_DATATREE || !any->value.tree)
        return 0;
    return lyd_dup_siblings(any->value.tree, NULL, LYD_DUP_RECURSIVE, &sub->filter) ? MM_ENOMEM
                                                                                   : 0;
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mm_nc_session *s = arg;
    /* notificationComplete may fail to send and end s: not under our feet. */
    nc_session_hold(s);
    nc_notif_sub_end(s, true);
    nc_session_release(s);
}

static int arm_stop(mm_nc_session *s)
{
    int64_t left = s->sub.stop_us - nc_now_us();
    if (!s->sub.has_stop || left <= 0)
        return 0;
    s->sub.stop_timer = event_new(s->srv->base, -1, 0, stop_cb, s);
    MM_ENSURE(s->sub.stop_timer, MM_ENOMEM);
    struct timeval tv = {.tv_sec = left / 1000000, .tv_usec = left % 1000000};
    return event_add(s->sub.stop_timer, &tv) == 0 ? 0 : MM_ESYS;
}

int nc_op_create_subscription(nc_rpc *rpc)
{
    mm_nc_session *s = rpc->s;
    if (s->sub.active) {
        nc_err e = {.type = "protocol", .tag = "in-use", .app_tag = "resource-in-use",
                    .message = "a subscription is already active on this session"};
        nc_rpc_error(rpc, &e);
        return 0;
    }
    struct lyd_node *stream = find(rpc->op, "stream");
    if (stream && strcmp(lyd_get_value(stream), "NETCONF")) {
        nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "stream",
                    .message = "no such stream"};
        nc_rpc_error(rpc, &e);
        return 0;
    }
    nc_sub sub = {0};
    if (sub_times(rpc, &sub) < 0)
        return 0;
    s->sub = sub;
    s->sub.active = true;
    if (sub_filter(rpc, &s->sub) < 0 || arm_stop(s) < 0 || nc_backlog_prepare(s) < 0 ||
        (s->ops->notif_open && !(s->sub.chan = s->ops->notif_open(s->io)))) {
        nc_notif_sub_end(s, false);
        nc_rpc_err(rpc, "protocol", "resource-denied", "cannot start the subscription");
        return 0;
    }
    rpc->after_sub = true;
    return 0;
}

/* ------------------------------------------------------------ RFC 6470 events */

static const struct lys_module *nn_mod(mm_nc_server *srv)
{
    return ly_ctx_get_module_implemented(srv->ctx, "ietf-netconf-notifications");
}

static struct lyd_node *event_new_named(mm_nc_server *srv, const char *name)
{
    struct lyd_node *n = NULL;
    const struct lys_module *mod = nn_mod(srv);
    if (!mod || lyd_new_inner(NULL, mod, name, 0, &n) != LY_SUCCESS)
        return NULL;
    return n;
}

static void term(struct lyd_node *parent, const char *name, const char *value)
{
    if (parent)
        lyd_new_term(parent, NULL, name, value, 0, NULL);
}

/* username, session-id, source-host (common-session-parms). */
static void session_parms(struct lyd_node *n, const mm_nc_session *s)
{
    char id[16];
    snprintf(id, sizeof(id), "%u", s ? s->id : 0);
    term(n, "username", s ? s->username : "");
    term(n, "session-id", id);
    if (s && s->peer[0])
        lyd_new_term(n, NULL, "source-host", s->peer, 0, NULL); /* only if an IP */
}

void nc_notif_session_start(mm_nc_session *s)
{
    struct lyd_node *n = event_new_named(s->srv, "netconf-session-start");
    session_parms(n, s);
    nc_notif_emit(s->srv, n);
}

void nc_notif_session_end(mm_nc_session *s)
{
    static const char *const reasons[] = {"closed", "killed", "dropped", "bad-hello", "other"};
    struct lyd_node *n = event_new_named(s->srv, "netconf-session-end");
    session_parms(n, s);
    if (s->end_reason == NC_END_KILLED) {
        char id[16];
        snprintf(id, sizeof(id), "%u", s->killed_by);
        term(n, "killed-by", id);
    }
    term(n, "termination-reason", reasons[s->end_reason]);
    nc_notif_emit(s->srv, n);
}

void nc_notif_add_edits(struct lyd_node *n, const struct lyd_node *diff)
{
    for (const struct lyd_node *d = diff; d; d = d->next) {
        const char *op = "none";
        for (const struct lyd_meta *m = d->meta; m; m = m->next)
            if (!strcmp(m->name, "operation"))
                op = lyd_get_meta_value(m);
        if (!strcmp(op, "none")) {
            nc_notif_add_edits(n, lyd_child_no_keys(d));
            continue;
        }
        struct lyd_node *edit = NULL;
        char *path = lyd_path(d, LYD_PATH_STD, NULL, 0);
        if (path && lyd_new_list(n, NULL, "edit", 0, &edit) == LY_SUCCESS) {
            term(edit, "target", path);
            term(edit, "operation", op);
        }
        free(path);
    }
}

void nc_notif_config_change(mm_nc_server *srv, const mm_nc_session *s, enum nc_ds ds,
                            const struct lyd_node *diff)
{
    struct lyd_node *n = event_new_named(srv, "netconf-config-change"), *by = NULL;
    if (!n)
        return;
    if (lyd_new_inner(n, NULL, "changed-by", 0, &by) == LY_SUCCESS) {
        if (s)
            session_parms(by, s);
        else
            term(by, "server", NULL);
    }
    term(n, "datastore", ds == NC_DS_STARTUP ? "startup" : "running");
    nc_notif_add_edits(n, diff);
    /* Kept with the event: each subscriber gets the edits it may read (notif.c). */
    struct lyd_node *copy = NULL;
    if (diff && lyd_dup_siblings(diff, NULL, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS, &copy) !=
                    LY_SUCCESS) {
        /* Without the change set no subscriber's view can be made: send no edits. */
        mm_log_error("nc-notif", "event=netconf-config-change error=\"out of memory\"");
        lyd_free_all(n);
        return;
    }
    nc_notif_emit_diff(srv, n, copy);
}

void nc_notif_confirmed_commit(mm_nc_server *srv, const mm_nc_session *s, const char *event,
                               uint32_t timeout)
{
    struct lyd_node *n = event_new_named(srv, "netconf-confirmed-commit");
    if (!n)
        return;
    if (strcmp(event, "timeout"))
        session_parms(n, s);
    term(n, "confirm-event", event);
    if (timeout) {
        char t[16];
        snprintf(t, sizeof(t), "%u", timeout);
        term(n, "timeout", t);
    }
    nc_notif_emit(srv, n);
}
