/*
 * notif_backlog.c - a subscriber that does not read must not grow our
 * memory (issue 10 #4, the notification side).
 *
 * Replies are bounded by the transports: they stop reading a session whose
 * unsent output is over its cap (--max-queue). Notifications are caused by
 * other sessions' events, so pausing the subscriber's input bounds nothing;
 * the engine bounds them here, before anything is queued:
 *
 *  - backlog under the cap: queue the notification;
 *  - over the cap: queue it, and a grace period starts (notif_grace_ms): a
 *    subscriber that is only slow for a moment catches up, and once its
 *    backlog is under the cap again nothing happens;
 *  - still over the cap when the grace ends, or MM_NC_NOTIF_BACKLOG_FACTOR
 *    times the cap at any moment: the session is ended. Its queued output
 *    is dropped (ops->abort: a peer that does not read would never take it),
 *    an audit record is written first (a denial, so durable), and the other
 *    subscribers see netconf-session-end with termination-reason "other"
 *    (RFC 6470).
 *
 * Why end the session rather than skip notifications: an RFC 5277
 * subscription is the event stream in order (section 2.2) and RFC 5277 has
 * no message that says events were left out; the only ends of a
 * subscription it defines are stopTime and the end of the session (section
 * 2.3). Thinning the stream silently would give the subscriber a wrong view
 * of the device; ending the session tells it, and a new create-subscription
 * with startTime set to the last eventTime it received (replay, section 3)
 * recovers what it missed, as far as the replay log reaches. An RFC 8639
 * subscription could instead be suspended (subscription-suspended, reason
 * insufficient-resources) and resumed; mamori serves RFC 5277 subscriptions
 * only, so this is the one rule.
 *
 * Memory per session: at most FACTOR x cap plus one notification, for at
 * most the grace period. The end runs from the event loop (the timer below,
 * armed with 0 for "now"), never under the caller: delivery loops over
 * sessions and the stopTime path still use the session after a send.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>

#include <event2/event.h>

#include "nc_internal.h"

static size_t backlog_of(const mm_nc_session *s, size_t *cap)
{
    *cap = 0;
    return s->ops->queued ? s->ops->queued(s->io, cap) : 0;
}

void nc_backlog_note(mm_nc_session *s)
{
    size_t cap;
    size_t q = backlog_of(s, &cap);
    if (q > s->backlog.peak)
        s->backlog.peak = q;
    if (q > s->srv->session_queued_max)
        s->srv->session_queued_max = q;
}

/* The audit record comes first; the end happens even if it cannot be written:
 * keeping the session would let its backlog grow without bound. */
static void overflow_end(mm_nc_session *s, size_t q, size_t cap)
{
    char sid[16], why[200];
    snprintf(sid, sizeof(sid), "%u", s->id);
    snprintf(why, sizeof(why),
             "notification backlog %zu bytes over the session cap %zu (peak %zu): session "
             "closed (RFC 5277 section 2.3)",
             q, cap, s->backlog.peak);
    mm_audit_record rec = {.module = "netconf", .subject = s->username,
                           .action = "session-end", .object = "notification-stream",
                           .permit = false, .reason = why, .session = sid};
    int rc = mm_audit_write(s->srv->audit, &rec);
    if (rc < 0)
        mm_log_error("nc-audit", "session=%u error=\"%s\" result=overflow-record-failed", s->id,
                     mm_strerror(rc));
    mm_log_warn("nc-notif-overflow", "session=%u user=%s transport=%s queued=%zu cap=%zu peak=%zu "
                "action=close", s->id, s->username, s->transport, q, cap, s->backlog.peak);
    s->srv->notif_overflows++;
    s->abort_output = true;
    nc_session_end(s, NC_END_OTHER, 0);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mm_nc_session *s = arg;
    nc_backlog *b = &s->backlog;
    size_t cap;
    size_t q = backlog_of(s, &cap);
    if (b->overflow || (b->over && cap && q > cap)) {
        overflow_end(s, q, cap); /* frees s */
        return;
    }
    b->over = false;
    mm_log_info("nc-notif-backlog", "session=%u queued=%zu cap=%zu result=caught-up", s->id, q,
                cap);
}

static void arm(mm_nc_session *s, uint32_t ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    /* The timer exists since create-subscription (nc_backlog_prepare). */
    if (s->backlog.timer)
        evtimer_add(s->backlog.timer, &tv);
}

int nc_backlog_prepare(mm_nc_session *s)
{
    if (!s->backlog.timer)
        s->backlog.timer = evtimer_new(s->srv->base, on_timer, s);
    return s->backlog.timer ? 0 : MM_ENOMEM;
}

bool nc_backlog_busy(const mm_nc_session *s)
{
    size_t cap;
    size_t q = backlog_of(s, &cap);
    return cap && q >= cap / 2;
}

void nc_backlog_fail(mm_nc_session *s)
{
    s->backlog.overflow = true;
    arm(s, 0);
}

bool nc_backlog_admit(mm_nc_session *s, size_t len)
{
    nc_backlog *b = &s->backlog;
    if (b->overflow)
        return false;
    size_t cap;
    size_t q = backlog_of(s, &cap);
    if (cap == 0 || q + len <= cap) {
        if (b->over) { /* caught up within the grace */
            b->over = false;
            evtimer_del(b->timer);
            mm_log_info("nc-notif-backlog", "session=%u queued=%zu cap=%zu result=caught-up",
                        s->id, q, cap);
        }
        return true;
    }
    if (q + len > (size_t)MM_NC_NOTIF_BACKLOG_FACTOR * cap) {
        b->overflow = true;
        arm(s, 0);
        return false;
    }
    if (!b->over) {
        b->over = true;
        mm_log_info("nc-notif-backlog", "session=%u queued=%zu cap=%zu grace_ms=%u result=grace",
                    s->id, q, cap, s->srv->notif_grace_ms);
        arm(s, s->srv->notif_grace_ms);
    }
    return true;
}

void nc_backlog_free(mm_nc_session *s)
{
    if (s->backlog.timer)
        event_free(s->backlog.timer);
    s->backlog.timer = NULL;
}
