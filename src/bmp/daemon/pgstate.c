/*
 * pgstate.c - the PostgreSQL store seen from the event loop: its state as
 * metrics, its transitions (outage, recovery, overflow episodes) as log
 * lines and audit records, and the pause policy (stop reading routers
 * while the queue is full).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmpd_internal.h"
#include "mamori/mm_core.h"

static void routers_reading(bmpd *d, bool on)
{
    for (struct router *r = d->routers; r; r = r->next)
        if (on)
            bufferevent_enable(r->bev, EV_READ);
        else
            bufferevent_disable(r->bev, EV_READ);
}

/*
 * After each burst and twice a second: export the store's state, and turn
 * its transitions into log lines and audit records (outage, recovery, start
 * and end of an overflow episode); under the pause policy, stop reading
 * routers while the queue is full and resume at half of it.
 */
void bmpd_pg_check(bmpd *d)
{
    mm_bmp_pgstore_stats st;
    mm_bmp_pgstore_status(d->pg, &st);
    mm_metric_set(d->m_pg_up, st.connected ? 1 : 0);
    mm_metric_set(d->m_pg_queue, (double)st.queued_bytes);
    mm_metric_set(d->m_pg_written, (double)st.written);
    mm_metric_set(d->m_pg_dropped, (double)st.dropped);
    char why[400];
    if (!st.connected && st.failures && !d->pg_outage) {
        d->pg_outage = true;
        snprintf(why, sizeof(why), "PostgreSQL store unavailable (%s); rows queue up to %zu bytes",
                 st.last_error, st.limit);
        mm_log_warn("store-outage", "reason=\"%s\"", why);
        bmpd_audit(d, "store-outage", false, why, d->cfg.collector);
    } else if (st.connected && (d->pg_outage || !d->pg_was_connected)) {
        if (d->pg_outage) {
            mm_log_info("store-recovered", "queued_rows=%zu", st.queued_rows);
            bmpd_audit(d, "store-recovered", true, "PostgreSQL store reachable again",
                       d->cfg.collector);
        } else {
            mm_log_info("store-connected", "collector=%s", d->cfg.collector);
        }
        d->pg_outage = false;
    }
    d->pg_was_connected = st.connected;
    if (st.dropped > d->pg_dropped_seen) {
        uint64_t n = st.dropped - d->pg_dropped_seen;
        d->pg_dropped_seen = st.dropped;
        d->pg_dropped_episode += n;
        if (!d->pg_dropping) {
            d->pg_dropping = true;
            snprintf(why, sizeof(why),
                     "PostgreSQL queue full (%zu bytes): rows dropped (policy drop); routers "
                     "still read, JSON Lines and SQLite outputs unaffected",
                     st.limit);
            mm_log_warn("store-overflow", "policy=drop reason=\"%s\"", why);
            bmpd_audit(d, "store-overflow", false, why, d->cfg.collector);
        }
    } else if (d->pg_dropping && st.queued_bytes <= st.limit / 2) {
        d->pg_dropping = false;
        snprintf(why, sizeof(why), "PostgreSQL queue has room again; %llu rows were dropped",
                 (unsigned long long)d->pg_dropped_episode);
        mm_log_warn("store-overflow-end", "rows_dropped=%llu",
                    (unsigned long long)d->pg_dropped_episode);
        bmpd_audit(d, "store-overflow-end", true, why, d->cfg.collector);
        d->pg_dropped_episode = 0;
    }
    if (d->cfg.pg_overflow != MM_BMP_PG_PAUSE)
        return;
    if (!d->paused && st.queued_bytes >= st.limit) {
        d->paused = true;
        routers_reading(d, false);
        snprintf(why, sizeof(why),
                 "PostgreSQL queue full (%zu bytes): reading from routers paused (policy pause)",
                 st.limit);
        mm_log_warn("store-overflow", "policy=pause reason=\"%s\"", why);
        bmpd_audit(d, "store-overflow", false, why, d->cfg.collector);
    } else if (d->paused && st.queued_bytes <= st.limit / 2) {
        d->paused = false;
        routers_reading(d, true);
        mm_log_info("store-resume", "queued_bytes=%zu", st.queued_bytes);
        bmpd_audit(d, "store-resume", true, "PostgreSQL queue drained to half: reading resumed",
                   d->cfg.collector);
    }
}

void bmpd_pg_tick(void *arg)
{
    bmpd_pg_check(arg);
}
