/*
 * The suite supervisor: start daemons, restart crashed ones with backoff,
 * stop everything cleanly on SIGINT/SIGTERM.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mamori/mm_buf.h"
#include "mamori/mm_core.h"
#include "mamori/mm_event.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_supervisor.h"

/*
 * The suite's daemons, in start order: adding a daemon to the default setup
 * is adding a row. Listeners are loopback only (zero trust: nothing is
 * exposed until an operator decides to).
 */
static const struct known_daemon {
    const char *name, *program, *args, *listen, *hint;
} known_daemons[] = {
    {"netconfd", "mamori-netconfd",
     "\"--state-dir\", \"{state-dir}/netconf\", \"--pki-dir\", \"{pki-dir}\", "
     "\"--quic-port\", \"8831\"",
     "tls://[::1]:6513 and 127.0.0.1:6513  NETCONF over TLS 1.3 (RFC 7589), X25519SCloud+128 "
     "first; quic://[::1]:8831 and 127.0.0.1:8831  NETCONF over QUIC (ALPN noq)",
     /* netconfd listens on both loopbacks by default: "localhost" works on
      * hosts where it resolves only to 127.0.0.1 as well as only to ::1. */
     "MM_PKI_DIR={pki-dir} mamori nc --host localhost get-config"},
    /* ddnsd runs Knot DNS as its child (--knot): config, TSIG key and zone are
     * generated in <state>/ddns/knot; without knotd it logs a hint and serves
     * the API alone. */
    {"ddnsd", "mamori-ddnsd",
     "\"--state-dir\", \"{state-dir}/ddns\", \"--pki-dir\", \"{pki-dir}\", \"--knot\", \"5300\"",
     "https://127.0.0.1:8443  ApertoDNS dynamic DNS API (TLS 1.3, X25519SCloud+128 first); "
     "tokens: mamori ddns admin token-create --state-dir <state>/ddns; "
     "dns://127.0.0.1:5300  Knot DNS (child of ddnsd) serving dyn.home.arpa with every update",
     "mamori ddns health --ca {pki-dir}/ca.crt"},
    {"bmpd", "mamori-bmpd",
     "\"--audit\", \"{state-dir}/bmp/audit.log\", \"--jsonl\", \"{state-dir}/bmp/bmp.jsonl\", "
     "\"--db\", \"{state-dir}/bmp/bmp.db\", \"--metrics\", \"127.0.0.1:9179\"",
     "bmp://127.0.0.1:1790 and [::1]:1790  routers send BMP here (allow-list: loopback); "
     "metrics on http://127.0.0.1:9179/metrics",
     "mamori bmp stats --db {state-dir}/bmp/bmp.db"},
    /* The BGP speaker has nothing to do without peers: it joins the suite once
     * <state>/bgp/bgpd.json lists neighbors (docs/bgpd.md). */
    {"bgpd", "mamori-bgpd",
     "\"--config\", \"{state-dir}/bgp/bgpd.json\", \"--control\", \"{state-dir}/bgp/control.sock\", "
     "\"--audit\", \"{state-dir}/bgp/audit.log\"",
     "BGP on the listen-address/port of <state>/bgp/bgpd.json (default 127.0.0.1:179); "
     "neighbors allow-listed there",
     "mamori bgp --socket {state-dir}/bgp/control.sock neighbors"},
};

static int default_state_dir(char *out, size_t len);

/*
 * Does <state>/bgp/bgpd.json list at least one neighbor? A light scan for
 * "neighbors": [ { - the daemon validates the whole file itself when it
 * starts (and refuses it with the member's path).
 */
static bool bgpd_wanted(const char *state_dir)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/bgp/bgpd.json", state_dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return false;
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[len] = '\0';
    for (const char *p = strstr(text, "\"neighbors\""); p; p = strstr(p + 1, "\"neighbors\"")) {
        const char *q = p + strlen("\"neighbors\"");
        const char *want = ":[{";
        while (*q && *want) {
            if (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') {
                q++;
                continue;
            }
            if (*q != *want)
                break;
            q++;
            want++;
        }
        if (!*want)
            return true;
    }
    return false;
}

