/*
 * metrics.c - mamori-netconfd's Prometheus metrics (issue 17 #5), on the
 * core registry and loopback HTTP endpoint (mm_metrics).
 *
 * Counters are fed by the engine's event callback (RPCs, rollbacks, audit
 * writes); gauges and the engine's own totals are refreshed by a short timer
 * and on every event, so a scrape is at most one period behind.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_core.h"
#include "mamori/mm_metrics.h"
#include "netconfd_metrics.h"

#define REFRESH_MS 500
/* Operation names come from the schema (bounded), transports from a fixed set:
 * the series limit is a backstop only. */
#define MAX_SERIES 2048

struct mm_netconfd_metrics {
    mm_metrics *m;
    mm_metrics_http *http;
    uint16_t port;
    struct event *timer;
    mm_nc_server *engine;
    mm_netconfd_session_counter counter;
    void *counter_arg;
};

static const struct family {
    const char *name;
    enum mm_metric_type type;
    const char *help;
} families[] = {
    {"mamori_netconf_sessions", MM_METRIC_GAUGE, "Open NETCONF sessions by transport."},
    {"mamori_netconf_rpcs_total", MM_METRIC_COUNTER,
     "RPCs answered, by operation, result (ok or error) and transport."},
    {"mamori_netconf_rpc_errors_total", MM_METRIC_COUNTER, "rpc-error elements sent."},
    {"mamori_netconf_bad_rpcs_total", MM_METRIC_COUNTER, "Malformed or invalid RPCs received."},
    {"mamori_netconf_nacm_denials_total", MM_METRIC_COUNTER,
     "NACM denials, by kind (operation, data-write, notification)."},
    {"mamori_netconf_notifications_total", MM_METRIC_COUNTER, "Notifications sent."},
    {"mamori_netconf_notification_replay_depth", MM_METRIC_GAUGE,
     "Notifications held in the replay log (the server's notification queue)."},
    {"mamori_netconf_output_queued_bytes", MM_METRIC_GAUGE,
     "Reply and notification bytes waiting to be sent, by transport."},
    {"mamori_netconf_session_queued_bytes_max", MM_METRIC_GAUGE,
     "Highest output backlog (bytes waiting to be sent) any one session reached."},
    {"mamori_netconf_notification_overflows_total", MM_METRIC_COUNTER,
     "Subscriber sessions closed because their notification backlog stayed over the cap."},
    {"mamori_netconf_commits_total", MM_METRIC_COUNTER, "commit RPCs, by result."},
    {"mamori_netconf_rollbacks_total", MM_METRIC_COUNTER,
     "Confirmed-commit rollbacks, by cause (timeout or cancel)."},
    {"mamori_netconf_audit_write_seconds_sum", MM_METRIC_COUNTER,
     "Total time spent in durable audit writes (with _count: the mean latency)."},
    {"mamori_netconf_audit_write_seconds_count", MM_METRIC_COUNTER, "Durable audit writes."},
    {"mamori_netconf_audit_write_seconds_max", MM_METRIC_GAUGE,
     "Slowest durable audit write so far."},
    {"mamori_netconf_audit_write_errors_total", MM_METRIC_COUNTER, "Failed durable audit writes."},
};

static void set(mm_metrics *m, const char *name, double v, const char *k, const char *val)
{
    mm_metric *s = k ? mm_metrics_getv(m, name, k, val, NULL) : mm_metrics_getv(m, name, NULL);
    if (s)
        mm_metric_set(s, v);
}

