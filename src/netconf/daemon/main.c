/*
 * mamori-netconfd - NETCONF server over TLS (RFC 7589).
 *
 * Reads its options, makes sure the PKI exists, starts the engine on its
 * datastore (seeding a secure default configuration on first start), binds
 * the TLS endpoints configured in ietf-netconf-server, and runs the loop.
 * Changes to ietf-netconf-server over NETCONF re-bind endpoints and replace
 * the cert-to-name map at once.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mamori/mm_core.h"
#include "mamori/mm_event.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_netconf_tls.h"
#include "mamori/mm_pki.h"
#include "netconfd.h"

struct opts {
    char state_dir[1024], pki_dir[1024], module_dir[1024];
    const char *address, *crl_file, *recovery_user, *log_level;
    uint16_t port;
    uint32_t verify_ms;
    size_t max_message;
};

struct daemon {
    struct opts o;
    struct event_base *base;
    mm_nc_server *engine;
    mm_nc_tls_server *tls;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mamori-netconfd [options]\n\n"
            "NETCONF server over TLS 1.3 (RFC 7589) with mutual X.509, cert-to-name,\n"
            "NACM and hybrid post-quantum key exchange.\n\n"
            "  --state-dir D      datastores and audit log (default $MM_STATE_DIR/netconf\n"
            "                     or ./var/netconf)\n"
            "  --pki-dir D        the local PKI (default $MM_PKI_DIR or ./var/pki; created\n"
            "                     if missing)\n"
            "  --module-dir D     serve every YANG module in D, besides the NETCONF ones\n"
            "  --address A        first-start listen address (default ::1)\n"
            "  --port P           first-start listen port (default %d)\n"
            "  --crl FILE         PEM CRL checked for every client, re-read when it changes\n"
            "  --verify-ms N      continuous verification period (default %d)\n"
            "  --recovery-user U  user that bypasses NACM (RFC 8341 recovery session)\n"
            "  --max-message N    largest NETCONF message accepted, bytes\n"
            "  --log-level L      error|warn|info|debug (default $MM_LOG_LEVEL or info)\n\n"
            "After the first start the listen endpoints, trust anchors and cert-to-name\n"
            "maps are configuration data (ietf-netconf-server) managed over NETCONF.\n",
            MM_NC_TLS_PORT, MM_NC_TLS_DEFAULT_VERIFY_MS);
}

static void env_default(char *out, size_t len, const char *env, const char *sub,
                        const char *fallback)
{
    const char *v = getenv(env);
    if (v && *v)
        snprintf(out, len, "%s%s", v, sub);
    else
        snprintf(out, len, "%s", fallback);
}

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {
        {"state-dir", required_argument, 0, 's'}, {"pki-dir", required_argument, 0, 'p'},
        {"module-dir", required_argument, 0, 'm'}, {"address", required_argument, 0, 'a'},
        {"port", required_argument, 0, 'P'},      {"crl", required_argument, 0, 'c'},
        {"verify-ms", required_argument, 0, 'v'}, {"recovery-user", required_argument, 0, 'r'},
        {"max-message", required_argument, 0, 'M'}, {"log-level", required_argument, 0, 'l'},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
    env_default(o->state_dir, sizeof(o->state_dir), "MM_STATE_DIR", "/netconf", "./var/netconf");
    env_default(o->pki_dir, sizeof(o->pki_dir), "MM_PKI_DIR", "", "./var/pki");
    o->address = "::1";
    o->port = MM_NC_TLS_PORT;
    o->log_level = getenv("MM_LOG_LEVEL") ? getenv("MM_LOG_LEVEL") : "info";
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 's': snprintf(o->state_dir, sizeof(o->state_dir), "%s", optarg); break;
        case 'p': snprintf(o->pki_dir, sizeof(o->pki_dir), "%s", optarg); break;
        case 'm': snprintf(o->module_dir, sizeof(o->module_dir), "%s", optarg); break;
        case 'a': o->address = optarg; break;
        case 'c': o->crl_file = optarg; break;
        case 'r': o->recovery_user = optarg; break;
        case 'l': o->log_level = optarg; break;
        case 'P': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || v > 65535) {
                fprintf(stderr, "mamori-netconfd: bad --port '%s'\n", optarg);
                return 2;
            }
            o->port = (uint16_t)v;
            break;
        }
        case 'v': o->verify_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'M': o->max_message = strtoul(optarg, NULL, 10); break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mamori-netconfd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

static int mkdir_p(const char *dir)
{
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return MM_ESYS;
        *p = '/';
    }
    return (mkdir(tmp, 0700) == 0 || errno == EEXIST) ? 0 : MM_ESYS;
}

/*
 * First start: write the seed configuration as running.xml and startup.xml
 * (the engine's datastore files) so the engine starts from it.
 */
