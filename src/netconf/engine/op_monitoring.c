/*
 * op_monitoring.c - capabilities (RFC 6241 8, netconf-core.md 1),
 * ietf-netconf-monitoring state and get-schema (RFC 6022).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_internal.h"

#define CAP "urn:ietf:params:netconf:capability:"

/* Optional capabilities: adding one is adding a row. */
static const char *const fixed_caps[] = {
    CAP "writable-running:1.0",
    CAP "candidate:1.0",
    CAP "confirmed-commit:1.0",
    CAP "confirmed-commit:1.1",
    CAP "rollback-on-error:1.0",
    CAP "validate:1.0",
    CAP "validate:1.1",
    CAP "startup:1.0",
    CAP "xpath:1.0",
    CAP "notification:1.0",
    CAP "interleave:1.0",
    CAP "partial-lock:1.0",
    CAP "with-defaults:1.0?basic-mode=explicit&also-supported=report-all,trim,report-all-tagged",
};

typedef int (*cap_cb)(const char *cap, void *arg);

/* "<ns>?module=<name>&revision=<date>[&features=..][&deviations=..]" */
static int module_cap(const struct lys_module *mod, mm_buf *b)
{
    MM_GUARD(mm_buf_printf(b, "%s?module=%s", mod->ns, mod->name));
    if (mod->revision)
        MM_GUARD(mm_buf_printf(b, "&revision=%s", mod->revision));
    const char *sep = "&features=";
    LY_ARRAY_COUNT_TYPE i;
    LY_ARRAY_FOR(mod->parsed->features, i) {
        if (mod->parsed->features[i].flags & LYS_FENABLED) {
            MM_GUARD(mm_buf_printf(b, "%s%s", sep, mod->parsed->features[i].name));
            sep = ",";
        }
    }
    sep = "&deviations=";
    LY_ARRAY_FOR(mod->deviated_by, i) {
        MM_GUARD(mm_buf_printf(b, "%s%s", sep, mod->deviated_by[i]->name));
        sep = ",";
    }
    return 0;
}

static int caps_foreach(mm_nc_server *srv, cap_cb cb, void *arg)
{
    char lib[256];
    for (size_t i = 0; i < sizeof(fixed_caps) / sizeof(fixed_caps[0]); i++)
        MM_GUARD(cb(fixed_caps[i], arg));
    snprintf(lib, sizeof(lib), CAP "yang-library:1.0?revision=2016-06-21&module-set-id=%u",
             srv->content_id);
    MM_GUARD(cb(lib, arg));
    snprintf(lib, sizeof(lib), CAP "yang-library:1.1?revision=2019-01-04&content-id=%u",
             srv->content_id);
    MM_GUARD(cb(lib, arg));
    uint32_t idx = 0;
    const struct lys_module *mod;
    mm_buf b;
    mm_buf_init(&b, 65536);
    int rc = 0;
    while (rc == 0 && (mod = ly_ctx_get_module_iter(srv->ctx, &idx)) != NULL) {
        /* YANG 1.1 modules are announced through yang-library only (RFC 7950 5.6.4). */
        if (!mod->implemented || !mod->parsed || mod->parsed->version == LYS_VERSION_1_1)
            continue;
        mm_buf_reset(&b);
        rc = module_cap(mod, &b);
        rc = rc ? rc : cb(mm_buf_cstr(&b), arg);
    }
    mm_buf_free(&b);
    return rc;
}

static int hello_cap(const char *cap, void *arg)
{
    mm_buf *b = arg;
    MM_GUARD(mm_buf_append_str(b, "<capability>"));
    MM_GUARD(nc_xml_escape(b, cap));
    return mm_buf_append_str(b, "</capability>");
}

int nc_caps_build(mm_nc_server *srv)
{
    mm_buf_reset(&srv->hello_caps);
    return caps_foreach(srv, hello_cap, &srv->hello_caps);
}

/* ------------------------------------------------------------ state data */

typedef struct mon {
    struct lyd_node *top;
    int rc;
} mon;