/* Rows of known_daemons that join the default suite only when their
 * condition holds for the state dir (the others always do). */
static const struct {
    const char *name;
    bool (*wanted)(const char *state_dir);
} daemon_conditions[] = {
    {"bgpd", bgpd_wanted},
};

static bool daemon_wanted(const char *name, const char *state_dir)
{
    for (size_t i = 0; i < sizeof(daemon_conditions) / sizeof(daemon_conditions[0]); i++)
        if (!strcmp(daemon_conditions[i].name, name))
            return daemon_conditions[i].wanted(state_dir);
    return true;
}

char *mm_suite_default_config(void)
{
    mm_buf b;
    mm_buf_init(&b, 1 << 16);
    int rc = mm_buf_append_str(&b, "{\n  \"mamori-suite:suite\": {\n    \"log-level\": \"info\"");
    bool any = false;
    char state_dir[PATH_MAX];
    if (default_state_dir(state_dir, sizeof(state_dir)) < 0)
        state_dir[0] = '\0';
    for (size_t i = 0; rc == 0 && i < sizeof(known_daemons) / sizeof(known_daemons[0]); i++) {
        const struct known_daemon *d = &known_daemons[i];
        char exe[PATH_MAX];
        mm_suite_resolve_program(d->program, exe, sizeof(exe));
        if (access(exe, X_OK) != 0)
            continue; /* not built or not installed: not part of this suite */
        if (!daemon_wanted(d->name, state_dir))
            continue; /* nothing for it to do in this state dir */
        rc = mm_buf_printf(&b,
                           "%s      {\"name\": \"%s\", \"program\": \"%s\", \"argument\": [%s],\n"
                           "       \"listen\": \"%s\", \"connect-hint\": \"%s\"}",
                           any ? ",\n" : ",\n    \"daemon\": [\n", d->name, d->program, d->args,
                           d->listen, d->hint);
        any = true;
    }
    if (rc == 0 && any)
        rc = mm_buf_append_str(&b, "\n    ]");
    if (rc == 0)
        rc = mm_buf_append_str(&b, "\n  }\n}\n");
    char *out = rc == 0 ? strdup(mm_buf_cstr(&b)) : NULL;
    mm_buf_free(&b);
    return out;
}

/* ------------------------------------------------------------ config */

static int copy_str(char *dst, size_t len, const char *src)
{
    int n = snprintf(dst, len, "%s", src ? src : "");
    return (n < 0 || (size_t)n >= len) ? MM_ELIMIT : 0;
}

/* Replace {state-dir} and {pki-dir} in one argument. */
static char *expand_arg(const char *arg, const mm_suite_config *c)
{
    static const struct {
        const char *token;
        size_t off;
    } tokens[] = {{"{state-dir}", offsetof(mm_suite_config, state_dir)},
                  {"{pki-dir}", offsetof(mm_suite_config, pki_dir)}};
    char out[4096];
    size_t o = 0;
    while (*arg && o + 1 < sizeof(out)) {
        bool done = false;
        for (size_t t = 0; t < 2 && !done; t++) {
            size_t tl = strlen(tokens[t].token);
            if (strncmp(arg, tokens[t].token, tl) != 0)
                continue;
            const char *val = (const char *)c + tokens[t].off;
            int n = snprintf(out + o, sizeof(out) - o, "%s", val);
            if (n < 0 || (size_t)n >= sizeof(out) - o)
                return NULL;
            o += (size_t)n;
            arg += tl;
            done = true;
        }
        if (!done)
            out[o++] = *arg++;
    }
    if (*arg)
        return NULL;
    out[o] = '\0';
    return strdup(out);
}

