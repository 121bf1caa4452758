/*
 * netconfd.c - mamori-netconfd's start-up and reconfiguration, as a library
 * so that tests run the daemon's logic in-process: PKI on first start,
 * seed configuration, engine, TLS endpoints from ietf-netconf-server, and
 * re-application of that configuration whenever running changes.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_netconf_tls.h"
#include "mamori/mm_pki.h"
#include "netconfd.h"
#include "netconfd_metrics.h"
#include "netconfd_ssh_users.h"
#ifdef MM_NETCONFD_QUIC
#include "mamori/mm_netconf_quic.h"
#include "mamori/mm_quic.h"
#endif
#ifdef MM_NC_HAVE_SSH
#include "mamori/mm_netconf_ssh.h"
#endif

struct mm_netconfd {
    mm_netconfd_options o;
    struct event_base *base;
    mm_nc_server *engine;
    mm_nc_tls_server *tls;
#ifdef MM_NETCONFD_QUIC
    mm_nc_quic_server *quic;
    mm_nc_quic_settings *quic_set; /* what quic was last configured with */
#endif
    /* Reconfiguration of the QUIC endpoints runs from here, never from inside
     * the RPC that changed running: that RPC may have come over one of those
     * QUIC connections, inside its ngtcp2 callback (issue 10 #6). */
    struct event *reconf_ev;
    mm_netconfd_metrics *metrics;
    mm_netconfd_callhome *callhome;
    /* Who may log in over SSH: running's client-authentication users,
     * rebuilt and swapped on every change of running (ssh_users.c). */
    mm_netconfd_ssh_users *ssh_users;
#ifdef MM_NC_HAVE_SSH
    mm_nc_ssh_server *ssh;
#endif
};

/* Call-home clients given as --call-home options: named so, dialed besides running's. */
#define OPTION_PEER_PREFIX "--call-home:"

static int users_apply(struct mm_netconfd *d)
{
    mm_netconfd_ssh_users *t = NULL;
    MM_GUARD(mm_netconfd_ssh_users_from_running(mm_nc_server_running(d->engine), &t));
    /* Nothing keeps a pointer into the old table between calls: swap and free. */
    mm_netconfd_ssh_users_free(d->ssh_users);
    d->ssh_users = t;
    mm_log_info("netconfd-ssh-users", "keys=%zu", mm_netconfd_ssh_users_count(t));
    return 0;
}

/* The call-home clients of the options and of running, dialed from now on. */
static int callhome_apply(struct mm_netconfd *d)
{
    static mm_netconfd_callhome_peer peers[2 * MM_NETCONFD_CALLHOME_MAX];
    size_t n = 0;
    memset(peers, 0, sizeof(peers));
    for (size_t i = 0; i < d->o.n_call_home && n < MM_NETCONFD_CALLHOME_MAX; i++, n++) {
        mm_netconfd_callhome_peer *p = &peers[n];
        snprintf(p->name, sizeof(p->name), OPTION_PEER_PREFIX "%zu", i + 1);
        p->ep[0] = d->o.call_home[i];
        memcpy(p->ep[0].name, p->name, sizeof(p->ep[0].name));
        p->n_ep = 1;
        p->max_wait_s = 10;
        p->max_attempts = 1;
    }
    /* Over the limit (logged): the clients that fit are still dialed. */
    /* from_running appends at peers[n] (it indexes by *n itself). */
    (void)mm_netconfd_callhome_from_running(mm_nc_server_running(d->engine), peers,
                                            n + MM_NETCONFD_CALLHOME_MAX, &n);
    return mm_netconfd_callhome_apply(d->callhome, peers, n);
}

#ifdef MM_NETCONFD_QUIC
/*
 * NETCONF over QUIC endpoints from running (ietf-netconf-quic), applied in
 * place: endpoints whose address, port and settings did not change keep
 * their sessions; the cert-to-name map is replaced (mm_nc_quic_server_apply).
 */
static int quic_settings_now(struct mm_netconfd *d, mm_nc_quic_settings *s)
{
    const struct lyd_node *running = mm_nc_server_running(d->engine);
    MM_GUARD(mm_nc_quic_settings_from_running(running, d->o.pki_dir, s));
    snprintf(s->crl_file, sizeof(s->crl_file), "%s", d->o.crl_file ? d->o.crl_file : "");
    if (d->o.verify_ms)
        s->verify_interval_ms = d->o.verify_ms;
    if (d->o.idle_timeout_ms && !s->idle_timeout_set) {
        s->idle_timeout_ms = d->o.idle_timeout_ms;
        s->keep_alive_ms = d->o.idle_timeout_ms / 3 ? d->o.idle_timeout_ms / 3 : 1;
    }
    if (d->o.max_queue)
        s->max_queue = d->o.max_queue;
    /* The endpoint's own trust anchors (ca-certs), as for the TLS endpoints. */
    return mm_netconfd_quic_anchors(running, d->o.state_dir, s->ca_file, sizeof(s->ca_file));
}

