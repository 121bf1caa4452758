/*
 * server.c - the NETCONF server: YANG context, datastores, sessions, hooks.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mamori/mm_config.h"
#include "nc_internal.h"

/* Where Debian's libyuma-base installs the standard NETCONF modules. */
#ifndef MM_NC_SYSTEM_YANG_DIR
#define MM_NC_SYSTEM_YANG_DIR "/usr/share/yuma/modules"
#endif

static const char *ietf_netconf_features[] = {
    "writable-running", "candidate", "confirmed-commit", "rollback-on-error", "validate",
    "startup", "xpath", NULL,
};
static const char *all_features[] = {"*", NULL};
static const char *crypto_types_features[] = {"hidden-private-keys", NULL};
static const char *tls_common_features[] = {"tls13", NULL};
static const char *truststore_features[] = {"inline-definitions-supported", "certificates", NULL};
static const char *keystore_features[] = {"inline-definitions-supported", "asymmetric-keys", NULL};
static const char *tls_server_features[] = {"server-ident-x509-cert", "client-auth-supported",
                                            "client-auth-x509-cert", NULL};
/* SSH: local users with public keys only (no password, hostbased or none). */
static const char *ssh_server_features[] = {"local-users-supported", "local-user-auth-publickey",
                                            NULL};
static const char *netconf_server_features[] = {"tls-listen", "ssh-listen", "tls-call-home",
                                                "ssh-call-home",
                                                "central-netconf-server-supported", NULL};
static const char *netconf_quic_features[] = {"quic-listen", NULL};

/* The engine's own modules: one row per module (name, features). */
static const struct {
    const char *name;
    const char **features;
} base_modules[] = {
    {"ietf-netconf", ietf_netconf_features},
    {"ietf-netconf-with-defaults", NULL},
    {"ietf-netconf-acm", NULL},
    {"ietf-datastores", NULL},
    {"ietf-netconf-monitoring", NULL},
    {"ietf-netconf-partial-lock", NULL}, /* RFC 5717; yuma123's copy of the module */
    {"ietf-netconf-nmda", all_features},
    {"ietf-origin", NULL},
    {"notifications", NULL},
    {"nc-notifications", NULL},
    {"ietf-netconf-notifications", NULL},
    /*
     * The server's own configuration (ietf-netconf-server: tls, ssh and
     * quic cases, call home), from mamori's yang/ietf. Dependencies first,
     * each with exactly the features mamori implements: TLS 1.3 only, X.509
     * identities, inline trust anchors and SSH public keys, hidden
     * (file-held) private keys.
     */
    {"ietf-crypto-types", crypto_types_features},
    {"ietf-tls-common", tls_common_features},
    {"ietf-truststore", truststore_features},
    {"ietf-keystore", keystore_features},
    {"ietf-tcp-common", NULL},
    {"ietf-tcp-server", NULL},
    {"ietf-tcp-client", NULL}, /* call home: the server dials */
    {"ietf-tls-server", tls_server_features},
    {"ietf-ssh-common", NULL},
    {"ietf-ssh-server", ssh_server_features},
    {"ietf-x509-cert-to-name", NULL},
    {"ietf-netconf-server", netconf_server_features},
    {"ietf-netconf-quic", netconf_quic_features},
    {"mamori-netconf-quic", NULL}, /* cert-to-name etc. for the quic case */
};

static int add_search_dirs(struct ly_ctx *ctx, const mm_nc_server_config *cfg)
{
    const char *sys = getenv("MM_NC_SYSTEM_YANG_DIR");
    sys = sys && *sys ? sys : MM_NC_SYSTEM_YANG_DIR;
    static const char *const subdirs[] = {"ietf", "ietf-derived", "netconfcentral"};
    char p[1024];
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", sys, subdirs[i]);
        ly_ctx_set_searchdir(ctx, p);
    }
    if (cfg->module_dir)
        MM_ENSURE(ly_ctx_set_searchdir(ctx, cfg->module_dir) == LY_SUCCESS, MM_ECONFIG);
    /* mamori's own modules, and its copies of standard modules Debian lacks. */
    ly_ctx_set_searchdir(ctx, mm_config_yang_dir());
    snprintf(p, sizeof(p), "%s/ietf", mm_config_yang_dir());
    ly_ctx_set_searchdir(ctx, p);
    for (size_t i = 0; cfg->search_dirs && cfg->search_dirs[i]; i++)
        MM_ENSURE(ly_ctx_set_searchdir(ctx, cfg->search_dirs[i]) == LY_SUCCESS, MM_ECONFIG);
    return 0;
}

