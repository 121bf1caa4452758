/*
 * mamori-bmpd - BMP collector (RFC 7854, 8671, 9069).
 *
 * Reads its options, opens the outputs and the audit log, binds the
 * listeners (loopback by default), connects out to routers that listen,
 * and runs the loop until SIGINT/SIGTERM.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmpd.h"
#include "mamori/mm_core.h"
#include "mamori/mm_event.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mamori-bmpd [options]\n\n"
            "BMP collector: routers stream BGP Monitoring Protocol to it; it writes JSON Lines,\n"
            "a SQLite store and Prometheus metrics.\n\n"
            "  --listen ADDR        listen address, repeatable (default 127.0.0.1 and ::1)\n"
            "  --port P             listen port (default 1790; 0 picks one)\n"
            "  --port-file FILE     write the bound port to FILE once listening\n"
            "  --tls-port P         also listen with TLS 1.3 on P (0 picks one) on every listen\n"
            "                       address; routers must present a client certificate of the\n"
            "                       PKI's CA (stunnel or `mamori bmp replay --tls` in front)\n"
            "  --tls-port-file FILE write the bound TLS port to FILE\n"
            "  --pki-dir DIR        the PKI (ca.crt, server.crt, server.key; created if absent)\n"
            "                       (default $MM_STATE_DIR/pki or ./var/pki)\n"
            "  --tls-allow-name NAME  allow only this certificate identity (subjectAltName,\n"
            "                       else CN), repeatable (default: any certificate of the CA)\n"
            "  --allow CIDR         allow routers from CIDR, repeatable (default: loopback only)\n"
            "  --connect ADDR:PORT  connect out to a router that listens, repeatable\n"
            "  --jsonl FILE|-       JSON Lines output (pmacct-style field names)\n"
            "  --jsonl-rotate-mb N  rotate the JSON Lines file at N MiB (default: never)\n"
            "  --jsonl-keep N       rotated files kept (default 5)\n"
            "  --db FILE            SQLite store of routers, peers, up/down history, statistics\n"
            "  --pg CONNINFO        PostgreSQL store shared by several collectors (libpq URI,\n"
            "                       e.g. postgresql://bmp@db.example/bmp)\n"
            "  --pg-queue-mb N      rows waiting for PostgreSQL, bound in MiB (default 64)\n"
            "  --pg-overflow drop|pause  when that queue is full: drop rows (counted, logged,\n"
            "                       audited; default) or stop reading routers until it drains\n"
            "  --collector NAME     this collector's name in the shared store (default host:port)\n"
            "  --audit FILE         audit log (default $MM_STATE_DIR/bmp/audit.log or\n"
            "                       ./var/bmp/audit.log)\n"
            "  --metrics [ADDR:]PORT  Prometheus /metrics on loopback (ADDR default 127.0.0.1)\n"
            "  --max-msg BYTES      largest BMP message accepted (default 1048576)\n"
            "  --idle-timeout S     end a session silent for S seconds (default 3600; 0 = never)\n"
            "  --max-routers N      concurrent router sessions (default 256)\n"
            "  --stat-type T:KIND:NAME  add a statistics type (KIND counter32|gauge64|\n"
            "                       afi-safi-gauge64|opaque), e.g. a draft's code\n"
            "  --log-level L        error|warn|info|debug (default $MM_LOG_LEVEL or info)\n");
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v > max)
        return MM_EINVAL;
    *out = (uint32_t)v;
    return 0;
}

static int parse_stat_type(const char *s)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    char *kind = strchr(buf, ':');
    char *name = kind ? strchr(kind + 1, ':') : NULL;
    if (!kind || !name)
        return MM_EINVAL;
    *kind++ = 0;
    *name++ = 0;
    uint32_t type;
    MM_GUARD(parse_u32(buf, 65535, &type));
    for (int k = 0; k <= MM_BMP_STAT_OPAQUE; k++)
        if (strcmp(kind, mm_bmp_stat_kind_name((enum mm_bmp_stat_kind)k)) == 0)
            return mm_bmp_stat_type_add((uint16_t)type, (enum mm_bmp_stat_kind)k, name, name);
    return MM_EINVAL;
}

static char pki_buf[1024];

static int parse(int argc, char **argv, bmpd_config *c, const char **log_level, char *audit_buf,
                 size_t audit_len)
{
    static const struct option longs[] = {{"listen", required_argument, 0, 'L'},
                                          {"port", required_argument, 0, 'p'},
                                          {"port-file", required_argument, 0, 'F'},
                                          {"allow", required_argument, 0, 'a'},
                                          {"connect", required_argument, 0, 'c'},
                                          {"jsonl", required_argument, 0, 'j'},
                                          {"jsonl-rotate-mb", required_argument, 0, 'R'},
                                          {"jsonl-keep", required_argument, 0, 'K'},
                                          {"db", required_argument, 0, 'd'},
                                          {"audit", required_argument, 0, 'A'},
                                          {"pg", required_argument, 0, 'P'},
                                          {"pg-queue-mb", required_argument, 0, 'Q'},
                                          {"pg-overflow", required_argument, 0, 'O'},
                                          {"collector", required_argument, 0, 'C'},
                                          {"tls-port", required_argument, 0, 'T'},
                                          {"tls-port-file", required_argument, 0, 'U'},
                                          {"pki-dir", required_argument, 0, 'k'},
                                          {"tls-allow-name", required_argument, 0, 'N'},
                                          {"metrics", required_argument, 0, 'm'},
                                          {"max-msg", required_argument, 0, 'M'},
                                          {"idle-timeout", required_argument, 0, 'i'},
                                          {"max-routers", required_argument, 0, 'r'},
                                          {"stat-type", required_argument, 0, 'S'},
                                          {"log-level", required_argument, 0, 'l'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    bmpd_config_defaults(c);
    const char *st = getenv("MM_STATE_DIR");
    if (st && *st)
        snprintf(audit_buf, audit_len, "%s/bmp/audit.log", st);
    else
        snprintf(audit_buf, audit_len, "./var/bmp/audit.log");
    c->audit_path = audit_buf;
    snprintf(pki_buf, sizeof(pki_buf), "%s/pki", st && *st ? st : "./var");
    c->pki_dir = pki_buf;
    *log_level = getenv("MM_LOG_LEVEL") ? getenv("MM_LOG_LEVEL") : "info";
    int o;
    uint32_t v;
    while ((o = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        int bad = 0;
        switch (o) {
        case 'L':
            if (c->n_listen == BMPD_MAX_LISTEN)
                bad = 1;
            else
                c->listen[c->n_listen++] = optarg;
            break;
        case 'p':
            bad = parse_u32(optarg, 65535, &v) < 0;
            c->port = (uint16_t)v;
            break;
        case 'F':
            c->port_file = optarg;
            break;
        case 'a':
            bad = c->n_allow == BMPD_MAX_ALLOW ||
                  bmpd_prefix_parse(optarg, &c->allow[c->n_allow]) < 0;
            if (!bad)
                c->n_allow++;
            break;
        case 'c':
            if (c->n_connect == BMPD_MAX_CONNECT)
                bad = 1;
            else
                c->connect[c->n_connect++] = optarg;
            break;
        case 'j':
            c->jsonl_path = optarg;
            break;
        case 'R':
            bad = parse_u32(optarg, 1u << 20, &v) < 0;
            c->jsonl_rotate_bytes = (uint64_t)v << 20;
            break;
        case 'K':
            bad = parse_u32(optarg, 1000, &v) < 0;
            c->jsonl_keep = v;
            break;
        case 'd':
            c->db_path = optarg;
            break;
        case 'A':
            c->audit_path = optarg;
            break;
        case 'P':
            c->pg_conninfo = optarg;
            break;
        case 'Q':
            bad = parse_u32(optarg, 1u << 16, &v) < 0 || v == 0;
            c->pg_queue_bytes = (uint64_t)v << 20;
            break;
        case 'O':
            if (strcmp(optarg, "drop") == 0)
                c->pg_overflow = MM_BMP_PG_DROP;
            else if (strcmp(optarg, "pause") == 0)
                c->pg_overflow = MM_BMP_PG_PAUSE;
            else
                bad = 1;
            break;
        case 'C':
            c->collector = optarg;
            break;
        case 'T':
            bad = parse_u32(optarg, 65535, &v) < 0;
            c->tls_port = (uint16_t)v;
            c->tls_port_set = true;
            break;
        case 'U':
            c->tls_port_file = optarg;
            break;
        case 'k':
            c->pki_dir = optarg;
            break;
        case 'N':
            if (c->n_tls_names == BMPD_MAX_TLS_NAMES || !*optarg)
                bad = 1;
            else
                c->tls_names[c->n_tls_names++] = optarg;
            break;
        case 'm': {
            static char addr[64];
            const char *colon = strrchr(optarg, ':');
            c->metrics = true;
            if (colon) {
                size_t n = (size_t)(colon - optarg);
                if (n >= sizeof(addr)) {
                    bad = 1;
                    break;
                }
                memcpy(addr, optarg[0] == '[' ? optarg + 1 : optarg, n);
                addr[optarg[0] == '[' ? n - 2 : n] = 0;
                c->metrics_addr = addr;
                bad = parse_u32(colon + 1, 65535, &v) < 0;
            } else {
                bad = parse_u32(optarg, 65535, &v) < 0;
            }
            c->metrics_port = (uint16_t)v;
            break;
        }
        case 'M':
            bad = parse_u32(optarg, 1u << 30, &v) < 0 || v < 64;
            c->max_msg = v;
            break;
        case 'i':
            bad = parse_u32(optarg, 86400 * 7, &v) < 0;
            c->idle_timeout_s = v;
            break;
        case 'r':
            bad = parse_u32(optarg, 100000, &v) < 0 || v == 0;
            c->max_routers = v;
            break;
        case 'S':
            bad = parse_stat_type(optarg) < 0;
            break;
        case 'l':
            *log_level = optarg;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
        if (bad) {
            const char *name = "?";
            for (size_t i = 0; longs[i].name; i++)
                if (longs[i].val == o)
                    name = longs[i].name;
            fprintf(stderr, "mamori-bmpd: bad value for --%s: '%s'\n", name, optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mamori-bmpd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (c->n_listen == 0) {
        c->listen[c->n_listen++] = "127.0.0.1";
        c->listen[c->n_listen++] = "::1";
    }
    return 0;
}

int main(int argc, char **argv)
{
    bmpd_config cfg;
    const char *level;
    char audit_path[1024];
    int rc = parse(argc, argv, &cfg, &level, audit_path, sizeof(audit_path));
    if (rc)
        return rc == 1 ? 0 : 2;
    enum mm_log_level lv;
    if (mm_log_level_parse(level, &lv) < 0) {
        fprintf(stderr, "mamori-bmpd: bad log level '%s'\n", level);
        return 2;
    }
    mm_log_setup("mamori-bmpd", MM_LOG_STDERR, lv);
    /* The directories of every output file (0700), e.g. under mamori up's state dir. */
    const char *outputs[] = {cfg.audit_path, cfg.db_path,
                             cfg.jsonl_path && strcmp(cfg.jsonl_path, "-") ? cfg.jsonl_path : NULL};
    for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
        char dir[1024];
        if (!outputs[i] || snprintf(dir, sizeof(dir), "%s", outputs[i]) >= (int)sizeof(dir))
            continue;
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = 0;
            mm_mkdir_p(dir, 0700);
        }
    }
    struct event_base *base = event_base_new();
    if (!base)
        return 1;
    mm_shutdown *sd = mm_shutdown_install(base, NULL, NULL, true);
    bmpd *d;
    if ((rc = bmpd_start(base, &cfg, &d)) < 0) {
        fprintf(stderr, "mamori-bmpd: cannot start: %s\n", mm_strerror(rc));
        mm_shutdown_free(sd);
        event_base_free(base);
        return 1;
    }
    mm_log_info("ready", "routers_max=%u max_msg=%u idle_timeout_s=%u", cfg.max_routers,
                cfg.max_msg, cfg.idle_timeout_s);
    event_base_dispatch(base);
    mm_log_info("stop", "signal=%d", mm_shutdown_signal(sd));
    bmpd_stop(d);
    mm_shutdown_free(sd);
    event_base_free(base);
    return 0;
}