static int quic_apply(struct mm_netconfd *d)
{
    mm_nc_quic_settings *s = calloc(1, sizeof(*s));
    MM_ENSURE(s, MM_ENOMEM);
    int rc = quic_settings_now(d, s);
    if (rc == MM_ENOENT) {
        /* No QUIC endpoint any more. */
        mm_nc_quic_server_free(d->quic);
        d->quic = NULL;
        free(d->quic_set);
        d->quic_set = NULL;
        free(s);
        return 0;
    }
    if (rc < 0 || (d->quic_set && !memcmp(s, d->quic_set, sizeof(*s)))) {
        free(s);
        return rc;
    }
    bool kept = d->quic != NULL;
    rc = kept ? mm_nc_quic_server_apply(d->quic, s)
              : mm_nc_quic_server_new(d->engine, d->base, s, &d->quic);
    /* Trust anchors may have changed in place (same file, new content):
     * re-read them now and re-verify every session, as the TLS side does. */
    if (kept)
        mm_nc_quic_server_reverify(d->quic);
    free(d->quic_set);
    d->quic_set = s;
    for (size_t i = 0; d->quic && mm_nc_quic_server_port(d->quic, i); i++)
        mm_log_info("netconfd-quic-listen", "port=%u alpn=noq", mm_nc_quic_server_port(d->quic, i));
    return rc;
}
#else
static int quic_apply(struct mm_netconfd *d)
{
    (void)d;
    return 0;
}
#endif

static void on_reconfigure(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    int rc = quic_apply(arg);
    if (rc < 0)
        mm_log_error("netconfd-reconfigure", "transport=quic err=\"%s\"", mm_strerror(rc));
}

static mm_nc_server_config engine_config(const mm_netconfd_options *o)
{
    mm_nc_server_config cfg = {.module_dir = o->module_dir, .state_dir = o->state_dir,
                               .max_message = o->max_message,
                               .max_elements = o->max_elements,
                               .max_attributes = o->max_attributes,
                               .max_depth = o->max_depth,
                               .recovery_user = o->recovery_user,
                               .notif_grace_ms = o->notif_grace_ms};
    return cfg;
}

/*
 * First start: write the seed configuration as running.xml and startup.xml
 * (the engine's datastore files) so the engine starts from it.
 */
static int seed_if_new(const mm_netconfd_options *o)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/running.xml", o->state_dir);
    if (access(path, F_OK) == 0)
        return 0;
    char *json = NULL;
    MM_GUARD(mm_netconfd_seed_json(o->pki_dir, o->address, o->port, o->quic_port, &json));
    struct ly_ctx *ctx = NULL;
    struct lyd_node *tree = NULL;
    mm_nc_server_config cfg = engine_config(o);
    int rc = mm_nc_server_ctx_new(&cfg, &ctx);
    if (rc == 0 && lyd_parse_data_mem(ctx, json, LYD_JSON, LYD_PARSE_STRICT | LYD_PARSE_NO_STATE,
                                      LYD_VALIDATE_PRESENT | LYD_VALIDATE_NO_STATE,
                                      &tree) != LY_SUCCESS) {
        mm_log_error("netconfd-seed", "err=\"%s\"", ly_errmsg(ctx));
        rc = MM_ECONFIG;
    }
    static const char *const files[] = {"startup.xml", "running.xml"};
    for (size_t i = 0; rc == 0 && i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", o->state_dir, files[i]);
        if (lyd_print_path(path, tree, LYD_XML, LYD_PRINT_WITHSIBLINGS) != LY_SUCCESS)
            rc = MM_EIO;
        chmod(path, 0600);
    }
    if (rc == 0)
        mm_log_info("netconfd-seed", "state=%s listen=[%s]:%u user=%s", o->state_dir, o->address,
                    o->port, MM_PKI_DEFAULT_CLIENT);
    lyd_free_all(tree);
    ly_ctx_destroy(ctx);
    free(json);
    return rc;
}

