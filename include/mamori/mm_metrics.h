/*
 * mm_metrics.h - a registry of counters and gauges with labels, rendered in
 * the Prometheus text exposition format (version 0.0.4) and served over
 * HTTP (libevent evhttp) on loopback for every mamori daemon.
 *
 * A family has a name, help text and type; a series is a family plus a set
 * of label values. The number of series is bounded (mm_metrics_new's
 * max_series): past it new series are refused (NULL) and counted in
 * mm_metrics_dropped(), so a flood of peers cannot grow memory without limit.
 * Single-threaded: use it from the event loop that serves it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_METRICS_H
#define MAMORI_MM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "mamori/mm_buf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_metrics mm_metrics;
typedef struct mm_metric mm_metric; /* one series */

enum mm_metric_type {
    MM_METRIC_COUNTER = 0,
    MM_METRIC_GAUGE = 1,
};

mm_metrics *mm_metrics_new(size_t max_series);
void mm_metrics_free(mm_metrics *m);

/*
 * Declare a family (idempotent for the same name and type). Names follow
 * Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*): MM_EINVAL otherwise, and
 * MM_EEXIST for the same name with another type.
 */
int mm_metrics_family(mm_metrics *m, const char *name, enum mm_metric_type type, const char *help);

/*
 * The series of family `name` with the given labels: labels is a NULL-
 * terminated list of key, value, key, value, ... (NULL for none). Created
 * at 0 on first use. Returns NULL if the family is unknown, a label key is
 * invalid, or the series limit is reached.
 */
mm_metric *mm_metrics_get(mm_metrics *m, const char *name, const char *const *labels);
/* Convenience: the same with labels as variadic key, value pairs ending in NULL. */
mm_metric *mm_metrics_getv(mm_metrics *m, const char *name, ...) __attribute__((sentinel));

void mm_metric_add(mm_metric *s, double v); /* counters: v >= 0 */
void mm_metric_set(mm_metric *s, double v);
double mm_metric_value(const mm_metric *s);

/* Remove every series that has label key=value (e.g. a router that went away). Returns the count.
 */
size_t mm_metrics_remove_label(mm_metrics *m, const char *key, const char *value);
size_t mm_metrics_series_count(const mm_metrics *m);
uint64_t mm_metrics_dropped(const mm_metrics *m);

/* Append the text exposition of every family (HELP, TYPE, then its series in creation order). */
int mm_metrics_render(const mm_metrics *m, mm_buf *out);

/*
 * Serve GET /metrics on addr:port with evhttp on base. addr must be a
 * loopback address (127.0.0.0/8 or ::1): MM_EPERM otherwise (zero trust:
 * the endpoint has no authentication). port 0 picks a free port; the bound
 * port is returned in *bound_port if not NULL.
 */
typedef struct mm_metrics_http mm_metrics_http;
int mm_metrics_http_start(mm_metrics *m, struct event_base *base, const char *addr, uint16_t port,
                          mm_metrics_http **out, uint16_t *bound_port);
void mm_metrics_http_stop(mm_metrics_http *h);

#ifdef __cplusplus
}
#endif
#endif