static void put(mon *m, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put(mon *m, const char *value, const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    if (m->rc == 0 && lyd_new_path(m->top, NULL, path, value, 0, NULL) != LY_SUCCESS)
        m->rc = MM_EINVAL;
}

static void put_u32(mon *m, uint32_t v, const char *path)
{
    char s[16];
    snprintf(s, sizeof(s), "%u", v);
    put(m, s, "%s", path);
}

static void put_time(mon *m, time_t t, const char *path)
{
    char s[64];
    nc_time_format((int64_t)t * 1000000, s, sizeof(s));
    put(m, s, "%s", path);
}

static int mon_cap(const char *cap, void *arg)
{
    mon *m = arg;
    put(m, cap, "capabilities/capability");
    return 0;
}

/* RFC 5717 locks of running (the lock-type choice: only without a global lock). */
static void mon_partial_locks(mm_nc_server *srv, mon *m)
{
    for (size_t i = 0; i < srv->nplocks; i++) {
        const nc_plock *pl = &srv->plocks[i];
        char base[128];
        snprintf(base, sizeof(base),
                 "datastores/datastore[name='running']/locks/partial-lock[lock-id='%u']", pl->id);
        char path[192];
        snprintf(path, sizeof(path), "%s/locked-by-session", base);
        put_u32(m, pl->sid, path);
        snprintf(path, sizeof(path), "%s/locked-time", base);
        put_time(m, pl->time, path);
        for (size_t j = 0; j < pl->nselects; j++)
            put(m, pl->selects[j], "%s/select", base);
        for (size_t j = 0; j < pl->npaths; j++)
            put(m, pl->paths[j], "%s/locked-node", base);
    }
}

static void mon_datastores(mm_nc_server *srv, mon *m)
{
    for (int i = 0; i < NC_DS_COUNT; i++) {
        const char *name = nc_ds_name((enum nc_ds)i);
        put(m, NULL, "datastores/datastore[name='%s']", name);
        if (!srv->ds[i].lock_sid && i == NC_DS_RUNNING)
            mon_partial_locks(srv, m);
        if (!srv->ds[i].lock_sid)
            continue;
        char v[16];
        snprintf(v, sizeof(v), "%u", srv->ds[i].lock_sid);
        put(m, v, "datastores/datastore[name='%s']/locks/global-lock/locked-by-session", name);
        char t[64];
        nc_time_format((int64_t)srv->ds[i].lock_time * 1000000, t, sizeof(t));
        put(m, t, "datastores/datastore[name='%s']/locks/global-lock/locked-time", name);
    }
}

static void mon_schemas(mm_nc_server *srv, mon *m)
{
    uint32_t idx = 0;
    const struct lys_module *mod;
    while ((mod = ly_ctx_get_module_iter(srv->ctx, &idx)) != NULL) {
        const char *rev = mod->revision ? mod->revision : "";
        char base[384];
        snprintf(base, sizeof(base), "schemas/schema[identifier='%s'][version='%s']"
                 "[format='ietf-netconf-monitoring:yang']", mod->name, rev);
        put(m, mod->ns, "%s/namespace", base);
        put(m, "NETCONF", "%s/location", base);
    }
}

static void mon_session(mon *m, const mm_nc_session *s)
{
    char base[96];
    snprintf(base, sizeof(base), "sessions/session[session-id='%u']", s->id);
    /* ietf-netconf-monitoring@2010 has no QUIC identity: mamori-netconf-quic adds one. */
    bool quic = !strcmp(s->transport, "netconf-quic") &&
                ly_ctx_get_module_implemented(LYD_CTX(m->top), "mamori-netconf-quic");
    bool ssh = !strcmp(s->transport, "netconf-ssh"); /* RFC 6242 (issue 17) */
    put(m, quic  ? "mamori-netconf-quic:netconf-quic"
           : ssh ? "ietf-netconf-monitoring:netconf-ssh"
                 : "ietf-netconf-monitoring:netconf-tls",
        "%s/transport", base);
    put(m, s->username, "%s/username", base);
    char p[160];
    snprintf(p, sizeof(p), "%s/source-host", base);
    if (s->peer[0]) /* only when the peer is a plain host or address */
        lyd_new_path(m->top, NULL, p, s->peer, 0, NULL);
    snprintf(p, sizeof(p), "%s/login-time", base);
    put_time(m, s->login_time, p);
    const uint32_t *v[] = {&s->cnt.in_rpcs, &s->cnt.in_bad_rpcs, &s->cnt.out_rpc_errors,
                           &s->cnt.out_notifications};
    const char *names[] = {"in-rpcs", "in-bad-rpcs", "out-rpc-errors", "out-notifications"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/%s", base, names[i]);
        put_u32(m, *v[i], p);
    }
}

static void mon_statistics(mm_nc_server *srv, mon *m)
{
    put_time(m, srv->start_time, "statistics/netconf-start-time");
    put_u32(m, srv->in_bad_hellos, "statistics/in-bad-hellos");
    put_u32(m, srv->in_sessions, "statistics/in-sessions");
    put_u32(m, srv->dropped_sessions, "statistics/dropped-sessions");
    put_u32(m, srv->stats.in_rpcs, "statistics/in-rpcs");
    put_u32(m, srv->stats.in_bad_rpcs, "statistics/in-bad-rpcs");
    put_u32(m, srv->stats.out_rpc_errors, "statistics/out-rpc-errors");
    put_u32(m, srv->stats.out_notifications, "statistics/out-notifications");
}

int nc_monitoring_state(mm_nc_server *srv, struct lyd_node **tree)
{
    const struct lys_module *mod = ly_ctx_get_module_implemented(srv->ctx,
                                                                 "ietf-netconf-monitoring");
    mon m = {0};
    MM_ENSURE(mod && lyd_new_inner(NULL, mod, "netconf-state", 0, &m.top) == LY_SUCCESS,
              MM_EINVAL);
    put(&m, NC_BASE10, "capabilities/capability");
    put(&m, NC_BASE11, "capabilities/capability");
    caps_foreach(srv, mon_cap, &m);
    mon_datastores(srv, &m);
    mon_schemas(srv, &m);
    for (const mm_nc_session *s = srv->sessions; s; s = s->next)
        if (s->hello_done)
            mon_session(&m, s);
    mon_statistics(srv, &m);
    if (m.rc < 0)
        mm_log_warn("nc-monitoring", "error=\"%s\"", ly_errmsg(srv->ctx));
    *tree = m.top;
    return 0;
}