/* The TLS settings running asks for, plus the daemon's own options. */
static int settings_now(struct mm_netconfd *d, mm_nc_tls_settings *s)
{
    int rc = mm_netconfd_settings_from_running(mm_nc_server_running(d->engine), d->o.pki_dir,
                                               d->o.state_dir, s);
    if (rc == MM_ENOENT) {
        /* Never locked out: a running without a TLS endpoint (edited by hand,
         * or QUIC only) still gets one, on --address/--port (issue 10 #5). */
        mm_log_error("netconfd-listen",
                     "err=\"running has no TLS endpoint in %s\" action=\"listening on the "
                     "fallback endpoint [%s]:%u (--address/--port) with the PKI's CA and "
                     "cert-to-name by common name; add an endpoint to running\"",
                     MM_NETCONFD_ENDPOINTS, d->o.address, d->o.port);
        rc = mm_netconfd_fallback_settings(d->o.pki_dir, d->o.address, d->o.port, s);
    }
    MM_GUARD(rc);
    snprintf(s->crl_file, sizeof(s->crl_file), "%s", d->o.crl_file ? d->o.crl_file : "");
    s->verify_interval_ms = d->o.verify_ms;
    s->dead_peer_ms = d->o.idle_timeout_ms;
    s->max_queue = d->o.max_queue;
    return 0;
}

#ifdef MM_NC_HAVE_SSH
static int ssh_apply(struct mm_netconfd *d);
#endif

/* running changed: re-read ietf-netconf-server and apply it. */
static void on_running_changed(mm_nc_server *srv, void *arg)
{
    (void)srv;
    struct mm_netconfd *d = arg;
    mm_nc_tls_settings *s = calloc(1, sizeof(*s));
    int rc = s ? settings_now(d, s) : MM_ENOMEM;
    if (rc == 0 && d->tls)
        rc = mm_nc_tls_server_apply(d->tls, s);
    /* SSH users: sessions whose key is gone end at the transport's next
     * re-verification pass (from its timer, not from inside this RPC). */
    int rc2 = users_apply(d);
    rc = rc < 0 ? rc : rc2;
#ifdef MM_NC_HAVE_SSH
    rc2 = ssh_apply(d);
    rc = rc < 0 ? rc : rc2;
#endif
    rc2 = callhome_apply(d);
    rc = rc < 0 ? rc : rc2;
    /* After the current callback chain (see reconf_ev). */
    event_active(d->reconf_ev, 0, 0);
    if (rc < 0)
        mm_log_error("netconfd-reconfigure", "err=\"%s\"", mm_strerror(rc));
    free(s);
}

static int check_running(const struct lyd_node *proposed, char *path, size_t path_len,
                         char *msg, size_t msg_len, void *arg)
{
    (void)arg;
    int rc = mm_netconfd_check_listen(proposed, path, path_len, msg, msg_len);
    if (rc == 0)
        rc = mm_netconfd_ssh_users_check(proposed, path, path_len, msg, msg_len);
    if (rc < 0)
        mm_log_warn("netconfd-refuse-config", "path=%s err=\"%s\"", path, msg);
    return rc;
}

#ifdef MM_NC_HAVE_SSH
/*
 * The transport's question "may user log in with this key": running's
 * client-authentication users. The listen endpoints' users for accepted
 * connections and for --call-home option clients, a call-home
 * netconf-client's own users for its connections.
 */
static bool ssh_authorize(void *arg, const char *scope, const char *user, const char *key_b64)
{
    struct mm_netconfd *d = arg;
    return mm_netconfd_ssh_users_allow(d->ssh_users, scope, user, key_b64);
}

/*
 * The SSH listeners: the local-binds of running's ssh listen endpoints, plus
 * the bootstrap --ssh-port on every --address (skipped where running has the
 * same address and port: the configured endpoint's users then apply there).
 */