/* "name@rev.yang" or "name.yang": load and implement with all features. */
static int load_file_module(struct ly_ctx *ctx, const char *file)
{
    size_t n = strlen(file);
    char name[256];
    if (n < 6 || n >= sizeof(name) || strcmp(file + n - 5, ".yang") != 0)
        return 0;
    memcpy(name, file, n - 5);
    name[n - 5] = '\0';
    char *rev = strchr(name, '@');
    if (rev)
        *rev++ = '\0';
    if (ly_ctx_get_module_implemented(ctx, name))
        return 0; /* a base module, loaded with its own feature set */
    if (!ly_ctx_load_module(ctx, name, rev, all_features)) {
        mm_log_error("nc-yang", "module=%s error=\"%s\"", name, ly_errmsg(ctx));
        return MM_ECONFIG;
    }
    return 0;
}

static int load_modules(struct ly_ctx *ctx, const char *module_dir)
{
    for (size_t i = 0; i < sizeof(base_modules) / sizeof(base_modules[0]); i++) {
        const char **feat = base_modules[i].features;
        if (!ly_ctx_load_module(ctx, base_modules[i].name, NULL, feat)) {
            mm_log_error("nc-yang", "module=%s error=\"%s\"", base_modules[i].name,
                         ly_errmsg(ctx));
            return MM_ECONFIG;
        }
    }
    if (!module_dir)
        return 0;
    DIR *d = opendir(module_dir);
    MM_ENSURE(d, MM_ENOENT);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL)
        rc = load_file_module(ctx, e->d_name);
    closedir(d);
    return rc;
}

