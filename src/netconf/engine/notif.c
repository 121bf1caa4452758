/*
 * notif.c - RFC 5277 event notifications on the NETCONF stream with a
 * bounded replay log, and the RFC 6470 base events. Each subscription's
 * notifications go on their own transport channel when the transport
 * offers one (QUIC uni streams), else inline on the session.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "nc_internal.h"

int nc_notif_init(mm_nc_server *srv, uint32_t max)
{
    srv->replay.ev = calloc(max, sizeof(nc_event));
    MM_ENSURE(srv->replay.ev, MM_ENOMEM);
    srv->replay.cap = max;
    srv->replay.created_us = nc_now_us();
    return 0;
}

void nc_notif_free(mm_nc_server *srv)
{
    nc_replay *r = &srv->replay;
    for (uint32_t i = 0; r->ev && i < r->count; i++) {
        lyd_free_all(r->ev[(r->head + i) % r->cap].notif);
        lyd_free_all(r->ev[(r->head + i) % r->cap].diff);
    }
    free(r->ev);
    memset(r, 0, sizeof(*r));
}

static const nc_event *replay_at(const nc_replay *r, uint32_t i)
{
    return &r->ev[(r->head + i) % r->cap];
}

static void replay_push(nc_replay *r, int64_t t, struct lyd_node *notif, struct lyd_node *diff)
{
    if (r->count == r->cap) { /* full: age out the oldest */
        lyd_free_all(r->ev[r->head].notif);
        lyd_free_all(r->ev[r->head].diff);
        r->head = (r->head + 1) % r->cap;
        r->count--;
        r->head_seq++;
    }
    nc_event *e = &r->ev[(r->head + r->count) % r->cap];
    e->time_us = t;
    e->notif = notif;
    e->diff = diff;
    r->count++;
}

/* ------------------------------------------------------------ delivery */

static bool selected(const nc_sub *sub, const struct lyd_node *notif)
{
    if (sub->xpath) {
        struct ly_set *set = NULL;
        bool hit = lyd_find_xpath(notif, sub->xpath, &set) == LY_SUCCESS && set->count > 0;
        ly_set_free(set, NULL);
        return hit;
    }
    if (!sub->has_filter)
        return true;
    struct lyd_node *out = NULL;
    nc_filter_subtree(sub->filter, notif, &out);
    bool hit = out != NULL;
    lyd_free_all(out);
    return hit;
}

static void send_notif(mm_nc_session *s, int64_t t, const struct lyd_node *notif)
{
    char ts[64], *xml = NULL;
    nc_time_format(t, ts, sizeof(ts));
    if (lyd_print_mem(&xml, notif, LYD_XML, LYD_PRINT_SHRINK) != LY_SUCCESS)
        return;
    mm_buf b;
    mm_buf_init(&b, s->srv->max_message);
    int rc = mm_buf_printf(&b, "<notification xmlns=\"%s\"><eventTime>%s</eventTime>%s"
                           "</notification>", NC_NS_NOTIF, ts, xml);
    free(xml);
    /* The subscriber's backlog bounds what is queued (notif_backlog.c). */
    if (rc == 0 && !nc_backlog_admit(s, b.len)) {
        mm_buf_free(&b);
        return;
    }
    s->cnt.out_notifications++;
    s->srv->stats.out_notifications++;
    if (rc == 0 && !s->sub.chan) {
        nc_session_send(s, (const char *)b.data, b.len);
    } else if (rc == 0) {
        mm_buf framed;
        mm_buf_init(&framed, b.len + 64);
        enum mm_nc_framing fr = s->base11 ? MM_NC_FRAMING_CHUNKED : MM_NC_FRAMING_EOM;
        if (mm_nc_frame(fr, (const char *)b.data, b.len, &framed) == 0 &&
            s->ops->notif_send(s->io, s->sub.chan, framed.data, framed.len) == 0)
            nc_backlog_note(s);
        mm_buf_free(&framed);
    }
    mm_buf_free(&b);
}

