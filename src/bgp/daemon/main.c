/*
 * mamori-bgpd - BGP-4 speaker for FlowSpec (RFC 8955/8956) with IFIT
 * instructions, controlled by `mamori bgp`.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgpd.h"
#include "mamori/mm_core.h"
#include "mamori/mm_event.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mamori-bgpd --config FILE [options]\n\n"
               "BGP speaker: FlowSpec v4/v6 with traffic actions and IFIT instructions.\n\n"
               "  --config FILE      JSON configuration (docs/bgpd.md)\n"
               "  --check            validate the configuration and exit\n"
               "  --control PATH     control socket (overrides the config; default\n"
               "                     $MM_STATE_DIR/bgp/control.sock or ./var/bgp/control.sock)\n"
               "  --audit FILE       audit log (overrides the config; default beside the socket)\n"
               "  --log-level L      error|warn|info|debug (default $MM_LOG_LEVEL or info)\n");
}

static void parent_mkdir(const char *path)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        mm_mkdir_p(dir, 0700);
    }
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"config", required_argument, 0, 'c'}, {"check", no_argument, 0, 'C'},
        {"control", required_argument, 0, 's'}, {"audit", required_argument, 0, 'a'},
        {"log-level", required_argument, 0, 'l'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *cfg_path = NULL, *ctl = NULL, *aud = NULL;
    const char *level = getenv("MM_LOG_LEVEL") ? getenv("MM_LOG_LEVEL") : "info";
    bool check = false;
    int o;
    while ((o = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (o) {
        case 'c': cfg_path = optarg; break;
        case 'C': check = true; break;
        case 's': ctl = optarg; break;
        case 'a': aud = optarg; break;
        case 'l': level = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!cfg_path || optind < argc) {
        usage(stderr);
        return 2;
    }
    enum mm_log_level lv;
    if (mm_log_level_parse(level, &lv) < 0) {
        fprintf(stderr, "mamori-bgpd: bad log level '%s'\n", level);
        return 2;
    }
    mm_log_setup("mamori-bgpd", MM_LOG_STDERR, lv);
    static bgpd_config cfg;
    char err[512];
    if (bgpd_config_load(cfg_path, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "mamori-bgpd: %s\n", err);
        return 2;
    }
    if (check) {
        printf("mamori-bgpd: %s is valid (%zu neighbors)\n", cfg_path, cfg.n_peers);
        bgpd_config_free(&cfg);
        return 0;
    }
    const char *st = getenv("MM_STATE_DIR");
    char base_dir[200];
    snprintf(base_dir, sizeof(base_dir), "%s/bgp", st && *st ? st : "./var");
    if (ctl)
        snprintf(cfg.control_socket, sizeof(cfg.control_socket), "%s", ctl);
    else if (!cfg.control_socket[0])
        snprintf(cfg.control_socket, sizeof(cfg.control_socket), "%s/control.sock", base_dir);
    if (aud)
        snprintf(cfg.audit_path, sizeof(cfg.audit_path), "%s", aud);
    else if (!cfg.audit_path[0])
        snprintf(cfg.audit_path, sizeof(cfg.audit_path), "%s/audit.log", base_dir);
    parent_mkdir(cfg.control_socket);
    parent_mkdir(cfg.audit_path);
    struct event_base *base = event_base_new();
    if (!base)
        return 1;
    mm_shutdown *sd = mm_shutdown_install(base, NULL, NULL, true);
    bgpd *d;
    int rc = bgpd_start(base, &cfg, &d);
    if (rc < 0) {
        fprintf(stderr, "mamori-bgpd: cannot start: %s\n", mm_strerror(rc));
        mm_shutdown_free(sd);
        event_base_free(base);
        bgpd_config_free(&cfg);
        return 1;
    }
    mm_log_info("ready", "as=%u listen=%s:%u neighbors=%zu control=%s", cfg.local_as,
                cfg.listen ? cfg.listen_address : "-", cfg.listen_port, cfg.n_peers,
                cfg.control_socket);
    event_base_dispatch(base);
    mm_log_info("stop", "signal=%d", mm_shutdown_signal(sd));
    bgpd_stop(d);
    mm_shutdown_free(sd);
    event_base_free(base);
    bgpd_config_free(&cfg);
    return 0;
}