int mm_nc_server_ctx_new(const mm_nc_server_config *cfg, struct ly_ctx **out)
{
    *out = NULL;
    struct ly_ctx *ctx = NULL;
    /* Never load YANG from the working directory: only the configured dirs. */
    MM_ENSURE(ly_ctx_new(NULL, LY_CTX_DISABLE_SEARCHDIR_CWD, &ctx) == LY_SUCCESS, MM_ENOMEM);
    int rc = add_search_dirs(ctx, cfg);
    if (rc == 0)
        rc = load_modules(ctx, cfg->module_dir);
    if (rc < 0) {
        ly_ctx_destroy(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

static int server_setup(mm_nc_server *srv, const mm_nc_server_config *cfg)
{
    MM_GUARD(mm_nc_server_ctx_new(cfg, &srv->ctx));
    MM_GUARD(nc_ds_init(srv));
    MM_GUARD(nc_notif_init(srv, cfg->replay_log_max ? cfg->replay_log_max : 1024));
    MM_GUARD(nc_caps_build(srv));
    char path[1024];
    const char *audit = cfg->audit_log;
    if (!audit) {
        snprintf(path, sizeof(path), "%s/audit.log", cfg->state_dir);
        audit = path;
    }
    return mm_audit_open(audit, &srv->audit);
}

int mm_nc_server_new(const mm_nc_server_config *cfg, struct event_base *base, mm_nc_server **out)
{
    MM_ENSURE(cfg && cfg->state_dir && base && out, MM_EINVAL);
    /* Keep libyang's messages for our error replies instead of printing them. */
    ly_log_options(LY_LOSTORE_LAST);
    mm_nc_server *srv = calloc(1, sizeof(*srv));
    MM_ENSURE(srv, MM_ENOMEM);
    srv->base = base;
    srv->next_sid = 1;
    srv->start_time = time(NULL);
    srv->content_id = 1;
    srv->max_message = cfg->max_message ? cfg->max_message : MM_NC_DEFAULT_MAX_MESSAGE;
    srv->limits.elements = cfg->max_elements ? cfg->max_elements : MM_NC_DEFAULT_MAX_ELEMENTS;
    srv->limits.attributes =
        cfg->max_attributes ? cfg->max_attributes : MM_NC_DEFAULT_MAX_ATTRIBUTES;
    srv->limits.depth = cfg->max_depth ? cfg->max_depth : MM_NC_DEFAULT_MAX_DEPTH;
    srv->notif_grace_ms = cfg->notif_grace_ms ? cfg->notif_grace_ms : MM_NC_DEFAULT_NOTIF_GRACE_MS;
    srv->fault = cfg->fault;
    srv->fault_arg = cfg->fault_arg;
    srv->state_dir = strdup(cfg->state_dir);
    srv->recovery_user = cfg->recovery_user ? strdup(cfg->recovery_user) : NULL;
    mm_buf_init(&srv->hello_caps, 1u << 20);
    int rc = srv->state_dir ? server_setup(srv, cfg) : MM_ENOMEM;
    if (rc < 0) {
        mm_nc_server_free(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

void mm_nc_server_free(mm_nc_server *srv)
{
    if (!srv)
        return;
    while (srv->sessions)
        mm_nc_session_terminate(srv->sessions, "server shutdown");
    nc_confirm_free(srv);
    nc_notif_free(srv);
    nc_ds_free(srv);
    nc_plock_free_all(srv);
    if (srv->opaq_ctx)
        ly_ctx_destroy(srv->opaq_ctx);
    mm_buf_free(&srv->hello_caps);
    mm_audit_close(srv->audit);
    ly_ctx_destroy(srv->ctx);
    free(srv->state_dir);
    free(srv->recovery_user);
    free(srv);
}

int mm_nc_server_reset(mm_nc_server *srv)
{
    MM_ENSURE(srv, MM_EINVAL);
    while (srv->sessions)
        mm_nc_session_terminate(srv->sessions, "server reset");
    uint32_t replay_max = srv->replay.cap;
    nc_confirm_free(srv);
    nc_plock_free_all(srv);
    srv->plock_next = 0;
    nc_notif_free(srv);
    nc_ds_free(srv);
    memset(&srv->nacm, 0, sizeof(srv->nacm));
    memset(&srv->stats, 0, sizeof(srv->stats));
    srv->session_queued_max = 0;
    srv->notif_overflows = 0;
    srv->in_sessions = srv->in_bad_hellos = srv->dropped_sessions = 0;
    srv->next_sid = 1;
    srv->content_id = 1;
    srv->audit_err = 0;
    MM_GUARD(nc_ds_init(srv));
    return nc_notif_init(srv, replay_max);
}

struct ly_ctx *mm_nc_server_ctx(mm_nc_server *srv) { return srv->ctx; }

const struct lyd_node *mm_nc_server_running(mm_nc_server *srv)
{
    return srv->ds[NC_DS_RUNNING].tree;
}

void mm_nc_server_on_running_changed(mm_nc_server *srv, mm_nc_running_changed_cb cb, void *arg)
{
    srv->changed_cb = cb;
    srv->changed_arg = arg;
}

void mm_nc_server_on_running_check(mm_nc_server *srv, mm_nc_running_check_cb cb, void *arg)
{
    srv->check_cb = cb;
    srv->check_arg = arg;
}

bool nc_fault(const mm_nc_server *srv, const char *point)
{
    if (!srv->fault || !srv->fault(srv->fault_arg, point))
        return false;
    mm_log_warn("nc-fault", "point=%s result=injected", point);
    return true;
}

void nc_server_running_changed(mm_nc_server *srv)
{
    if (srv->changed_cb)
        srv->changed_cb(srv, srv->changed_arg);
}

void mm_nc_server_foreach_session(mm_nc_server *srv, mm_nc_session_visit_cb cb, void *arg)
{
    mm_nc_session *s = srv->sessions;
    while (s) {
        mm_nc_session *next = s->next; /* cb may terminate s */
        cb(s, s->io, arg);
        s = next;
    }
}

mm_nc_session *nc_server_find_session(mm_nc_server *srv, uint32_t id)
{
    for (mm_nc_session *s = srv->sessions; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

mm_nacm_req nc_nacm_req(const mm_nc_session *s)
{
    mm_nacm_req r = {
        .running = s->srv->ds[NC_DS_RUNNING].tree,
        .user = s->username,
        .recovery = s->recovery,
        .session_id = s->id,
        .audit = s->srv->audit,
        .counters = &s->srv->nacm,
        .audit_err = &s->srv->audit_err,
    };
    return r;
}

void mm_nc_server_on_event(mm_nc_server *srv, mm_nc_event_cb cb, void *arg)
{
    srv->event_cb = cb;
    srv->event_arg = arg;
}

void nc_observe(mm_nc_server *srv, enum mm_nc_event_kind kind, const char *name,
                const char *result, const char *transport, double seconds)
{
    if (!srv->event_cb)
        return;
    mm_nc_event_info ev = {.kind = kind, .name = name, .result = result,
                           .transport = transport, .seconds = seconds};
    srv->event_cb(&ev, srv->event_arg);
}

void mm_nc_server_stats(mm_nc_server *srv, mm_nc_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (const mm_nc_session *s = srv->sessions; s; s = s->next)
        out->sessions++;
    out->in_rpcs = srv->stats.in_rpcs;
    out->in_bad_rpcs = srv->stats.in_bad_rpcs;
    out->out_rpc_errors = srv->stats.out_rpc_errors;
    out->out_notifications = srv->stats.out_notifications;
    out->nacm_denied_operations = srv->nacm.denied_operations;
    out->nacm_denied_data_writes = srv->nacm.denied_data_writes;
    out->nacm_denied_notifications = srv->nacm.denied_notifications;
    out->replay_depth = srv->replay.count;
    out->session_queued_max = srv->session_queued_max;
    out->notif_overflows = srv->notif_overflows;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int nc_audit_commit(mm_nc_server *srv)
{
    double t0 = mono_now();
    int rc = mm_audit_flush_critical(srv->audit);
    nc_observe(srv, MM_NC_EV_AUDIT, "flush", rc == 0 ? "ok" : "error", NULL, mono_now() - t0);
    if (rc == 0 && srv->audit_err)
        rc = srv->audit_err;
    if (rc < 0)
        mm_log_error("nc-audit", "error=\"%s\" result=operation-refused", mm_strerror(rc));
    return rc;
}
