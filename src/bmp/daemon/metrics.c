/*
 * metrics.c - mamori-bmpd's Prometheus families: sessions, messages,
 * errors, and one family per statistics registry row, with the series of
 * each (router, peer, type, AFI/SAFI) cached per router.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmpd_internal.h"
#include "mamori/mm_core.h"

void bmpd_metrics_families(bmpd *d)
{
    mm_metrics *m = d->metrics;
    mm_metrics_family(m, "mamori_bmp_routers_connected", MM_METRIC_GAUGE,
                      "Routers with an open BMP session");
    mm_metrics_family(m, "mamori_bmp_connections_total", MM_METRIC_COUNTER,
                      "BMP connections by result");
    mm_metrics_family(m, "mamori_bmp_messages_total", MM_METRIC_COUNTER,
                      "BMP messages received, by router and type");
    mm_metrics_family(m, "mamori_bmp_bytes_total", MM_METRIC_COUNTER,
                      "BMP bytes received, by router");
    mm_metrics_family(m, "mamori_bmp_errors_total", MM_METRIC_COUNTER,
                      "Bad BMP input, by router and reason");
    mm_metrics_family(m, "mamori_bmp_stat_opaque_total", MM_METRIC_COUNTER,
                      "Statistics kept as bytes (unknown type or wrong length)");
    mm_metrics_family(m, "mamori_bmp_metrics_series_dropped", MM_METRIC_GAUGE,
                      "Metric series refused because the series limit was reached");
    mm_metrics_family(m, "mamori_bmp_store_up", MM_METRIC_GAUGE,
                      "1 while the PostgreSQL store is connected");
    mm_metrics_family(m, "mamori_bmp_store_queue_bytes", MM_METRIC_GAUGE,
                      "Bytes of rows waiting for the PostgreSQL store");
    mm_metrics_family(m, "mamori_bmp_store_rows_written_total", MM_METRIC_COUNTER,
                      "Rows committed to the PostgreSQL store");
    mm_metrics_family(m, "mamori_bmp_store_rows_dropped_total", MM_METRIC_COUNTER,
                      "Rows not stored in PostgreSQL (queue full under the drop policy)");
    d->m_pg_up = mm_metrics_getv(m, "mamori_bmp_store_up", NULL);
    d->m_pg_queue = mm_metrics_getv(m, "mamori_bmp_store_queue_bytes", NULL);
    d->m_pg_written = mm_metrics_getv(m, "mamori_bmp_store_rows_written_total", NULL);
    d->m_pg_dropped = mm_metrics_getv(m, "mamori_bmp_store_rows_dropped_total", NULL);
    d->m_connected = mm_metrics_getv(m, "mamori_bmp_routers_connected", NULL);
    d->m_series_dropped = mm_metrics_getv(m, "mamori_bmp_metrics_series_dropped", NULL);
    d->m_accepted = mm_metrics_getv(m, "mamori_bmp_connections_total", "result", "accepted", NULL);
    d->m_refused = mm_metrics_getv(m, "mamori_bmp_connections_total", "result", "refused", NULL);
}

void bmpd_metrics_error(struct router *r, const char *reason)
{
    mm_metric_add(mm_metrics_getv(r->d->metrics, "mamori_bmp_errors_total", "router", r->addr,
                                  "reason", reason, NULL),
                  1);
}

/* The series of one statistic by name and labels: mamori_bmp_<name>{router, peer, peer_type[, afi,
 * safi]}. */