static int default_state_dir(char *out, size_t len)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    if (xdg && *xdg) {
        int n = snprintf(out, len, "%s/mamori", xdg);
        return (n < 0 || (size_t)n >= len) ? MM_ELIMIT : 0;
    }
    return copy_str(out, len, "./var");
}

static int daemon_from_node(const struct lyd_node *list, mm_suite_config *c, mm_daemon_spec *d)
{
    const struct lyd_node *leaf;
    size_t argc = 1;
    d->enabled = true;
    LY_LIST_FOR(lyd_child(list), leaf)
    {
        const char *name = leaf->schema->name;
        const char *val = lyd_get_value(leaf);
        if (!strcmp(name, "name"))
            MM_GUARD(copy_str(d->name, sizeof(d->name), val));
        else if (!strcmp(name, "enabled"))
            d->enabled = !strcmp(val, "true");
        else if (!strcmp(name, "program"))
            MM_GUARD(copy_str(d->program, sizeof(d->program), val));
        else if (!strcmp(name, "listen"))
            MM_GUARD(copy_str(d->listen, sizeof(d->listen), val));
        else if (!strcmp(name, "connect-hint")) {
            char *h = expand_arg(val, c);
            int rc = h ? copy_str(d->hint, sizeof(d->hint), h) : MM_ELIMIT;
            free(h);
            MM_GUARD(rc);
        }
        else if (!strcmp(name, "argument")) {
            MM_ENSURE(argc <= MM_SUPERVISOR_MAX_ARGS, MM_ELIMIT);
            d->argv[argc] = expand_arg(val, c);
            MM_ENSURE(d->argv[argc], MM_ELIMIT);
            argc++;
        }
    }
    d->argv[0] = strdup(d->program);
    MM_ENSURE(d->argv[0], MM_ENOMEM);
    d->argv[argc] = NULL;
    return 0;
}

/* suite/scloudplus leaves -> "key=value;..." with the provider's key names. */
static int scloudplus_options(const mm_config *cfg, char *out, size_t len)
{
    static const char *const leaves[] = {
        "x25519-scloudplus128-codepoint", "secp256r1-scloudplus192-codepoint",
        "secp384r1-scloudplus256-codepoint", "scloudplus128-codepoint",
        "scloudplus192-codepoint", "scloudplus256-codepoint", "allow-any-codepoint",
        "variant"};
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        char path[128], key[64];
        snprintf(path, sizeof(path), "/mamori-suite:suite/scloudplus/%s", leaves[i]);
        const char *v = mm_config_str(cfg, path, NULL);
        if (v == NULL)
            continue;
        snprintf(key, sizeof(key), "%s%s", !strcmp(leaves[i], "variant") ? "scloudplus_" : "",
                 leaves[i]);
        for (char *k = key; *k; k++)
            *k = *k == '-' ? '_' : *k;
        int n = snprintf(out + used, len - used, "%s%s=%s", used ? ";" : "", key, v);
        MM_ENSURE(n > 0 && (size_t)n < len - used, MM_ELIMIT);
        used += (size_t)n;
    }
    return 0;
}