static int seed_if_new(const struct opts *o)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/running.xml", o->state_dir);
    if (access(path, F_OK) == 0)
        return 0;
    char *json = NULL;
    MM_GUARD(mm_netconfd_seed_json(o->pki_dir, o->address, o->port, &json));
    struct ly_ctx *ctx = NULL;
    struct lyd_node *tree = NULL;
    mm_nc_server_config cfg = {.module_dir = o->module_dir[0] ? o->module_dir : NULL,
                               .state_dir = o->state_dir};
    int rc = mm_nc_server_ctx_new(&cfg, &ctx);
    if (rc == 0 && lyd_parse_data_mem(ctx, json, LYD_JSON, LYD_PARSE_STRICT | LYD_PARSE_NO_STATE,
                                      LYD_VALIDATE_PRESENT | LYD_VALIDATE_NO_STATE,
                                      &tree) != LY_SUCCESS) {
        mm_log_error("netconfd-seed", "err=\"%s\"", ly_errmsg(ctx));
        rc = MM_ECONFIG;
    }
    static const char *const files[] = {"running.xml", "startup.xml"};
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

/* ietf-netconf-server changed in running: re-read and apply it. */
static void on_running_changed(mm_nc_server *srv, void *arg)
{
    struct daemon *d = arg;
    mm_nc_tls_settings *s = calloc(1, sizeof(*s));
    if (!s)
        return;
    int rc = mm_netconfd_settings_from_running(mm_nc_server_running(srv), d->o.pki_dir,
                                               d->o.state_dir, s);
    if (rc == 0) {
        snprintf(s->crl_file, sizeof(s->crl_file), "%s", d->o.crl_file ? d->o.crl_file : "");
        s->verify_interval_ms = d->o.verify_ms;
        rc = d->tls ? mm_nc_tls_server_apply(d->tls, s) : 0;
    }
    if (rc < 0)
        mm_log_error("netconfd-reconfigure", "err=\"%s\"", mm_strerror(rc));
    free(s);
}

static int start(struct daemon *d)
{
    struct opts *o = &d->o;
    if (!mm_pki_exists(o->pki_dir)) {
        mm_log_info("netconfd-pki", "dir=%s action=init", o->pki_dir);
        MM_GUARD(mm_pki_init(o->pki_dir, false));
    }
    MM_GUARD(mkdir_p(o->state_dir));
    MM_GUARD(seed_if_new(o));
    mm_nc_server_config cfg = {.module_dir = o->module_dir[0] ? o->module_dir : NULL,
                               .state_dir = o->state_dir, .max_message = o->max_message,
                               .recovery_user = o->recovery_user};
    MM_GUARD(mm_nc_server_new(&cfg, d->base, &d->engine));
    mm_nc_tls_settings *s = calloc(1, sizeof(*s));
    if (!s)
        return MM_ENOMEM;
    int rc = mm_netconfd_settings_from_running(mm_nc_server_running(d->engine), o->pki_dir,
                                               o->state_dir, s);
    if (rc == MM_ENOENT)
        mm_log_error("netconfd-listen", "err=\"running has no TLS endpoint in %s\"",
                     MM_NETCONFD_ENDPOINTS);
    if (rc == 0) {
        snprintf(s->crl_file, sizeof(s->crl_file), "%s", o->crl_file ? o->crl_file : "");
        s->verify_interval_ms = o->verify_ms;
        rc = mm_nc_tls_server_new(d->engine, d->base, s, &d->tls);
    }
    free(s);
    if (rc == 0)
        mm_nc_server_on_running_changed(d->engine, on_running_changed, d);
    return rc;
}

int main(int argc, char **argv)
{
    struct daemon d;
    memset(&d, 0, sizeof(d));
    int prc = parse(argc, argv, &d.o);
    if (prc)
        return prc == 1 ? 0 : 2;
    enum mm_log_level lvl = MM_LOG_INFO;
    if (mm_log_level_parse(d.o.log_level, &lvl) < 0) {
        fprintf(stderr, "mamori-netconfd: bad log level '%s'\n", d.o.log_level);
        return 2;
    }
    mm_log_setup("mamori-netconfd", MM_LOG_STDERR, lvl);
    ly_log_level(lvl >= MM_LOG_DEBUG ? LY_LLWRN : LY_LLERR); /* yuma modules warn harmlessly */
    d.base = event_base_new();
    mm_shutdown *sd = d.base ? mm_shutdown_install(d.base, NULL, NULL, true) : NULL;
    int rc = sd ? start(&d) : MM_ESYS;
    if (rc == 0) {
        for (size_t i = 0; mm_nc_tls_server_port(d.tls, i); i++)
            mm_log_info("netconfd-ready", "port=%u", mm_nc_tls_server_port(d.tls, i));
        event_base_dispatch(d.base);
    } else {
        mm_log_error("netconfd-start", "err=\"%s\"", mm_strerror(rc));
    }
    mm_nc_tls_server_free(d.tls);
    mm_nc_server_free(d.engine);
    mm_shutdown_free(sd);
    if (d.base)
        event_base_free(d.base);
    return rc == 0 ? 0 : 1;
}