static int ssh_endpoints(struct mm_netconfd *d, mm_nc_ssh_endpoint *eps, size_t *n)
{
    int rc = mm_netconfd_ssh_endpoints_from_running(mm_nc_server_running(d->engine), eps,
                                                    MM_NC_SSH_MAX_ENDPOINTS, n);
    if (!d->o.ssh_enabled)
        return rc;
    char addrs[512];
    snprintf(addrs, sizeof(addrs), "%s", d->o.address);
    char *save = NULL;
    for (char *a = strtok_r(addrs, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        bool dup = false;
        for (size_t i = 0; i < *n && !dup; i++)
            dup = eps[i].port == d->o.ssh_port && !strcmp(eps[i].address, a);
        if (dup)
            continue;
        if (*n == MM_NC_SSH_MAX_ENDPOINTS)
            return MM_ELIMIT;
        mm_nc_ssh_endpoint *e = &eps[(*n)++];
        memset(e, 0, sizeof(*e));
        snprintf(e->address, sizeof(e->address), "%s", a);
        e->port = d->o.ssh_port; /* scope "": the users of every listen endpoint */
    }
    return rc;
}

/*
 * NETCONF over SSH: started when --ssh-port is given or running has an ssh
 * endpoint; later changes of running rebind the listeners in place. Client
 * authentication from running (ssh_authorize); the per-user key files of
 * --ssh-keys-dir only when that option is given (bootstrap fallback).
 */
static int ssh_apply(struct mm_netconfd *d)
{
    mm_nc_ssh_endpoint eps[MM_NC_SSH_MAX_ENDPOINTS];
    size_t n = 0;
    int rc = ssh_endpoints(d, eps, &n);
    if (rc < 0)
        mm_log_error("netconfd-ssh", "err=\"%s\" action=\"listening on the first %zu "
                     "endpoints\"", mm_strerror(rc), n);
    if (d->ssh)
        return mm_nc_ssh_server_listen(d->ssh, eps, n);
    if (n == 0)
        return 0;
    mm_nc_ssh_settings *s = calloc(1, sizeof(*s));
    MM_ENSURE(s, MM_ENOMEM);
    snprintf(s->host_key_file, sizeof(s->host_key_file), "%s/ssh_host_ed25519_key",
             d->o.state_dir);
    rc = 0;
    if (d->o.ssh_keys_dir && d->o.ssh_keys_dir[0]) {
        snprintf(s->keys_dir, sizeof(s->keys_dir), "%s", d->o.ssh_keys_dir);
        rc = mm_mkdir_p(s->keys_dir, 0700);
        mm_log_warn("netconfd-ssh-bootstrap",
                    "dir=%s note=\"per-user key files accepted besides running's "
                    "client-authentication users (bootstrap fallback)\"", s->keys_dir);
    }
    s->authorize = ssh_authorize;
    s->authorize_arg = d;
    memcpy(s->endpoints, eps, n * sizeof(eps[0]));
    s->n_endpoints = n;
    s->verify_interval_ms = d->o.verify_ms;
    s->dead_peer_ms = d->o.idle_timeout_ms;
    s->max_queue = d->o.max_queue;
    if (rc == 0)
        rc = mm_nc_ssh_server_new(d->engine, d->base, s, &d->ssh);
    free(s);
    return rc;
}
#endif

/* Sessions per transport for the metrics gauges. */
static int count_sessions(const char *transport, size_t *sessions, size_t *queued, void *arg)
{
    struct mm_netconfd *d = arg;
    *queued = MM_NETCONFD_QUEUED_UNKNOWN;
    if (!strcmp(transport, "netconf-tls") && d->tls) {
        *sessions = mm_nc_tls_server_session_count(d->tls);
        *queued = mm_nc_tls_server_queued_bytes(d->tls);
        return 0;
    }
#ifdef MM_NC_HAVE_SSH
    if (!strcmp(transport, "netconf-ssh") && d->ssh) {
        *sessions = mm_nc_ssh_server_session_count(d->ssh);
        *queued = mm_nc_ssh_server_queued_bytes(d->ssh);
        return 0;
    }
#endif
#ifdef MM_NETCONFD_QUIC
    if (!strcmp(transport, "netconf-quic") && d->quic) {
        *sessions = mm_nc_quic_server_session_count(d->quic);
        *queued = mm_nc_quic_server_queued_bytes(d->quic);
        return 0;
    }
#endif
    return MM_ENOENT;
}

/* Call home: a connected socket goes to the TLS or SSH transport. */
static int callhome_adopt(const char *transport, int fd, const char *scope,
                          void (*closed)(void *), void *carg, void *arg)
{
    struct mm_netconfd *d = arg;
    if (!strcmp(transport, "tls") && d->tls)
        return mm_nc_tls_server_adopt(d->tls, fd, closed, carg); /* one TLS identity and trust */
#ifdef MM_NC_HAVE_SSH
    if (!strcmp(transport, "ssh") && d->ssh) {
        /* A --call-home option client: the listen endpoints' users; a
         * netconf-client of running: its own users. */
        char sc[128] = "";
        if (strncmp(scope, OPTION_PEER_PREFIX, strlen(OPTION_PEER_PREFIX)) != 0)
            snprintf(sc, sizeof(sc), MM_NETCONFD_SCOPE_CALL_HOME "%.64s", scope);
        return mm_nc_ssh_server_adopt(d->ssh, fd, sc, closed, carg);
    }
#endif
    close(fd);
    mm_log_error("netconfd-callhome", "transport=%s err=\"transport not running (ssh needs "
                 "--ssh-port or an ssh endpoint in running)\"", transport);
    return MM_ECONFIG;
}

static int start(struct mm_netconfd *d)
{
    const mm_netconfd_options *o = &d->o;
    if (!mm_pki_exists(o->pki_dir)) {
        mm_log_info("netconfd-pki", "dir=%s action=init", o->pki_dir);
        MM_GUARD(mm_pki_init(o->pki_dir, false));
    }
    MM_GUARD(mm_mkdir_p(o->state_dir, 0700));
    MM_GUARD(seed_if_new(o));
    mm_nc_server_config cfg = engine_config(o);
    MM_GUARD(mm_nc_server_new(&cfg, d->base, &d->engine));
    d->reconf_ev = event_new(d->base, -1, 0, on_reconfigure, d);
    MM_ENSURE(d->reconf_ev, MM_ENOMEM);
    mm_nc_tls_settings *s = calloc(1, sizeof(*s));
    MM_ENSURE(s, MM_ENOMEM);
    int rc = settings_now(d, s);
    if (rc == 0)
        rc = mm_nc_tls_server_new(d->engine, d->base, s, &d->tls);
    free(s);
    if (rc == 0)
        rc = quic_apply(d);
    if (rc == 0)
        rc = users_apply(d);
#ifdef MM_NC_HAVE_SSH
    if (rc == 0)
        rc = ssh_apply(d);
#endif
    if (rc == 0)
        rc = mm_netconfd_callhome_new(d->base, d->o.call_home_retry_ms, callhome_adopt, d,
                                      &d->callhome);
    if (rc == 0)
        rc = callhome_apply(d);
    if (rc == 0 && d->o.metrics_enabled)
        rc = mm_netconfd_metrics_start(d->engine, d->base, d->o.metrics_address,
                                       d->o.metrics_port, count_sessions, d, &d->metrics);
    if (rc == 0) {
        mm_nc_server_on_running_changed(d->engine, on_running_changed, d);
        mm_nc_server_on_running_check(d->engine, check_running, d);
    }
    return rc;
}

int mm_netconfd_start(const mm_netconfd_options *o, struct event_base *base, mm_netconfd **out)
{
    *out = NULL;
    MM_ENSURE(o && o->state_dir && o->pki_dir && base, MM_EINVAL);
    struct mm_netconfd *d = calloc(1, sizeof(*d));
    MM_ENSURE(d, MM_ENOMEM);
    d->o = *o;
    if (!d->o.address)
        d->o.address = MM_NETCONFD_DEFAULT_ADDRESSES;
    if (d->o.module_dir && !d->o.module_dir[0])
        d->o.module_dir = NULL;
    d->base = base;
    int rc = start(d);
    if (rc < 0) {
        mm_netconfd_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

mm_nc_server *mm_netconfd_engine(mm_netconfd *d) { return d->engine; }
mm_nc_tls_server *mm_netconfd_tls(mm_netconfd *d) { return d->tls; }

uint16_t mm_netconfd_ssh_port(mm_netconfd *d, size_t i)
{
#ifdef MM_NC_HAVE_SSH
    return mm_nc_ssh_server_port(d->ssh, i);
#else
    (void)d;
    (void)i;
    return 0;
#endif
}

mm_netconfd_callhome *mm_netconfd_callhome_of(mm_netconfd *d) { return d->callhome; }

uint16_t mm_netconfd_metrics_port(mm_netconfd *d)
{
    return mm_netconfd_metrics_bound_port(d->metrics);
}

const char *mm_netconfd_ssh_fingerprint(mm_netconfd *d)
{
#ifdef MM_NC_HAVE_SSH
    return d->ssh ? mm_nc_ssh_server_fingerprint(d->ssh) : "";
#else
    (void)d;
    return "";
#endif
}

void mm_netconfd_free(mm_netconfd *d)
{
    if (!d)
        return;
    if (d->engine) {
        mm_nc_server_on_running_changed(d->engine, NULL, NULL);
        mm_nc_server_on_running_check(d->engine, NULL, NULL);
    }
    if (d->reconf_ev)
        event_free(d->reconf_ev);
    mm_netconfd_metrics_free(d->metrics); /* before the engine it observes */
    mm_nc_tls_server_free(d->tls);
#ifdef MM_NC_HAVE_SSH
    mm_nc_ssh_server_free(d->ssh);
#endif
    mm_netconfd_callhome_free(d->callhome); /* after the transports: no closed() any more */
    mm_netconfd_ssh_users_free(d->ssh_users);
#ifdef MM_NETCONFD_QUIC
    mm_nc_quic_server_free(d->quic);
    free(d->quic_set);
#endif
    mm_nc_server_free(d->engine);
    free(d);
}