static void refresh(struct mm_netconfd_metrics *x)
{
    mm_nc_stats st;
    mm_nc_server_stats(x->engine, &st);
    set(x->m, "mamori_netconf_rpc_errors_total", st.out_rpc_errors, NULL, NULL);
    set(x->m, "mamori_netconf_bad_rpcs_total", st.in_bad_rpcs, NULL, NULL);
    set(x->m, "mamori_netconf_nacm_denials_total", st.nacm_denied_operations, "kind", "operation");
    set(x->m, "mamori_netconf_nacm_denials_total", st.nacm_denied_data_writes, "kind",
        "data-write");
    set(x->m, "mamori_netconf_nacm_denials_total", st.nacm_denied_notifications, "kind",
        "notification");
    set(x->m, "mamori_netconf_notifications_total", st.out_notifications, NULL, NULL);
    set(x->m, "mamori_netconf_notification_replay_depth", st.replay_depth, NULL, NULL);
    set(x->m, "mamori_netconf_session_queued_bytes_max", (double)st.session_queued_max, NULL, NULL);
    set(x->m, "mamori_netconf_notification_overflows_total", st.notif_overflows, NULL, NULL);
    static const char *const transports[] = {"netconf-tls", "netconf-ssh", "netconf-quic"};
    for (size_t i = 0; x->counter && i < 3; i++) {
        size_t sessions = 0, queued = 0;
        if (x->counter(transports[i], &sessions, &queued, x->counter_arg) < 0)
            continue;
        set(x->m, "mamori_netconf_sessions", (double)sessions, "transport", transports[i]);
        if (queued != MM_NETCONFD_QUEUED_UNKNOWN)
            set(x->m, "mamori_netconf_output_queued_bytes", (double)queued, "transport",
                transports[i]);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    refresh(arg);
}

static void add(mm_metrics *m, const char *name, double v, const char *const *labels)
{
    mm_metric *s = mm_metrics_get(m, name, labels);
    if (s)
        mm_metric_add(s, v);
}

static void on_event(const mm_nc_event_info *ev, void *arg)
{
    struct mm_netconfd_metrics *x = arg;
    const char *tr = ev->transport ? ev->transport : "-";
    switch (ev->kind) {
    case MM_NC_EV_RPC: {
        const char *const l[] = {"operation", ev->name, "result", ev->result,
                                 "transport", tr,       NULL};
        add(x->m, "mamori_netconf_rpcs_total", 1, l);
        if (!strcmp(ev->name, "commit")) {
            const char *const c[] = {"result", ev->result, NULL};
            add(x->m, "mamori_netconf_commits_total", 1, c);
        }
        break;
    }
    case MM_NC_EV_ROLLBACK: {
        const char *const l[] = {"cause", ev->name, NULL};
        add(x->m, "mamori_netconf_rollbacks_total", 1, l);
        break;
    }
    case MM_NC_EV_AUDIT: {
        add(x->m, "mamori_netconf_audit_write_seconds_sum", ev->seconds, NULL);
        add(x->m, "mamori_netconf_audit_write_seconds_count", 1, NULL);
        if (strcmp(ev->result, "ok") != 0)
            add(x->m, "mamori_netconf_audit_write_errors_total", 1, NULL);
        mm_metric *mx = mm_metrics_get(x->m, "mamori_netconf_audit_write_seconds_max", NULL);
        if (mx && ev->seconds > mm_metric_value(mx))
            mm_metric_set(mx, ev->seconds);
        break;
    }
    }
    if (ev->kind == MM_NC_EV_RPC)
        refresh(x); /* read-only: the engine's totals and the transports' counts */
}

int mm_netconfd_metrics_start(mm_nc_server *engine, struct event_base *base, const char *addr,
                              uint16_t port, mm_netconfd_session_counter counter, void *counter_arg,
                              mm_netconfd_metrics **out)
{
    *out = NULL;
    struct mm_netconfd_metrics *x = calloc(1, sizeof(*x));
    MM_ENSURE(x, MM_ENOMEM);
    x->engine = engine;
    x->counter = counter;
    x->counter_arg = counter_arg;
    x->m = mm_metrics_new(MAX_SERIES);
    int rc = x->m ? 0 : MM_ENOMEM;
    for (size_t i = 0; rc == 0 && i < sizeof(families) / sizeof(families[0]); i++)
        rc = mm_metrics_family(x->m, families[i].name, families[i].type, families[i].help);
    /* Series that exist from the start, so a scrape shows zeros rather than nothing. */
    static const char *const zero[] = {
        "mamori_netconf_audit_write_seconds_sum", "mamori_netconf_audit_write_seconds_count",
        "mamori_netconf_audit_write_seconds_max", "mamori_netconf_audit_write_errors_total"};
    for (size_t i = 0; rc == 0 && i < 4; i++)
        mm_metrics_get(x->m, zero[i], NULL);
    if (rc == 0) {
        refresh(x);
        rc = mm_metrics_http_start(x->m, base, addr ? addr : "127.0.0.1", port, &x->http, &x->port);
    }
    if (rc == 0) {
        x->timer = event_new(base, -1, EV_PERSIST, on_timer, x);
        struct timeval tv = {0, REFRESH_MS * 1000};
        rc = x->timer && event_add(x->timer, &tv) == 0 ? 0 : MM_ESYS;
    }
    if (rc < 0) {
        mm_log_error("netconfd-metrics", "address=%s port=%u err=\"%s\"", addr ? addr : "127.0.0.1",
                     port, mm_strerror(rc));
        mm_netconfd_metrics_free(x);
        return rc;
    }
    mm_nc_server_on_event(engine, on_event, x);
    mm_log_info("netconfd-metrics", "address=%s port=%u path=/metrics", addr ? addr : "127.0.0.1",
                x->port);
    *out = x;
    return 0;
}

uint16_t mm_netconfd_metrics_bound_port(const mm_netconfd_metrics *x)
{
    return x ? x->port : 0;
}

void mm_netconfd_metrics_free(mm_netconfd_metrics *x)
{
    if (!x)
        return;
    if (x->engine)
        mm_nc_server_on_event(x->engine, NULL, NULL);
    if (x->timer)
        event_free(x->timer);
    mm_metrics_http_stop(x->http);
    mm_metrics_free(x->m);
    free(x);
}