/*
 * The notification as this subscriber may see it (RFC 8341 section 3.4.6,
 * RFC 6470 netconf-config-change): the edits are rebuilt from the change
 * set pruned to what the user may read. 0 with *own NULL: send ev->notif
 * as it is; 0 with *own set: send that; negative: send nothing.
 */
static int subscriber_view(const mm_nacm_req *req, const nc_event *ev, struct lyd_node **own)
{
    *own = NULL;
    if (!ev->diff)
        return 0;
    struct lyd_node *view = NULL;
    int rc = mm_nacm_read_view(req, ev->diff, &view);
    if (rc <= 0)
        return rc;
    struct lyd_node *n = NULL;
    if (lyd_dup_single(ev->notif, NULL, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS, &n) !=
        LY_SUCCESS) {
        lyd_free_all(view);
        return MM_ENOMEM;
    }
    struct lyd_node *c = lyd_child(n);
    while (c) {
        struct lyd_node *next = c->next;
        if (!strcmp(LYD_NAME(c), "edit"))
            lyd_free_tree(c);
        c = next;
    }
    nc_notif_add_edits(n, view);
    lyd_free_all(view);
    *own = n;
    return 0;
}

/*
 * NACM first, then the subscription's filter on what is left, so a filter
 * never matches content the subscriber may not read (RFC 8341 3.4.5).
 */
static void deliver(mm_nc_session *s, const nc_event *ev)
{
    if (s->sub.has_stop && ev->time_us > s->sub.stop_us)
        return;
    /* Being ended for its backlog: no work, and no audit record of a
     * notification that will not be sent. */
    if (s->backlog.overflow)
        return;
    mm_nacm_req req = nc_nacm_req(s);
    if (!mm_nacm_notification_allowed(&req, ev->notif))
        return;
    struct lyd_node *own = NULL;
    if (subscriber_view(&req, ev, &own) < 0) {
        mm_log_error("nc-notif", "session=%u error=\"out of memory\" result=not-sent", s->id);
        return;
    }
    const struct lyd_node *n = own ? own : ev->notif;
    if (selected(&s->sub, n))
        send_notif(s, ev->time_us, n);
    lyd_free_all(own);
}

/* replayComplete / notificationComplete: always delivered (RFC 8341 3.4.7). */
static void send_marker(mm_nc_session *s, const char *name)
{
    struct lyd_node *n = NULL;
    const struct lys_module *mod = ly_ctx_get_module_implemented(s->srv->ctx, "nc-notifications");
    if (mod && lyd_new_inner(NULL, mod, name, 0, &n) == LY_SUCCESS)
        send_notif(s, nc_now_us(), n);
    lyd_free_all(n);
}

void nc_notif_emit(mm_nc_server *srv, struct lyd_node *notif)
{
    nc_notif_emit_diff(srv, notif, NULL);
}

void nc_notif_emit_diff(mm_nc_server *srv, struct lyd_node *notif, struct lyd_node *diff)
{
    if (!notif) {
        lyd_free_all(diff);
        return;
    }
    replay_push(&srv->replay, nc_now_us(), notif, diff);
    const nc_event *ev = replay_at(&srv->replay, srv->replay.count - 1);
    mm_nc_session *s = srv->sessions;
    while (s) {
        mm_nc_session *next = s->next; /* a failed send may end s */
        /* A replaying subscriber gets this event from the log, after the older ones. */
        if (s->sub.active && !s->doomed && !s->sub.replaying)
            deliver(s, ev);
        s = next;
    }
}

void nc_notif_sub_end(mm_nc_session *s, bool complete)
{
    nc_sub *sub = &s->sub;
    if (!sub->active)
        return;
    if (complete)
        send_marker(s, "notificationComplete");
    if (sub->stop_timer)
        event_free(sub->stop_timer);
    if (sub->replay_timer)
        event_free(sub->replay_timer);
    lyd_free_all(sub->filter);
    free(sub->xpath);
    if (sub->chan && !s->lost)
        s->ops->notif_close(s->io, sub->chan);
    memset(sub, 0, sizeof(*sub));
}