int mm_suite_config_from_tree(const mm_config *cfg, mm_suite_config *c)
{
    memset(c, 0, sizeof(*c));
    const char *sd = mm_config_str(cfg, "/mamori-suite:suite/state-dir", NULL);
    MM_GUARD(sd ? copy_str(c->state_dir, sizeof(c->state_dir), sd)
                : default_state_dir(c->state_dir, sizeof(c->state_dir)));
    const char *pd = mm_config_str(cfg, "/mamori-suite:suite/pki-dir", NULL);
    if (pd)
        MM_GUARD(copy_str(c->pki_dir, sizeof(c->pki_dir), pd));
    else
        MM_GUARD(mm_pki_path(c->state_dir, "pki", c->pki_dir, sizeof(c->pki_dir)));
    MM_GUARD(copy_str(c->log_level, sizeof(c->log_level),
                      mm_config_str(cfg, "/mamori-suite:suite/log-level", "info")));
    MM_GUARD(scloudplus_options(cfg, c->scloudplus_options, sizeof(c->scloudplus_options)));
    c->initial_backoff_ms =
        mm_config_u32(cfg, "/mamori-suite:suite/restart/initial-backoff-ms", 500);
    c->max_backoff_ms = mm_config_u32(cfg, "/mamori-suite:suite/restart/max-backoff-ms", 30000);
    c->stable_after_s = mm_config_u32(cfg, "/mamori-suite:suite/restart/stable-after-s", 60);
    struct lyd_node *suite = NULL;
    if (cfg && cfg->tree && lyd_find_path(cfg->tree, "/mamori-suite:suite", 0, &suite) == 0) {
        struct lyd_node *n;
        LY_LIST_FOR(lyd_child(suite), n)
        {
            if (strcmp(n->schema->name, "daemon") != 0)
                continue;
            if (c->n_daemons == MM_SUPERVISOR_MAX_DAEMONS) {
                mm_suite_config_clear(c);
                return MM_ELIMIT;
            }
            int rc = daemon_from_node(n, c, &c->daemons[c->n_daemons++]);
            if (rc < 0) {
                mm_suite_config_clear(c);
                return rc;
            }
        }
    }
    return 0;
}

void mm_suite_config_clear(mm_suite_config *c)
{
    for (size_t i = 0; i < c->n_daemons; i++)
        for (size_t a = 0; c->daemons[i].argv[a]; a++)
            free(c->daemons[i].argv[a]);
    c->n_daemons = 0;
}

/* ------------------------------------------------------------ running */

struct child {
    const mm_daemon_spec *spec;
    pid_t pid;
    int64_t started_us;
    uint32_t backoff_ms;
    unsigned restarts;
    struct event *restart_timer;
    struct supervisor *sv;
};

struct supervisor {
    const mm_suite_config *cfg;
    struct event_base *base;
    struct event *sigchld;
    struct event *kill_timer;
    bool stopping;
    size_t n;
    struct child kids[MM_SUPERVISOR_MAX_DAEMONS];
};

#ifndef MM_BUILD_DAEMON_DIRS
#define MM_BUILD_DAEMON_DIRS ""
#endif

/* dir/program into out if it is executable. */
static bool try_dir(const char *dir, size_t dlen, const char *program, char *out, size_t len)
{
    char cand[PATH_MAX];
    int n = snprintf(cand, sizeof(cand), "%.*s/%s", (int)dlen, dir, program);
    if (n <= 0 || (size_t)n >= sizeof(cand) || (size_t)n >= len || access(cand, X_OK) != 0)
        return false;
    memcpy(out, cand, (size_t)n + 1);
    return true;
}

void mm_suite_resolve_program(const char *program, char *out, size_t len)
{
    snprintf(out, len, "%s", program);
    if (strchr(program, '/'))
        return;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash = n > 0 ? (self[n] = '\0', strrchr(self, '/')) : NULL;
    if (slash && try_dir(self, (size_t)(slash - self), program, out, len))
        return;
    /* Running from the build tree: each daemon is in its module's folder. */
    for (const char *p = MM_BUILD_DAEMON_DIRS; *p;) {
        size_t l = strcspn(p, ":");
        if (l && try_dir(p, l, program, out, len))
            return;
        p += l + (p[l] == ':');
    }
}