static mm_metric *stat_series(struct router *r, const mm_bmp_msg *m, const mm_bmp_stat *s)
{
    char peer[INET6_ADDRSTRLEN], ptype[8], afi[8], safi[8], fam[160];
    /* Family name from the registry row; declared once per row. */
    size_t nl = strlen(s->def->name);
    if (nl + 12 > sizeof(fam))
        return NULL;
    memcpy(fam, "mamori_bmp_", 11);
    memcpy(fam + 11, s->def->name, nl + 1);
    if (mm_metrics_family(r->d->metrics, fam,
                          s->kind == MM_BMP_STAT_COUNTER32 ? MM_METRIC_COUNTER : MM_METRIC_GAUGE,
                          s->def->descr) < 0)
        return NULL;
    mm_bmp_peer_addr_format(&m->peer, peer, sizeof(peer));
    snprintf(ptype, sizeof(ptype), "%u", m->peer.type);
    if (s->kind == MM_BMP_STAT_AFISAFI_GAUGE64) {
        snprintf(afi, sizeof(afi), "%u", s->afi);
        snprintf(safi, sizeof(safi), "%u", s->safi);
        return mm_metrics_getv(r->d->metrics, fam, "router", r->addr, "peer", peer, "peer_type",
                               ptype, "afi", afi, "safi", safi, NULL);
    }
    return mm_metrics_getv(r->d->metrics, fam, "router", r->addr, "peer", peer, "peer_type", ptype,
                           NULL);
}

static bool slot_is(const struct stat_slot *e, const mm_bmp_msg *m, const mm_bmp_stat *s)
{
    return e->type == s->type && e->afi == s->afi && e->safi == s->safi &&
           e->peer_type == m->peer.type && !memcmp(e->addr, m->peer.addr, 16) &&
           !memcmp(e->rd, m->peer.rd, 8);
}

static mm_metric *stat_series_cached(struct router *r, const mm_bmp_msg *m, const mm_bmp_stat *s)
{
    if (!r->stat_cache && !(r->stat_cache = calloc(STAT_CACHE_SLOTS, sizeof(*r->stat_cache))))
        return stat_series(r, m, s);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < 16; i++)
        h = (h ^ m->peer.addr[i]) * 16777619u;
    h = (h ^ m->peer.type) * 16777619u;
    h = (h ^ s->type) * 16777619u;
    h = (h ^ (uint32_t)(s->afi << 8 | s->safi)) * 16777619u;
    for (uint32_t k = 0; k < STAT_CACHE_PROBES; k++) {
        struct stat_slot *e = &r->stat_cache[(h + k) & (STAT_CACHE_SLOTS - 1)];
        if (e->used && slot_is(e, m, s))
            return e->x;
        if (e->used)
            continue;
        mm_metric *x = stat_series(r, m, s);
        if (!x)
            return NULL; /* series limit: not cached, retried next time */
        *e = (struct stat_slot){.used = true,
                                .peer_type = m->peer.type,
                                .safi = s->safi,
                                .type = s->type,
                                .afi = s->afi,
                                .x = x};
        memcpy(e->rd, m->peer.rd, 8);
        memcpy(e->addr, m->peer.addr, 16);
        return x;
    }
    return stat_series(r, m, s);
}

/* One family per registry row: mamori_bmp_<name>{router, peer, peer_type[, afi, safi]}. */
void bmpd_metrics_stats(struct router *r, const mm_bmp_msg *m)
{
    char peer[INET6_ADDRSTRLEN], type[8];
    mm_cursor c = m->stats;
    mm_bmp_stat s;
    for (uint32_t i = 0; i < m->stats_count && mm_bmp_stat_next(&c, &s) > 0; i++) {
        if (s.kind == MM_BMP_STAT_OPAQUE) {
            mm_bmp_peer_addr_format(&m->peer, peer, sizeof(peer));
            snprintf(type, sizeof(type), "%u", s.type);
            mm_metric_add(mm_metrics_getv(r->d->metrics, "mamori_bmp_stat_opaque_total", "router",
                                          r->addr, "peer", peer, "type", type, NULL),
                          1);
            continue;
        }
        mm_metric_set(stat_series_cached(r, m, &s), (double)s.value);
    }
    mm_metric_set(r->d->m_series_dropped, (double)mm_metrics_dropped(r->d->metrics));
}