/*
 * Replay (RFC 5277 section 3) at the subscriber's pace: the whole log could
 * be far more than the session's output cap, and is produced faster than
 * any peer reads. Events go out while the queue is under half the cap;
 * then the replay waits (a short timer re-checks) and goes on once the
 * subscriber has read. Events that happen meanwhile are in the log too,
 * behind the cursor: replayComplete goes out after the events logged before
 * the subscription, then the later ones follow from the log at the same
 * pace until the cursor reaches the end, and delivery is live again. The
 * stream stays in order throughout. A subscriber so slow that the log ages out the
 * events it has not had yet cannot get its stream complete: it is ended as
 * for a backlog overflow (notif_backlog.c).
 */
#define REPLAY_RETRY_MS 20

static void replay_run(mm_nc_session *s);

static void replay_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mm_nc_session *s = arg;
    nc_session_hold(s);
    replay_run(s);
    nc_session_release(s);
}

static void replay_run(mm_nc_session *s)
{
    nc_sub *sub = &s->sub;
    const nc_replay *r = &s->srv->replay;
    while (sub->replaying && !s->doomed) {
        if (sub->replay_next < r->head_seq) {
            mm_log_warn("nc-notif-replay", "session=%u result=aged-out missed=%llu", s->id,
                        (unsigned long long)(r->head_seq - sub->replay_next));
            sub->replaying = false;
            nc_backlog_fail(s);
            return;
        }
        if (!sub->replay_done && sub->replay_next >= sub->replay_end) {
            sub->replay_done = true;
            send_marker(s, "replayComplete");
            if (!s->doomed && sub->has_stop && sub->stop_us <= nc_now_us())
                nc_notif_sub_end(s, true);
            continue;
        }
        if (sub->replay_next >= r->head_seq + r->count) {
            sub->replaying = false; /* caught up: live delivery from here */
            return;
        }
        if (nc_backlog_busy(s)) {
            struct timeval tv = {0, REPLAY_RETRY_MS * 1000};
            if (!sub->replay_timer)
                sub->replay_timer = event_new(s->srv->base, -1, 0, replay_cb, s);
            if (sub->replay_timer && event_add(sub->replay_timer, &tv) == 0)
                return;
            nc_backlog_fail(s); /* cannot wait: ending beats an unbounded queue */
            return;
        }
        const nc_event *ev = replay_at(r, (uint32_t)(sub->replay_next++ - r->head_seq));
        if (sub->replay_done || ev->time_us >= sub->start_us)
            deliver(s, ev);
    }
}

/* After the <ok/> of create-subscription: replay, then the markers. */
void nc_notif_after_reply(mm_nc_session *s)
{
    nc_sub *sub = &s->sub;
    if (!sub->active || !sub->has_start)
        return;
    sub->replaying = true;
    sub->replay_next = s->srv->replay.head_seq;
    sub->replay_end = s->srv->replay.head_seq + s->srv->replay.count;
    replay_run(s);
}

int nc_notif_streams(mm_nc_server *srv, struct lyd_node **tree)
{
    char ts[64];
    nc_time_format(srv->replay.created_us, ts, sizeof(ts));
    static const char *const base = "/nc-notifications:netconf/streams/stream[name='NETCONF']";
    char p[160];
    struct lyd_node *t = NULL;
    snprintf(p, sizeof(p), "%s/description", base);
    MM_ENSURE(lyd_new_path(NULL, srv->ctx, p, "default NETCONF event stream", 0, &t) ==
                  LY_SUCCESS, MM_EINVAL);
    snprintf(p, sizeof(p), "%s/replaySupport", base);
    lyd_new_path(t, NULL, p, "true", 0, NULL);
    snprintf(p, sizeof(p), "%s/replayLogCreationTime", base);
    lyd_new_path(t, NULL, p, ts, 0, NULL);
    *tree = t;
    return 0;
}