static int spawn(struct child *k)
{
    const mm_suite_config *cfg = k->sv->cfg;
    char exe[PATH_MAX];
    mm_suite_resolve_program(k->spec->program, exe, sizeof(exe));
    pid_t pid = fork();
    if (pid < 0) {
        mm_log_error("daemon-spawn", "name=%s err=\"%s\"", k->spec->name, strerror(errno));
        return MM_ESYS;
    }
    if (pid == 0) {
        /* Own process group: a terminal's Ctrl-C reaches the supervisor only,
         * which then stops the daemons in order. */
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        setenv("MM_STATE_DIR", cfg->state_dir, 1);
        setenv("MM_PKI_DIR", cfg->pki_dir, 1);
        setenv("MM_LOG_LEVEL", cfg->log_level, 1);
        if (cfg->scloudplus_options[0] != '\0')
            setenv("MM_SCLOUDPLUS_OPTIONS", cfg->scloudplus_options, 1);
        execvp(exe, k->spec->argv);
        fprintf(stderr, "mamori up: cannot execute %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also here, so a kill(-pid) right after fork finds the group */
    k->pid = pid;
    k->started_us = mm_monotonic_us();
    mm_log_info("daemon-start", "name=%s pid=%ld program=%s restarts=%u", k->spec->name,
                (long)pid, exe, k->restarts);
    return 0;
}

static void on_restart(void *arg)
{
    struct child *k = arg;
    if (!k->sv->stopping && k->pid == 0)
        spawn(k);
}

static size_t running(const struct supervisor *sv)
{
    size_t n = 0;
    for (size_t i = 0; i < sv->n; i++)
        n += sv->kids[i].pid > 0;
    return n;
}

static void describe_status(int status, char *out, size_t len)
{
    if (WIFEXITED(status))
        snprintf(out, len, "exit=%d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, len, "signal=%d", WTERMSIG(status));
    else
        snprintf(out, len, "status=%d", status);
}

static void child_exited(struct supervisor *sv, struct child *k, int status)
{
    char how[32];
    describe_status(status, how, sizeof(how));
    double ran = (double)(mm_monotonic_us() - k->started_us) / 1e6;
    k->pid = 0;
    if (sv->stopping) {
        mm_log_info("daemon-stopped", "name=%s %s", k->spec->name, how);
        return;
    }
    const mm_suite_config *cfg = sv->cfg;
    if (ran >= cfg->stable_after_s || k->backoff_ms == 0)
        k->backoff_ms = cfg->initial_backoff_ms;
    else
        k->backoff_ms = k->backoff_ms > cfg->max_backoff_ms / 2 ? cfg->max_backoff_ms
                                                                 : k->backoff_ms * 2;
    k->restarts++;
    mm_log_warn("daemon-crashed", "name=%s %s ran_s=%.1f restart_in_ms=%u restarts=%u",
                k->spec->name, how, ran, k->backoff_ms, k->restarts);
    if (!k->restart_timer)
        k->restart_timer = mm_timer_new(sv->base, k->backoff_ms, false, on_restart, k);
    else
        mm_timer_arm(k->restart_timer, k->backoff_ms);
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct supervisor *sv = arg;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < sv->n; i++)
            if (sv->kids[i].pid == pid)
                child_exited(sv, &sv->kids[i], status);
    }
    if (sv->stopping && running(sv) == 0)
        event_base_loopexit(sv->base, NULL);
}

static void on_kill_timer(void *arg)
{
    struct supervisor *sv = arg;
    for (size_t i = 0; i < sv->n; i++) {
        if (sv->kids[i].pid > 0) {
            mm_log_warn("daemon-kill", "name=%s pid=%ld reason=grace-period-over",
                        sv->kids[i].spec->name, (long)sv->kids[i].pid);
            kill(-sv->kids[i].pid, SIGKILL); /* the whole process group */
        }
    }
}

static void on_shutdown(int signo, void *arg)
{
    (void)signo;
    struct supervisor *sv = arg;
    sv->stopping = true;
    for (size_t i = 0; i < sv->n; i++)
        if (sv->kids[i].pid > 0)
            kill(-sv->kids[i].pid, SIGTERM);
    if (running(sv) == 0) {
        event_base_loopexit(sv->base, NULL);
        return;
    }
    sv->kill_timer = mm_timer_new(sv->base, MM_SUPERVISOR_STOP_GRACE_MS, false, on_kill_timer, sv);
}

static int prepare_state(const mm_suite_config *cfg)
{
    if (mm_mkdir_p(cfg->state_dir, 0700) < 0) {
        mm_log_error("state-dir", "dir=%s err=\"%s\"", cfg->state_dir, strerror(errno));
        return MM_ESYS;
    }
    if (mm_pki_exists(cfg->pki_dir))
        return 0;
    mm_log_info("pki-init", "dir=%s reason=first-run", cfg->pki_dir);
    int rc = mm_pki_init(cfg->pki_dir, false);
    if (rc < 0)
        mm_log_error("pki-init", "dir=%s err=\"%s\"", cfg->pki_dir, mm_strerror(rc));
    return rc;
}

static void print_banner(const struct supervisor *sv, FILE *out)
{
    const mm_suite_config *cfg = sv->cfg;
    fprintf(out, "mamori %s up\n  state: %s\n  pki:   %s\n", MM_VERSION, cfg->state_dir,
            cfg->pki_dir);
    if (sv->n == 0) {
        fprintf(out, "  no daemon is enabled; staying up until stopped (Ctrl-C or SIGTERM).\n");
    }
    for (size_t i = 0; i < sv->n; i++) {
        const mm_daemon_spec *d = sv->kids[i].spec;
        fprintf(out, "  %-10s %s\n", d->name, d->listen[0] ? d->listen : "(no listener given)");
        if (d->hint[0])
            fprintf(out, "  %-10s connect: %s\n", "", d->hint);
    }
    fprintf(out, "Press Ctrl-C to stop.\n");
    fflush(out);
}

int mm_supervisor_run(const mm_suite_config *cfg, FILE *banner)
{
    MM_GUARD(prepare_state(cfg));
    struct supervisor *sv = calloc(1, sizeof(*sv));
    if (!sv)
        return MM_ENOMEM;
    sv->cfg = cfg;
    sv->base = event_base_new();
    mm_shutdown *sd = sv->base ? mm_shutdown_install(sv->base, on_shutdown, sv, false) : NULL;
    sv->sigchld = sv->base ? evsignal_new(sv->base, SIGCHLD, on_sigchld, sv) : NULL;
    int rc = (sd && sv->sigchld && evsignal_add(sv->sigchld, NULL) == 0) ? 0 : MM_ESYS;
    for (size_t i = 0; rc == 0 && i < cfg->n_daemons; i++) {
        if (!cfg->daemons[i].enabled)
            continue;
        struct child *k = &sv->kids[sv->n++];
        k->spec = &cfg->daemons[i];
        k->sv = sv;
    }
    if (rc == 0 && banner)
        print_banner(sv, banner);
    for (size_t i = 0; rc == 0 && i < sv->n; i++)
        if (spawn(&sv->kids[i]) < 0)
            child_exited(sv, &sv->kids[i], 127 << 8);
    if (rc == 0) {
        /* With no daemon the loop would have only signal events, which do
         * not keep libevent running by themselves in every backend: keep the
         * loop alive explicitly until a signal ends it. */
        event_base_loop(sv->base, EVLOOP_NO_EXIT_ON_EMPTY);
        mm_log_info("suite-stopped", "signal=%d", mm_shutdown_signal(sd));
    }
    for (size_t i = 0; i < sv->n; i++) {
        /* Left running only if a second signal cut the grace period short. */
        if (sv->kids[i].pid > 0) {
            kill(-sv->kids[i].pid, SIGKILL); /* the whole process group */
            waitpid(sv->kids[i].pid, NULL, 0);
        }
        mm_timer_free(sv->kids[i].restart_timer);
    }
    mm_timer_free(sv->kill_timer);
    if (sv->sigchld)
        event_free(sv->sigchld);
    mm_shutdown_free(sd);
    if (sv->base)
        event_base_free(sv->base);
    free(sv);
    return rc;
}
